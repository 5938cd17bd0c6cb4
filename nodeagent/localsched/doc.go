// Package localsched is a node's local scheduler: the tasks whose
// arguments are ready wait in its queue, in order, and start on worker
// goroutines while their resource demand fits the node's free resources.
// A task blocked in get or wait gives its resources back (Release) and
// takes them back, ahead of the queue, when it resumes (Reacquire), so
// nested tasks never deadlock. Actors hold their resources for their life
// (Hold, Release).
//
// Whether a ready task runs here or spills to the global scheduler is the
// caller's decision (placement.ShouldSpill on State); the scheduler runs
// what it is given.
//
// # Ownership and threading
//
// A Scheduler owns its queue, its running set, its free resources, the
// count of tasks resuming from get/wait and its worker slots, all guarded
// by its mutex; any goroutine may call it. It runs works (Work.Run) on
// long-lived worker goroutines of its own: a worker that finishes a work
// runs the next one that fits, or parks (up to maxIdle parked) until
// dispatch hands it one; none is started per task while one is parked,
// and a worker's grown stack serves the works after. It never calls into
// a Work while holding its lock, except Demand and Cancelled, which must
// not block. Drain (at shutdown) lets the parked workers exit.
//
// The node agent (package nodeagent) owns one Scheduler per node; its
// tasks are the Work.
package localsched
