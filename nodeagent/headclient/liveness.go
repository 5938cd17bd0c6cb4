package headclient

import (
	"context"
	"strings"
	"sync"
)

// NodeState is one row of the heads' membership table as a process reads
// it: the node's address, its state ("alive" or "dead") and its epoch at
// the head that answered.
type NodeState struct {
	Addr, State, Epoch string
}

// Liveness tracks which nodes of the cluster are dead.
type Liveness struct {
	// looking serialises Look: two looks applied out of order took a
	// node's current life for a dead one.
	looking sync.Mutex

	mu       sync.Mutex
	deadSeen map[string]bool   // addresses known dead
	epochs   map[string]string // address -> "head/epoch" last seen alive
	// deadLives are the dead lives ("address@head/epoch") already counted
	// at an address where another life is alive now.
	deadLives map[string]bool
	// died are the channels closed when an address is declared dead.
	died map[string]chan struct{}
}

// NewLiveness returns a Liveness that knows of no node yet.
func NewLiveness() *Liveness {
	return &Liveness{deadSeen: map[string]bool{}, epochs: map[string]string{},
		deadLives: map[string]bool{}, died: map[string]chan struct{}{}}
}

// ReadFunc reads the membership table from a head: the address of the
// head that answered and its rows.
type ReadFunc func(ctx context.Context) (head string, states []NodeState, err error)

// Look reads the membership table with read and returns the addresses of
// the nodes that died since the last look; each death is reported once.
// A read that fails reports nothing.
func (l *Liveness) Look(ctx context.Context, read ReadFunc) []string {
	l.looking.Lock()
	defer l.looking.Unlock()
	head, states, err := read(ctx)
	if err != nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	alive, dead, deadLives := l.compareLocked(head, states)
	var fresh []string
	for i, addr := range dead {
		if alive[addr] {
			// Another node (or a new life of this one) serves at the dead
			// node's address: the dead life counts once. Counting it at
			// every look re-ran, again and again, the tasks sent to the
			// node now alive there, until their @retries ran out (found by
			// the chaos test: a new node ID on a killed node's port).
			if life := addr + "@" + deadLives[i]; !l.deadLives[life] {
				l.deadLives[life] = true
				fresh = append(fresh, addr)
			}
			continue
		}
		if !l.deadSeen[addr] {
			l.deadSeen[addr] = true
			fresh = append(fresh, addr)
		}
	}
	for addr := range alive {
		delete(l.deadSeen, addr) // came back as a new member
	}
	for _, addr := range fresh {
		if ch, ok := l.died[addr]; ok && !alive[addr] {
			// Only a node dead at its address; a dead earlier life at an
			// address where a new one serves does not end a fetch from it.
			close(ch)
			delete(l.died, addr)
		}
	}
	return fresh
}

// compareLocked sorts the rows read from head into the addresses alive
// now and the dead ones, each dead one with the life ("head/epoch") that
// died there, and records the life alive at each address.
func (l *Liveness) compareLocked(head string, states []NodeState) (alive map[string]bool, dead, deadLives []string) {
	alive = map[string]bool{}
	for _, n := range states {
		epoch := head + "/" + n.Epoch
		if n.State != "alive" {
			dead = append(dead, n.Addr)
			deadLives = append(deadLives, epoch)
			continue
		}
		alive[n.Addr] = true
		// The same address with a new epoch at the same head: the node
		// was restarted (on the same port) between two looks, and what
		// its earlier life held is gone.
		if prev, seen := l.epochs[n.Addr]; seen && prev != epoch && strings.HasPrefix(prev, head+"/") {
			dead = append(dead, n.Addr)
			deadLives = append(deadLives, prev)
		}
		l.epochs[n.Addr] = epoch
	}
	return alive, dead, deadLives
}

// Known reports whether a look has seen a life of the node at addr.
func (l *Liveness) Known(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, known := l.epochs[addr]
	return known
}

// IsDead reports whether the node at addr was declared dead (and no new
// member serves there since).
func (l *Liveness) IsDead(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deadSeen[addr]
}

// Died returns a channel that is closed when a look reports the node at
// addr dead (not merely an earlier life of it, with a new one serving
// there); it is closed already if the node is dead now.
func (l *Liveness) Died(addr string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.deadSeen[addr] {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	ch, ok := l.died[addr]
	if !ok {
		ch = make(chan struct{})
		l.died[addr] = ch
	}
	return ch
}
