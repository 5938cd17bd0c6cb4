// Package exec is rayflow's evaluator: the values of the language, the
// closure compiler that turns a resolved program into Go closures, the
// interpreter state of one running thread (call stack, cancellation, step
// limit), runtime errors, and the Runtime interface through which task and
// actor calls leave the evaluator. It owns no placement or transport: the
// node agent implements Runtime.
//
// # Ownership and threading
//
// A Thread is one flow of evaluation (a driver, one task run, one actor's
// method loop). Its call stack, frame pool, step count, call sequence and
// Local map are unlocked: a Thread is used by one goroutine at a time.
// Only Cancel, Cancelled and Done may be called from any goroutine (the
// reason is an atomic pointer, the done channel is guarded by doneMu).
//
// A Program (made by Load) owns its globals, the bound built-ins and
// modules, and its Function and ActorClass maps; Load fills them on one
// goroutine, and afterwards they are only read (Hash is set once by the
// loader, before the program is shared). The compiled closures keep no
// state of their own, so any number of threads run one Program at once.
// A constant's list or map is copied on each read, so no thread changes
// what another sees. A Module's Members are filled by its constructor
// and only read afterwards; the modules are shared by every thread of
// the programs that use them.
//
// Values: strings and tensors are immutable; a List or Map has no lock
// and belongs to the thread that holds it. Whatever crosses a task,
// actor or put/get boundary is copied first (CopyValue: lists and maps
// deeply, host objects that implement Copier), so no list or map is
// shared between threads. A Future's or ActorHandle's Handle belongs to
// the Runtime that made it.
//
// The plan: Program.Plan (the planner's decisions) is fixed at Load and
// only read; Program.PlanStats are atomic counters and Program.Adapt
// (planner/adapt) is safe for any goroutine. What the decisions keep on a
// thread — calls waiting in its group (group.go), the calls a loop
// started ahead (ahead.go), template slots — is in Thread.planned, made
// on first use and, like the rest of a Thread, used by its goroutine
// only.
//
// Package-level state: the tables of built-ins and of methods (filled at
// init, then only read), None/True/False, and two hooks, TensorArith and
// StringFormat, that package stdlib sets in its init (exec cannot import
// stdlib); nothing may set them after init, as they are read without a
// lock by every thread.
//
// Consumers: nodeagent (which implements Runtime and runs threads),
// frontend, stdlib (its modules are exec Modules), planner (constant
// folding), nodeagent/wire and nodeagent/objstore (value encoding), the
// root package and the command line. exec imports only lang and
// compiler.
package exec
