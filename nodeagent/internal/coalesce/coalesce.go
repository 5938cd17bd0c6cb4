package coalesce

import (
	"runtime"
	"sync"
)

// Sender gathers items per address and sends each address's gathered
// items with one call of its send function.
type Sender[T any] struct {
	send func(addr string, items []T)

	mu      sync.Mutex
	pending map[string]*gathered[T]
}

// gathered is what one address has gathered: the items not sent yet,
// whether a goroutine is sending (its leader), and a spare slice the
// leader gives back after a send so that steady traffic allocates none.
type gathered[T any] struct {
	items   []T
	spare   []T
	leading bool
}

// New returns a Sender whose leaders call send with the items gathered
// for an address (never empty; send must not keep the slice).
func New[T any](send func(addr string, items []T)) *Sender[T] {
	return &Sender[T]{send: send, pending: map[string]*gathered[T]{}}
}

// Add queues item for addr. When no send to addr is under way, the
// caller leads: it sends, before it returns, item and what the other
// goroutines add meanwhile; what they add during that send, a goroutine
// of the Sender's sends (Package doc).
func (s *Sender[T]) Add(addr string, item T) {
	s.mu.Lock()
	g := s.pending[addr]
	if g == nil {
		g = &gathered[T]{}
		s.pending[addr] = g
	}
	g.items = append(g.items, item)
	if g.leading {
		s.mu.Unlock()
		return
	}
	g.leading = true
	s.mu.Unlock()
	if s.sendGathered(addr, g) {
		go s.lead(addr, g)
	}
}

// lead sends what addr gathers until nothing is left. It runs on a
// goroutine of its own, not on a caller's: a caller leads for one send,
// so that it is not held sending for the others while its own answer
// waits.
func (s *Sender[T]) lead(addr string, g *gathered[T]) {
	for s.sendGathered(addr, g) {
	}
}

// sendGathered yields once, then sends, as addr's leader, every item
// gathered for addr. It reports whether more were gathered during the
// send (the caller keeps the lead, and must send them); else it gives up
// the lead. An address's entry stays (the addresses sent to are the
// cluster's processes: few).
func (s *Sender[T]) sendGathered(addr string, g *gathered[T]) bool {
	runtime.Gosched() // the goroutines ready to run add their items first
	s.mu.Lock()
	items := g.items
	if len(items) == 0 {
		g.leading = false
		s.mu.Unlock()
		return false
	}
	g.items, g.spare = g.spare[:0], nil
	s.mu.Unlock()
	s.send(addr, items)
	clear(items) // no reference kept to what was sent
	s.mu.Lock()
	defer s.mu.Unlock()
	g.spare = items[:0]
	if len(g.items) == 0 {
		g.leading = false
		return false
	}
	return true
}
