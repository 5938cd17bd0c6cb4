// Package owner is what a process keeps as the owner of the calls it
// makes (Ray's ownership): for now OrderLog, the places its method calls
// took in their actors' order and the specifications of its calls on
// actors it was handed, which a restart of those actors reads back when
// their host died before its stash wrote them to the GCS.
//
// The rest of the owner's state (the results it awaits from other nodes,
// the lineage of the tasks it sent, the actors it created or was handed,
// and their recovery) is still in package nodeagent, on its network type.
//
// # Ownership and threading
//
// An OrderLog owns its places (a bounded FIFO and an index by actor) and
// its kept calls (a bounded FIFO), guarded by its mutex; any goroutine
// may call it: the connection goroutines that receive answers (Note),
// callers (KeepCall), and the goroutines answering a restart's lineage
// query (Outcomes, Call).
package owner
