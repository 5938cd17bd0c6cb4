package taskevents

import (
	"strings"
	"sync"

	"github.com/rayflow/rayflow/internal/codec"
)

// Kind is what an event is about.
type Kind uint8

const (
	KindTask   Kind = iota // a task call
	KindMethod             // an actor method call
	KindActor              // an actor itself
)

// State is a task's or an actor's state as an event reports it.
type State uint8

const (
	Pending State = iota
	Running
	Finished
	Failed
	Cancelled
	Alive // an actor (KindActor) that runs
	Dead  // an actor that stopped
)

// TaskStates are the task states, as the state API names them, in order.
var TaskStates = []string{"PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED"}

// ActorStates are the actor states, as the state API names them.
var ActorStates = []string{"ALIVE", "RESTARTING", "DEAD"}

var stateNames = [...]string{"PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED", "ALIVE", "DEAD"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// ended reports whether a task in state s is over.
func (s State) ended() bool { return s == Finished || s == Failed || s == Cancelled }

// Event is one transition of a task, a method call or an actor.
type Event struct {
	ID    string // the task, call or actor ID (it starts with the job ID and a dot)
	Name  string // the function or method name; an actor's class
	Kind  Kind
	State State
	Node  string // where it is queued, runs, ran or lives; "" when not placed yet
	// Worker is the worker slot a task ran on, -1 for none (a method).
	Worker int32
	Error  string // a failure's kind and message
	// At is when the transition happened (0 for a submission, which
	// needs none: table.go, rank); Start, on an end, when the run began
	// (0: it never ran). Unix nanoseconds.
	At, Start int64
	// Restarts and MaxRestarts are an actor's (KindActor).
	Restarts, MaxRestarts int32
}

// JobOf is the job of a task, call or actor ID: what stands before its
// first dot (the whole ID when it has none).
func JobOf(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// OutboxLimit bounds the events a recorder of a cluster process keeps
// between two reports to the heads.
const OutboxLimit = 1 << 16

// Recorder is a process's outbox of events (see the package doc). The
// zero value is unusable; a nil *Recorder records nothing, so a process
// that keeps no record pays one nil check.
type Recorder struct {
	mu      sync.Mutex
	out     []Event
	spare   []Event          // a taken outbox given back (Recycle), reused by the next
	limit   int              // 0: no limit
	dropped map[string]int64 // by job, since the last Take
}

// NewRecorder returns a recorder that keeps at most limit events between
// takes (0: no limit).
func NewRecorder(limit int) *Recorder {
	return &Recorder{limit: limit, dropped: map[string]int64{}}
}

// Add records an event.
func (r *Recorder) Add(e Event) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.limit > 0 && len(r.out) >= r.limit {
		r.dropOldestLocked()
	}
	r.out = append(r.out, e)
	r.mu.Unlock()
}

// dropOldestLocked drops the oldest quarter of the outbox at once
// (amortised: one copy per limit/4 events), counting them by job.
func (r *Recorder) dropOldestLocked() {
	n := max(1, r.limit/4)
	for _, e := range r.out[:n] {
		if countsWhenDropped(&e) {
			r.dropped[JobOf(e.ID)]++
		}
	}
	kept := copy(r.out, r.out[n:])
	clear(r.out[kept:])
	r.out = r.out[:kept]
}

// countsWhenDropped reports whether losing e loses something of a task:
// not for an actor's event, nor for a submission, which the task's later
// transitions (on the node that takes it) supersede.
func countsWhenDropped(e *Event) bool {
	return e.Kind != KindActor && !(e.State == Pending && e.Node == "")
}

// Take removes and returns the events recorded since the last take, and
// how many of them were dropped, by job.
func (r *Recorder) Take() ([]Event, map[string]int64) {
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out, dropped := r.out, r.dropped
	r.out, r.spare = r.spare, nil
	if len(dropped) > 0 {
		r.dropped = map[string]int64{}
	} else {
		dropped = nil
	}
	return out, dropped
}

// Recycle gives back a slice Take returned, once its events are sent,
// so that the outbox does not grow again from nothing after each take.
func (r *Recorder) Recycle(events []Event) {
	if r == nil || cap(events) == 0 {
		return
	}
	clear(events)
	r.mu.Lock()
	if cap(events) > cap(r.spare) {
		r.spare = events[:0]
	}
	r.mu.Unlock()
}

// PutBack returns events a report could not deliver to the front of the
// outbox (within its limit), so that the next report carries them.
func (r *Recorder) PutBack(events []Event, dropped map[string]int64) {
	if r == nil || len(events)+len(dropped) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append(events, r.out...)
	for job, n := range dropped {
		r.dropped[job] += n
	}
	if r.limit > 0 && len(all) > r.limit {
		for _, e := range all[:len(all)-r.limit] {
			if countsWhenDropped(&e) {
				r.dropped[JobOf(e.ID)]++
			}
		}
		all = all[len(all)-r.limit:]
	}
	r.out = all
}

// Encode writes a batch of events and drop counts for a report.
func Encode(events []Event, dropped map[string]int64) []byte {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(events)))
	for i := range events {
		e := &events[i]
		w.String(e.ID)
		w.String(e.Name)
		w.Byte(byte(e.Kind))
		w.Byte(byte(e.State))
		w.String(e.Node)
		w.Varint(int64(e.Worker))
		w.String(e.Error)
		w.Varint(e.At)
		w.Varint(e.Start)
		w.Uvarint(uint64(e.Restarts))
		w.Uvarint(uint64(e.MaxRestarts))
	}
	w.Uvarint(uint64(len(dropped)))
	for job, n := range dropped {
		w.String(job)
		w.Uvarint(uint64(n))
	}
	return w.Bytes()
}

// Decode reads what Encode wrote.
func Decode(b []byte) ([]Event, map[string]int64, error) {
	d := codec.NewDecoder(b)
	events := make([]Event, d.Count(12))
	for i := range events {
		e := &events[i]
		e.ID, e.Name = d.String(), d.String()
		e.Kind, e.State = Kind(d.Byte()), State(d.Byte())
		e.Node = d.String()
		e.Worker = int32(d.Varint())
		e.Error = d.String()
		e.At, e.Start = d.Varint(), d.Varint()
		e.Restarts, e.MaxRestarts = int32(d.Uvarint()), int32(d.Uvarint())
	}
	var dropped map[string]int64
	if n := d.Count(2); n > 0 {
		dropped = make(map[string]int64, n)
		for range n {
			job := d.String()
			dropped[job] += int64(d.Uvarint())
		}
	}
	return events, dropped, d.Finish()
}
