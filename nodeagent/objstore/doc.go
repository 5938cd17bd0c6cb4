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
// handles (held by the node agent's objects, held by futures).
//
// # Ownership and threading
//
// A Store owns its LRU list, its byte count, its spill directory and
// every record in it; all of them are guarded by Store.mu and touched
// only by the Store's methods, from any goroutine (task workers that
// publish and read results, the transport's goroutines that serve
// fetches, the runtime's cleanup goroutine). No method calls out of the
// package while holding mu except to encode and decode values and to
// read and write spill files. Handles are immutable; the value behind a
// handle is the store's.
//
// The node agent (package nodeagent) is the only user: each Node has one
// Store, created with the node and closed with it.
package objstore
