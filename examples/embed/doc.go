// Command embed shows rayflow inside a Go program: it registers a Go
// function as a built-in and another as a task with its resources,
// compiles a rayflow pipeline that uses both, runs it on an embedded
// cluster with a parameter, and reads the result back as Go values.
//
// Run it from the repository root:
//
//	go run ./examples/embed
//
// # Ownership and threading
//
// The program has no package-level variables (its pipeline source is a
// constant). main calls run once, on the main goroutine: run compiles
// the program (rayflow.Compile), runs it (Program.Run starts an embedded
// cluster and shuts it down before it returns) and converts the result
// with rayflow.ToGo. The cluster calls the registered Go functions on
// goroutines of its own: the built-in sentence inline in the calling
// thread, the task shout on workers, possibly several at once. A
// function registered through Options.Builtins or Options.Tasks must be
// safe for that; these two only read their arguments and return new
// values.
//
// It uses only the embedding API (package rayflow, and exec for the
// function signatures and values); its test calls run and checks the
// result.
package main
