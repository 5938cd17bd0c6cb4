// Package headclient is a process's view of the cluster as the heads
// report it. For now it holds Liveness: which nodes are alive, which
// died, and which life (epoch) of a node served at an address, read from
// the heads' membership table; it tells the rest of the process of each
// death once, and lets a goroutine wait for a node's death instead of
// polling for it.
//
// # Ownership and threading
//
// A Liveness owns its maps (the dead addresses seen, the epoch last seen
// alive at each address, the dead lives counted at addresses where a new
// life now serves, the waiters for each address's death), guarded by its
// mutex; any goroutine may call its methods. Looks at the membership
// table are serialised by a second mutex (looking), held across the read
// and its application, so that two looks are never applied out of order.
//
// The node agent (package nodeagent) owns one Liveness per networked
// process; its dead-node watcher calls Look, and its senders and fetchers
// call IsDead, Known and Died.
package headclient
