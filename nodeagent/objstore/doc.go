// Package objstore is one node's object-store accounting: the large
// values (over InlineLimit bytes) that tasks on the node produced, the
// memory they take, and spilling the least recently used of them to disk
// when the total passes the store's limit (and reading them back).
//
// Values live in memory as Go values. Small results travel with their
// completion and are not counted. A large value is handed to Add, which
// returns a *Handle; the value then belongs to the store, and whoever
// holds the handle reads it through Handle.Load (which brings a spilled
// value back from disk). When no handle is left, the Go collector frees
// it and a cleanup takes it out of the accounting and deletes its spill
// file: that is the store's reference counting, the references being the
// handles (held by Objects, held by futures).
//
// Object is the handle behind an exec.Future: the result of a task, a
// method call or a put, written once (Complete) and read by any number of
// readers (Result, Done, OnReady). A value held by another process is
// fetched when first read through the Fetcher the object was given
// (SetRemote); the process's owner (package owner) implements it,
// rebuilding the value from its lineage when its holder lost it. Once
// the owner has fetched a value no reference to which left it
// (MarkShared), or holds no future of it any more (Drop), the object
// tells its Releaser, which has the holder drop its copy. This package
// does no networking.
//
// # Ownership and threading
//
// A Store owns its LRU list, its byte count, its bytes by job (what a
// job's memory cap bounds: AddFor), its spill directory and every record
// in it; all of them are guarded by Store.mu and touched
// only by the Store's methods, from any goroutine (task workers that
// publish and read results, the transport's goroutines that serve
// fetches, the runtime's cleanup goroutine). No method calls out of the
// package while holding mu except to encode and decode values and to
// read and write spill files. Handles are immutable; the value behind a
// handle is the store's.
//
// An Object owns its value, error, readiness, waiters, producer, store
// handle, remote location, shared mark and releaser, guarded by its mu; whoever completes it (a
// worker, a connection goroutine with a TaskDone) and its readers (get,
// wait, fetch servers) may call it from any goroutine. Its fetching lock
// is held by the one reader that fetches a remote value, never together
// with mu, and mu is never held across a fetch. ID, name, owner and
// producer are set before the object is shared. The store handle, remote
// location, size, fetcher, owner and releaser live in the object's far
// record, made (under mu, or before the object is shared) the first time
// one of them is set; most objects never have one.
//
// Buffers (buffers.go) is the process's pool of large tensor buffers: a
// tensor fetched from another process is received into the memory of
// one that died (no page faults, no zeroing of fresh memory per
// transfer). A buffer comes back only when the Go collector finds no
// pointer into it left anywhere, so one still read by anyone is never
// handed out again. It owns its free lists under its own mutex; Get and
// the collector's finalizers call it from any goroutine.
//
// The node agent (package nodeagent) is the only user of Store: each Node
// has one, created with the node and closed with it.
package objstore
