// Package testutil holds helpers shared by the tests of every package:
// Eventually, the one way a test waits for something to become true, and
// Cluster, a real cluster of `rayflow start` processes that tests compare
// embedded runs with.
//
// It owns no state. Its functions may be called from any test goroutine
// that may call t.Fatalf (the test's own goroutine).
package testutil
