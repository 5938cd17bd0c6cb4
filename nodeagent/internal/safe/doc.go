// Package safe keeps a bug that panics in a background goroutine of a
// node agent (heartbeats, the membership monitor, the dead-node watcher,
// the object store's cleanup) from taking the whole process down: a head
// that crashes loses the cluster's membership, a node its objects. Each
// such goroutine defers Survive first thing: a panic is logged to stderr
// with its stack, and the loop starts again after a pause; the process
// keeps serving.
//
// It owns one piece of state, the writer panics are reported to
// (stderr; SetOutput swaps it for tests), guarded by its mutex. Any
// goroutine may call its functions.
//
// # Threading
//
// Survive runs on the goroutine that panicked (it must be deferred there,
// since only that goroutine can recover its panic). When it restarts a
// loop, it starts one goroutine that waits RestartPause, or for stop to
// close, and then runs the loop again or closes done; the loop, and the
// stop and done channels, stay the caller's. logPanic writes under the
// mutex, so reports from several goroutines do not interleave.
//
// Consumers: package nodeagent (the heartbeat loop, the dead-node
// watcher, the task spiller, the spillback loop), nodeagent/objstore
// (its cleanup) and nodeagent/head (the
// membership monitor and its change callback). Being internal to
// nodeagent, no other package may import it.
package safe
