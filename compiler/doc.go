// Package compiler turns a parsed rayflow file into a Program the
// evaluator can run: every name resolved to a slot, a field, a global, a
// built-in or a module; every error found before anything runs (with a
// "did you mean" suggestion where a close name exists); decorators
// checked; each function marked deterministic or not (transitively over
// calls, see determinism.go); and each task call site annotated with its
// lineage (callee, argument sources, resources, retries, determinism).
//
// The compiler writes its resolution into the AST's unexported-by-parser
// fields (Primary.Ref, Let.Slots, ...) so that exec can compile the tree to
// closures without looking names up at run time.
//
// # Ownership and threading
//
// Each Compile call has its own state (the unexported compiler: the
// Program being built and the errors found); the package keeps nothing
// between calls, so Compile may run on several goroutines at once, on
// different files. It writes into the lang.File it is given, which must
// not be compiled or read by another goroutine meanwhile; it only reads
// the Universe, which may be shared (package frontend shares one
// standard Universe between all compilations).
//
// A Program, and everything it holds (Globals, Funcs, Actors, Sites,
// Uses, the Resources maps, the AST it resolved), is the caller's, and
// no package changes it after Compile returns: it is read by any number
// of goroutines at once (exec loads it on every run and every node, the
// planner walks it).
//
// The package-level variables are tables read by the checks:
// decoratorTargets, stringListMapMethods, TypeNames and KnownHints (the
// @hint names the planner understands, empty until the planner adds
// some). They are written by no code today; a package that adds hints
// must do so at init, before any Compile.
//
// Consumers: frontend (the one entry point that compiles source), exec
// (which loads a Program), planner, the REPL; compiler imports only lang
// and internal/bytesize.
package compiler
