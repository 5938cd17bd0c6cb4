// Package headclient is a process's side of the heads: Client knows which
// heads there are (learnt from the heads themselves), sends them requests
// with fail-over (the one that answered last first, then the others, with
// bounded backoff, deciding on the remote error's code whether another
// head may do better), and keeps this node's registration with each
// (epochs, heartbeats, registering again when a head forgot this life of
// the node, all heads at once). A head whose last call got no answer is
// down: it is tried after the others and a call to it is cut short, so a
// dead head costs next to nothing. Liveness is what the heads' membership table says of the
// other nodes: which died, and which life of a node serves at an address;
// it reports each death once and lets a goroutine wait for a node's death
// instead of polling for it.
//
// # Ownership and threading
//
// Client owns its list of heads, the index of the one that answered last,
// the epochs and the heads that are down, guarded by its mutex; any
// goroutine may call it. It holds no lock while it calls a head. Liveness
// owns its maps (the dead addresses seen, the epoch last seen alive at
// each address, the dead lives counted at addresses where a new life now
// serves, the waiters for each address's death), guarded by its mutex; its
// looks at the membership table are serialised by a second mutex
// (looking), held across the read and its application, so two looks are
// never applied out of order.
//
// The node agent (package nodeagent) owns one Client and one Liveness per
// networked process: its heartbeat loop drives the Client's heartbeats,
// its dead-node watcher calls Look, and its senders and fetchers call
// IsDead, Known and Died. On a head, the Client serves the head's own
// requests through Local, without the network.
package headclient
