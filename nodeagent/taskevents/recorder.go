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

// Event is one transition of a task, a method call or an actor. Its
// fields are in the order that packs them (112 bytes, not 128: an
// outbox holds thousands).
type Event struct {
	ID    string // the task, call or actor ID (it starts with the job ID and a dot)
	Name  string // the function or method name; an actor's class
	Node  string // where it is queued, runs, ran or lives; "" when not placed yet
	Error string // a failure's kind and message
	// Over, when set, tells whether the task's result here is ready
	// (DoneChan): it makes the event superseded once ready. In this
	// process only; not reported.
	Over Ready
	// At is when the transition happened (0 for a submission, which
	// needs none: table.go, rank); Start, on an end, when the run began
	// (0: it never ran). Unix nanoseconds.
	At, Start int64
	// Worker is the worker slot a task ran on, -1 for none (a method).
	Worker int32
	// Restarts and MaxRestarts are an actor's (KindActor).
	Restarts, MaxRestarts int32
	Kind                  Kind
	State                 State
	seen                  uint8 // 0: not asked yet; 1: to send; 2: superseded (superseded)
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

// chunkLen is how many events one chunk of an outbox holds: the outbox
// grows by chunks, never by copying what it holds, and a report gives
// its chunks back for the next (Recycle).
const chunkLen = 256

// maxFreeChunks bounds the chunks a recorder keeps for reuse.
const maxFreeChunks = 64

// Ready is what an event may carry of its task's result: once the result
// is ready, a pending or running event not yet reported says nothing the
// task's end does not, and is not sent (superseded).
type Ready interface{ IsReady() bool }

// DoneChan is a Ready that is a result's done channel: an event holds
// it, not the result, so that a result's value is not kept alive by the
// events waiting for a report (at a thousand 160 KB results a second
// they held hundreds of MiB).
type DoneChan <-chan struct{}

// IsReady reports whether the channel is closed.
func (d DoneChan) IsReady() bool {
	select {
	case <-d:
		return true
	default:
		return false
	}
}

// superseded reports whether e need not be reported: a transition before
// the end of a task that has ended since. The answer is kept in the
// event, so that a report asks the result once (a result that was not
// ready when asked is sent as it was).
func (e *Event) superseded() bool {
	if e.seen == 0 {
		e.seen = 1
		if e.Over != nil && !e.State.ended() && e.Over.IsReady() {
			e.seen = 2
		}
	}
	return e.seen == 2
}

// Batch is what a recorder gives a report: its events in chunks, oldest
// first, and how many were dropped before them, by job.
type Batch struct {
	Chunks  [][]Event
	Dropped map[string]int64
}

// Len is how many events the batch holds.
func (b *Batch) Len() int {
	n := 0
	for _, c := range b.Chunks {
		n += len(c)
	}
	return n
}

// Recorder is a process's outbox of events (see the package doc). The
// zero value is unusable; a nil *Recorder records nothing, so a process
// that keeps no record pays one nil check.
type Recorder struct {
	mu      sync.Mutex
	chunks  [][]Event        // the events, oldest first; the last one fills
	count   int              // events in chunks
	free    [][]Event        // chunks given back, empty, for reuse
	limit   int              // 0: no limit
	dropped map[string]int64 // by job, since the last Take
	// half is signalled when the outbox reaches half its limit, so that
	// its owner reports early rather than drop.
	half chan struct{}
}

// NewRecorder returns a recorder that keeps at most limit events between
// takes (0: no limit); past it, the oldest chunk of events is dropped.
func NewRecorder(limit int) *Recorder {
	return &Recorder{limit: limit, dropped: map[string]int64{}, half: make(chan struct{}, 1)}
}

// HalfFull is signalled when the outbox reaches half its limit (never
// for a nil recorder or one without a limit).
func (r *Recorder) HalfFull() <-chan struct{} {
	if r == nil || r.limit == 0 {
		return nil
	}
	return r.half
}

// Add records an event.
func (r *Recorder) Add(e Event) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.addLocked(e)
	r.mu.Unlock()
}

// AddAll records events, in their order, under one lock (a fused run's
// calls: one lock for many).
func (r *Recorder) AddAll(events []Event) {
	if r == nil || len(events) == 0 {
		return
	}
	r.mu.Lock()
	for i := range events {
		r.addLocked(events[i])
	}
	r.mu.Unlock()
}

func (r *Recorder) addLocked(e Event) {
	last := len(r.chunks) - 1
	if last < 0 || len(r.chunks[last]) == cap(r.chunks[last]) {
		r.chunks = append(r.chunks, r.newChunkLocked())
		last++
	}
	r.chunks[last] = append(r.chunks[last], e)
	r.count++
	if r.limit > 0 {
		if r.count == r.limit/2 {
			select {
			case r.half <- struct{}{}:
			default:
			}
		}
		if r.count > r.limit {
			r.dropOldestLocked()
		}
	}
}

func (r *Recorder) newChunkLocked() []Event {
	if n := len(r.free); n > 0 {
		c := r.free[n-1]
		r.free = r.free[:n-1]
		return c
	}
	return make([]Event, 0, chunkLen)
}

// dropOldestLocked drops the oldest chunk, counting what it loses by job.
func (r *Recorder) dropOldestLocked() {
	c := r.chunks[0]
	for i := range c {
		if countsWhenDropped(&c[i]) {
			r.dropped[JobOf(c[i].ID)]++
		}
	}
	r.chunks[0] = nil
	r.chunks = r.chunks[1:]
	r.count -= len(c)
	r.recycleLocked(c)
}

func (r *Recorder) recycleLocked(c []Event) {
	if cap(c) == chunkLen && len(r.free) < maxFreeChunks {
		clear(c)
		r.free = append(r.free, c[:0])
	}
}

// countsWhenDropped reports whether losing e loses something of a task:
// not for an actor's event, nor for a submission, which the task's later
// transitions (on the node that takes it) supersede.
func countsWhenDropped(e *Event) bool {
	return e.Kind != KindActor && !(e.State == Pending && e.Node == "")
}

// Take removes and returns the events recorded since the last take; nil
// when there are none.
func (r *Recorder) Take() *Batch {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 && len(r.dropped) == 0 {
		return nil
	}
	b := &Batch{Chunks: r.chunks, Dropped: r.dropped}
	r.chunks, r.count = nil, 0
	if len(b.Dropped) > 0 {
		r.dropped = map[string]int64{}
	} else {
		b.Dropped = nil
	}
	return b
}

// Recycle gives back the chunks of a batch Take returned, once its
// events are sent, for the next events.
func (r *Recorder) Recycle(b *Batch) {
	if r == nil || b == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range b.Chunks {
		r.recycleLocked(c)
	}
	b.Chunks = nil
}

// PutBack returns a batch a report could not deliver to the front of the
// outbox (within its limit), so that the next report carries it.
func (r *Recorder) PutBack(b *Batch) {
	if r == nil || b == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(b.Chunks, r.chunks...)
	r.count += b.Len()
	for job, n := range b.Dropped {
		r.dropped[job] += n
	}
	for r.limit > 0 && r.count > r.limit {
		r.dropOldestLocked()
	}
}

// Encode writes a batch for a report, leaving out the superseded events.
func Encode(b *Batch) []byte {
	n, size := 0, 16
	for _, c := range b.Chunks {
		for i := range c {
			if e := &c[i]; !e.superseded() {
				n++
				size += 32 + len(e.ID) + len(e.Error)
			}
		}
	}
	w := codec.NewEncoder(make([]byte, 0, size)) // grown once
	w.Uvarint(uint64(n))
	var prev Event
	for _, c := range b.Chunks {
		for i := range c {
			if e := &c[i]; !e.superseded() {
				encodeEvent(w, e, &prev)
				prev = *e
			}
		}
	}
	w.Uvarint(uint64(len(b.Dropped)))
	for job, n := range b.Dropped {
		w.String(job)
		w.Uvarint(uint64(n))
	}
	return w.Bytes()
}

// encodeEvent writes e; its name and node, which repeat, as a flag when
// they are those of the event before.
func encodeEvent(w *codec.Encoder, e, prev *Event) {
	w.String(e.ID)
	repeat(w, e.Name, prev.Name)
	w.Byte(byte(e.Kind))
	w.Byte(byte(e.State))
	repeat(w, e.Node, prev.Node)
	w.Varint(int64(e.Worker))
	w.String(e.Error)
	w.Varint(e.At)
	w.Varint(e.Start)
	w.Uvarint(uint64(e.Restarts))
	w.Uvarint(uint64(e.MaxRestarts))
}

// repeat writes s, or only a flag when it is prev.
func repeat(w *codec.Encoder, s, prev string) {
	same := s == prev
	w.Bool(same)
	if !same {
		w.String(s)
	}
}

// repeated reads what repeat wrote.
func repeated(d *codec.Decoder, prev string) string {
	if d.Bool() {
		return prev
	}
	return d.String()
}

// Decode reads what Encode wrote.
func Decode(b []byte) (*Batch, error) {
	d := codec.NewDecoder(b)
	events := make([]Event, d.Count(11)) // the fewest bytes an event takes
	var prev Event
	for i := range events {
		e := &events[i]
		e.ID = d.String()
		e.Name = repeated(d, prev.Name)
		e.Kind, e.State = Kind(d.Byte()), State(d.Byte())
		e.Node = repeated(d, prev.Node)
		e.Worker = int32(d.Varint())
		e.Error = d.String()
		e.At, e.Start = d.Varint(), d.Varint()
		e.Restarts, e.MaxRestarts = int32(d.Uvarint()), int32(d.Uvarint())
		prev = *e
	}
	batch := &Batch{Chunks: [][]Event{events}}
	if n := d.Count(2); n > 0 {
		batch.Dropped = make(map[string]int64, n)
		for range n {
			job := d.String()
			batch.Dropped[job] += int64(d.Uvarint())
		}
	}
	return batch, d.Finish()
}
