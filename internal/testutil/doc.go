// Package testutil holds helpers shared by the tests of every package:
// Eventually, the one way a test waits for something to become true;
// Cluster, a real cluster of `rayflow start` processes that tests compare
// embedded runs with (and WithoutPlaces, which takes node names and job
// IDs out of what two clusters print); OpenPTY and Screen, a terminal a
// test drives as a person would.
//
// Its one piece of state is the counter from which StartCluster hands
// out port ranges, guarded by its own lock. A Cluster belongs to whoever
// started it, who stops it; a Screen's buffer is written by its reader
// goroutine and read under its lock. Functions that take a testing.TB
// may be called from any goroutine that may call t.Fatalf (the test's
// own).
package testutil
