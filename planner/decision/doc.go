// Package decision is the hand-off between the planner, which decides
// how a program runs, and exec and the node agent, which carry the
// decisions out. It holds data only: what was decided per call site
// (grouping for batch and fuse, placement), per loop (pipelining), per
// declaration (the arity of tree reductions) and per actor class (the
// placement of its instances), and per template loop (the sites whose
// calls reuse the first iteration's placements). Nothing here decides or
// runs anything.
//
// # Ownership and threading
//
// planner.Decide makes a Set and fills it on one goroutine; afterwards it
// is only read (exec compiles from it, the node agent reads Site through
// exec.TaskCall), by any number of goroutines. A nil *Set or *Site means
// "nothing decided": every accessor is nil-safe, so code without a plan
// runs as before.
//
// Consumers: planner (writes), exec (reads while compiling and running),
// nodeagent (reads a call's Site for placement and grouping). It imports
// only compiler and lang, for the keys.
package decision
