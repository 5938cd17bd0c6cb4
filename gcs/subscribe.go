package gcs

import (
	"sync"
	"sync/atomic"
)

// EventOp says what happened to a row.
type EventOp uint8

const (
	// OpPut means the row was created or replaced; Event.Value holds it.
	OpPut EventOp = iota + 1
	// OpDelete means the row was removed.
	OpDelete
	// OpReset means a shard's tables were replaced by a snapshot (a replica
	// catching up). Table and Key are empty; the subscriber should list the
	// tables it follows again.
	OpReset
)

// String returns "put", "delete" or "reset".
func (o EventOp) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpReset:
		return "reset"
	}
	return "unknown"
}

// Event is one change to one row, delivered to subscribers after the change
// is applied on this replica.
type Event struct {
	Table string
	Key   string
	Op    EventOp
	Shard int
	Index uint64 // raft index of the log entry that made the change
	// Value is the new row for OpPut: a NodeInfo, JobInfo, TaskRecord,
	// ObjectInfo or ActorInfo by table, or the source []byte for programs.
	Value any
}

// DefaultSubscriptionBuffer is the buffer used when Subscribe is given a
// buffer below 1.
const DefaultSubscriptionBuffer = 256

// Subscription receives the change events of one table (or of all tables).
//
// Delivery never blocks the apply path: when the buffer is full the oldest
// undelivered event is dropped to make room, and Dropped counts the losses.
// A subscriber that sees Dropped grow, or an OpReset event, should re-read
// the tables it follows. Events of one shard arrive in log order; events of
// different shards interleave.
type Subscription struct {
	table   string
	hub     *hub
	ch      chan Event
	mu      sync.Mutex // serialises deliveries with Close
	closed  bool
	dropped atomic.Uint64
}

// C returns the channel of events. It is closed by Close and by Store.Close.
func (s *Subscription) C() <-chan Event { return s.ch }

// Dropped returns how many events were dropped because the buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// wants reports whether the subscription follows table.
func (s *Subscription) wants(table string) bool {
	return s.table == "" || s.table == table
}

// deliver enqueues ev, dropping the oldest queued event if the buffer is
// full. Only deliver sends on ch, under mu, so after one receive there is
// room and the final send cannot block.
func (s *Subscription) deliver(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
		return
	default:
	}
	select {
	case <-s.ch:
		s.dropped.Add(1)
	default:
	}
	s.ch <- ev
}

// hub fans applied changes out to subscriptions. One hub serves every shard
// of a store.
type hub struct {
	mu     sync.RWMutex
	subs   map[*Subscription]struct{}
	count  atomic.Int32
	closed bool
}

func newHub() *hub {
	return &hub{subs: make(map[*Subscription]struct{})}
}

// active reports whether anyone listens, so Apply can skip collecting
// changes when no one does.
func (h *hub) active() bool { return h.count.Load() > 0 }

// follows reports whether a subscription follows table.
func (h *hub) follows(table string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.wants(table) {
			return true
		}
	}
	return false
}

func (h *hub) subscribe(table string, buffer int) *Subscription {
	if buffer < 1 {
		buffer = DefaultSubscriptionBuffer
	}
	s := &Subscription{table: table, hub: h, ch: make(chan Event, buffer)}
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.subs[s] = struct{}{}
		h.count.Add(1)
	}
	h.mu.Unlock()
	if closed {
		s.Close()
	}
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		h.count.Add(-1)
	}
}

// publish delivers the changes of one log entry. A row is decoded once, and
// only if some subscription wants its table.
func (h *hub) publish(shard int, index uint64, changes []change) {
	if len(changes) == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range changes {
		var ev *Event
		for s := range h.subs {
			if !s.wants(c.table) {
				continue
			}
			if ev == nil {
				ev = changeEvent(shard, index, c)
			}
			s.deliver(*ev)
		}
	}
}

func changeEvent(shard int, index uint64, c change) *Event {
	ev := &Event{Table: c.table, Key: c.key, Op: c.op, Shard: shard, Index: index}
	if c.op == OpPut {
		ev.Value, _ = decodeTableRow(c.table, c.value) // rows were encoded by this package
	}
	return ev
}

// publishReset tells every subscription that a shard was restored.
func (h *hub) publishReset(shard int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		s.deliver(Event{Op: OpReset, Shard: shard})
	}
}

// close closes every subscription; later subscriptions start closed.
func (h *hub) close() {
	h.mu.Lock()
	subs := make([]*Subscription, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.closed = true
	h.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}
