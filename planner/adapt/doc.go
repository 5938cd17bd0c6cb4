// Package adapt makes the planner's run-time decisions (--opt adaptive):
// it keeps, per call site the plan marked adaptive, what the runtime
// measured of its calls (how long each ran) and, once it has seen
// enough, decides how many calls of the site to send together, with the
// reason. exec asks it at each call of an adaptive site (Group); the
// node agent tells it what it measured (Observe); `rayflow run
// --explain` prints its decisions (Decisions).
//
// The policy lives here, beside the planner, so that the planner stays
// the one place where optimisation decisions are made; exec and the node
// agent only consult and feed it.
//
// # Ownership and threading
//
// A Table is made by New for one loaded program, before any thread runs
// it; its set of sites is fixed then and only read afterwards. Each
// site's counters are atomics, written by the workers that run its calls
// and read by the threads that make them; the decision log has its own
// mutex. Any number of goroutines may use a Table at once.
package adapt
