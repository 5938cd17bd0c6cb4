// Package frontend is the one way rayflow source becomes a program: parse,
// check against the standard library plus the modules of the process
// (Go functions registered through the embedding API), and plan (the
// planner's decisions from the source's hints, or from --opt through
// PlanWith; a node plans the program it fetched with the options its
// driver used, so every node runs the same plan). The command line, the REPL, the Go API (package
// rayflow) and every node of a cluster (a program fetched by hash from
// the GCS) compile through Compile or CompileFile, so a stage added there
// applies everywhere.
//
// It also says which of those modules a compiled program needs beyond
// the standard library (Needs) and which of them a process lacks
// (Missing), so that a node refuses a program it cannot run with an
// error that names what is missing.
//
// State: none. A Program is immutable once made and may be shared by any
// goroutines; the standard universe is built once, on first use.
package frontend
