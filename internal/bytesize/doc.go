// Package bytesize reads and writes sizes in bytes for people: the one
// parser of memory sizes ("256MB", "1gb", "1.5GiB"), used by
// @resources(memory=...) in the compiler and by --resources and
// --object-store-memory on the command line, and the formatters that
// show byte counts in messages, status and plans.
//
// State: none; every function is pure and safe from any goroutine.
package bytesize
