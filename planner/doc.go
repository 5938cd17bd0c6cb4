// Package planner is where rayflow decides how a program runs. Decide
// (decide*.go) makes every optimisation decision from the paradigm hints
// of the source (@hint) and the options of --opt (opt.go, planner.Default
// is adaptive): which calls go to the scheduler in groups (batch, fuse),
// which loops run ahead (pipeline), which reductions are trees, how calls
// are placed (spread, locality, colocate, template), and which call sites
// are measured and decided while the program runs (adaptive, package
// planner/adapt). Each hint is applied where it is safe and refused with
// a reason elsewhere; the Report says which (rayflow explain). The
// decisions are handed to exec and the node agent as a decision.Set
// (package planner/decision), which they carry out and never change.
//
// It also builds the planned task graph of a program: for each
// pipeline, what is known about its tasks, actors and method calls
// before it runs. `rayflow plan` prints it as text or Graphviz, with the
// decisions noted on its nodes (Annotate).
//
// The graph is built by walking the pipeline's body (walk.go, eval.go):
// loops over constants are unrolled up to a limit, plain fns are inlined,
// and the futures each call returns are followed through variables,
// lists and comprehensions to the calls that use them; what cannot be
// known before running (a while loop, a loop over a run-time value, a
// branch on one) becomes a dynamic region whose call sites show once.
// Rewrite passes (rewrite.go) then change the graph; paradigm hints
// (@hint) will be implemented as such passes.
//
// Constants are folded with exec's own operators and built-ins
// (fold.go), so a folded constant is what the program computes. The
// planner imports exec for its values and operators only; exec never
// imports the planner.
//
// # Ownership and threading
//
// Plan reads the compiler.Program it is given and never changes it, nor
// its AST. All the state of one Plan call (the walker of each pipeline:
// its node counts, folded constants, the nodes and regions found) is its
// own, and the Graph it returns, with its Pipelines, Nodes, Edges and
// Regions, is new and belongs to the caller; rewrite passes change that
// Graph only, during Plan. So Plan and Build may run on several
// goroutines at once, even on one Program; a Graph is then used by one
// goroutine at a time (its Text and Dot only read it).
//
// The one package-level variable is Rewrites, the default passes: empty
// today, and only read by Plan. The passes are to be added at init
// (together with the hint names in compiler.KnownHints), never while
// plans are being made.
//
// Decide, like Plan, reads the compiler.Program and never changes it;
// its Set and Report are new and belong to the caller, and it is
// deterministic: every node that plans a program with the same options
// makes the same Set (the options travel with the program).
//
// Consumers: frontend (every compile plans), cmd/rayflow (`rayflow plan`,
// `rayflow explain`), the REPL (:plan, :explain) and the root package. The
// planner sits between compiler and exec in the data flow: it imports
// lang, compiler and exec (for folding), and none of them imports it.
package planner
