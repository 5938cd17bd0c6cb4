package stash

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/internal/fifo"
)

// Kind names the sort of nondeterministic step an Outcome records.
type Kind string

// The kinds of nondeterministic steps.
const (
	KindActorOrder Kind = "actor_order" // the position of a call in its actor's order
	KindWait       Kind = "wait"        // the result of wait
	KindRandom     Kind = "random"      // a draw from unseeded randomness
	KindIO         Kind = "io"          // a read from io
	KindTime       Kind = "time"        // a read of the clock
)

// Outcome is the logged result of one nondeterministic step of a task:
// replaying the task with its outcomes reproduces what it did.
type Outcome struct {
	TaskID string
	Seq    uint64 // the step's number within the task: 0, 1, 2, ... without gaps
	Kind   Kind
	Data   []byte
}

// Lineage is what recovery needs to re-execute one task: its record and its
// outcomes, in Seq order.
type Lineage struct {
	Record   gcs.TaskRecord // zero TaskID if only outcomes were found
	Outcomes []Outcome
}

// Errors.
var (
	// ErrEmptyID rejects a record or outcome without a task ID.
	ErrEmptyID = errors.New("stash: task ID cannot be empty")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("stash: closed")
	// ErrFlushTimeout is returned (wrapped) by Forward when the synchronous
	// flush the forwarding bound requires did not commit in time.
	ErrFlushTimeout = errors.New("stash: synchronous lineage flush timed out")
)

// DefaultForwardBound is the default forwarding bound, in hops.
const DefaultForwardBound = 8

// maxHops caps the hop count an entry can carry (and the wire accepts).
const maxHops = 1 << 16

// Config configures a Stash. The zero value of every field picks a default.
type Config struct {
	// Node is this node's ID, used in errors.
	Node string

	// ForwardBound is how many hops an uncommitted entry may travel: an
	// entry with this many hops is committed before it is forwarded again.
	// Zero means DefaultForwardBound; a negative value disables the bound.
	ForwardBound int

	// MaxBatch caps the entries of one PutTasks (default 4096).
	MaxBatch int

	// FlushTimeout bounds the wait for one background batch (default 10s);
	// a batch that times out is retried.
	FlushTimeout time.Duration

	// GatherDelay is how long the flusher lets new entries gather after
	// the first before it writes them as one batch (default 2ms).
	GatherDelay time.Duration
	// SyncFlushTimeout bounds Forward's synchronous flush (default 5s).
	SyncFlushTimeout time.Duration

	// RetryDelay is how long a failed batch's entries wait before they are
	// written again (default 50ms).
	RetryDelay time.Duration

	// ReceivedGrace is how long an entry received from a peer waits before
	// this node writes it itself, leaving its originator time to commit it
	// and say so (default 500ms). Negative writes received entries at once.
	ReceivedGrace time.Duration

	// CommittedCap is how many committed keys are remembered so that re-adds
	// are ignored (default 65536). Older keys are forgotten first; a
	// forgotten key re-added is written again, which is harmless.
	CommittedCap int

	// NoticeCap is how many commit notices are kept per peer until the next
	// bundle to it (default 1024). Dropped notices only cost the peer a
	// duplicate write.
	NoticeCap int

	// ObjectTask maps an argument's object ID to the ID of the task that
	// produces it; nil means they are equal.
	ObjectTask func(objectID string) string
}

func (c *Config) fill() {
	if c.ForwardBound == 0 {
		c.ForwardBound = DefaultForwardBound
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 4096
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 10 * time.Second
	}
	if c.SyncFlushTimeout <= 0 {
		c.SyncFlushTimeout = 5 * time.Second
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = 50 * time.Millisecond
	}
	if c.GatherDelay == 0 {
		c.GatherDelay = 2 * time.Millisecond
	}
	if c.ReceivedGrace == 0 {
		c.ReceivedGrace = 500 * time.Millisecond
	}
	if c.ReceivedGrace < 0 {
		c.ReceivedGrace = 0
	}
	if c.CommittedCap <= 0 {
		c.CommittedCap = 1 << 16
	}
	if c.NoticeCap <= 0 {
		c.NoticeCap = 1024
	}
}

// Entry states.
const (
	statePending   uint8 = iota // waiting for a batch
	stateInflight               // in a batch being written
	stateCommitted              // committed and pruned
)

// Spec is a task's specification from which the stash builds its lineage
// record only when the record is needed: when the flusher writes it, when
// Forward sends it, when a lookup returns it. Nothing on the task path
// builds or encodes the record. A Spec must not change once added: its
// methods may be called at any time, from any goroutine, and Record must
// describe the same call every time.
type Spec interface {
	// Record is the task's lineage record.
	Record() gcs.TaskRecord
	// ParentID is the task that submitted it ("" for none).
	ParentID() string
	// AppendDeps appends the object IDs of its future arguments to dst.
	AppendDeps(dst []string) []string
}

// RowWriter is a Spec that writes its record straight into an encoded
// batch, as gcs.TaskBatch.Add of its Record would, without building the
// record first; the flusher uses it when its store is a BatchStore.
type RowWriter interface {
	Spec
	AppendRow(b *gcs.TaskBatch)
}

// FieldsWriter is a Spec that writes its record's fields, as
// gcs.TaskRecord.EncodeFields of its Record would, without building the
// record first: a bundle forwarded with it is encoded from it (a group's
// record of a thousand arguments is then not built to be sent).
type FieldsWriter interface {
	Spec
	EncodeFields(e *codec.Encoder)
}

// entry is one record or outcome in the stash. Its task is its key for a
// record and out.TaskID for an outcome (taskID). It is kept small: one
// is held per task submitted until its batch commits.
type entry struct {
	key     string
	rec     *gcs.TaskRecord // a task specification, or
	spec    Spec            // one built on demand, or
	out     *Outcome        // an outcome
	batch   *batch          // while inflight
	knownBy []mark
	hops    int32
	size    int32
	qgen    uint32 // bumped on every enqueue; stale queue items are skipped
	state   uint8
	// fresh is set for a record whose ID this process has just made: if
	// no peer ever held it, its key need not be remembered once committed.
	fresh bool
	// indexed is set once the entry is in the stash's maps (a fresh
	// record enters them only when something needs them: indexLocked).
	indexed bool
}

// taskID is the task the entry belongs to.
func (e *entry) taskID() string {
	if e.out != nil {
		return e.out.TaskID
	}
	return e.key
}

// Slot is room for a Spec's stash entry inside the Spec itself: a Spec
// type that embeds a Slot is kept by AddSpec in one allocation (its own)
// instead of two, which is one object less per submitted task for the
// allocator and the collector. A Slot belongs to the stash once its Spec
// is added; a Spec with a Slot is added once (added again, it gets an
// entry of its own).
type Slot struct{ e entry }

func (s *Slot) slot() *entry { return &s.e }

// slotted is a Spec that embeds a Slot.
type slotted interface{ slot() *entry }

// mark records that a peer holds an entry. For a record, at is the
// outcome clock up to which the peer also holds everything the stash had
// below the record (its uncommitted ancestors and their outcomes); 0 means
// unknown.
type mark struct {
	node string
	at   uint64
}

// isRecord reports whether the entry is a task record (not an outcome).
func (e *entry) isRecord() bool { return e.rec != nil || e.spec != nil }

// record is the entry's task record, built from its spec if it has one.
// rec and spec are set when the entry is made and never change, so this
// may run without the stash's lock.
func (e *entry) record() gcs.TaskRecord {
	if e.rec != nil {
		return *e.rec
	}
	return e.spec.Record()
}

// row is the entry's row in the GCS tasks table: its task record or its
// outcome's row. Like record, it may run without the stash's lock.
func (e *entry) row() gcs.TaskRecord {
	if e.out != nil {
		return OutcomeRecord(*e.out)
	}
	return e.record()
}

func (e *entry) find(node string) int {
	for i := range e.knownBy {
		if e.knownBy[i].node == node {
			return i
		}
	}
	return -1
}

func (e *entry) known(node string) bool { return e.find(node) >= 0 }

// addKnown records that node holds e (and, with at > 0, what was below it
// at outcome clock at).
func (e *entry) addKnown(node string, at uint64) {
	if node == "" {
		return
	}
	if i := e.find(node); i >= 0 {
		e.knownBy[i].at = max(e.knownBy[i].at, at)
		return
	}
	e.knownBy = append(e.knownBy, mark{node, at})
}

// taskNode groups what the stash holds about one task: its record (if
// uncommitted), its uncommitted outcomes, and its dependencies (kept while
// the node exists, so lineage can be walked through a committed record whose
// outcomes are still pending).
type taskNode struct {
	rec      *entry
	outcomes []*entry
	parent   string   // the task that submitted it ("" for none)
	deps     []string // the tasks that produce its future arguments
	visit    uint64
}

// recordEntry is a new record's entry, the stash's copy of the record and
// the task's node, allocated together: one allocation per record on the
// submit path instead of three. The node part is used only when the task
// has no node yet.
type recordEntry struct {
	e    entry
	rec  gcs.TaskRecord
	node taskNode
}

// qitem is one queued entry.
type qitem struct {
	e      *entry
	gen    uint32
	notBef int64 // unix nanoseconds; 0 = now
}

// Stash is one node's lineage stash. Create it with New and stop it with
// Close.
type Stash struct {
	cfg   Config
	store Store

	mu      sync.Mutex
	tasks   map[string]*taskNode
	entries map[string]*entry
	ready   queue[qitem] // eligible now
	// unindexed are fresh records not yet in entries and tasks, in the
	// order they were added (committed ones are skipped and trimmed).
	unindexed queue[*entry]
	delayed   []qitem // eligible at notBef, roughly in time order
	inflight  map[*batch]struct{}
	committed *fifo.StringSet // by hash: see fifo.StringSet
	notices   map[string][]string
	hist      []int // hist[h] = entries with h hops
	bytes     int64
	visitGen  uint64
	outClock  uint64 // bumped whenever a new outcome enters the stash
	scratch   []*entry
	stack     []string
	closed    bool // no more Add/Receive
	done      bool // no more batches
	lastErr   error
	st        counters
	rowSize   atomic.Int64 // bytes per row of the last batch encoded (flush.go)

	wake     chan struct{}
	stop     chan struct{}
	loopDone chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // batch awaiters
	closeMu  sync.Mutex
}

type counters struct {
	added, received, forwarded, committed uint64
	batches, syncFlushes, flushErrors     uint64
	boundErrors                           uint64
}

// New returns a stash that writes to st and starts its flusher.
func New(st Store, cfg Config) *Stash {
	cfg.fill()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stash{
		cfg:       cfg,
		store:     st,
		tasks:     make(map[string]*taskNode),
		entries:   make(map[string]*entry),
		inflight:  make(map[*batch]struct{}),
		committed: fifo.NewStringSet(cfg.CommittedCap),
		notices:   make(map[string][]string),
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		loopDone:  make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
	}
	go s.loop()
	return s
}

// Config returns the stash's configuration, defaults filled in.
func (s *Stash) Config() Config { return s.cfg }

func (s *Stash) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Stash) objectTask(id string) string {
	if s.cfg.ObjectTask != nil {
		return s.cfg.ObjectTask(id)
	}
	return id
}

// node returns task's node, making it from spare (or a new one) when the
// task has none.
func (s *Stash) node(task string, spare *taskNode) *taskNode {
	n := s.tasks[task]
	if n == nil {
		n = spare
		if n == nil {
			n = &taskNode{}
		}
		s.tasks[task] = n
	}
	return n
}

// deps lists the tasks that produce a record's future arguments (nil for a
// record without any, the common case); its parent is kept apart.
func (s *Stash) deps(rec *gcs.TaskRecord) []string {
	var d []string
	for _, a := range rec.Args {
		if a.ObjectID != "" && a.ObjectID != gcs.PreviousResult { // a group's own result is no dependency
			if t := s.objectTask(a.ObjectID); t != "" {
				d = append(d, t)
			}
		}
	}
	return d
}

func clampHops(h int) int32 {
	if h < 0 {
		return 0
	}
	if h > maxHops {
		return maxHops
	}
	return int32(h)
}

func (s *Stash) histAdd(hops int32, d int) {
	h := int(hops)
	for len(s.hist) <= h {
		s.hist = append(s.hist, 0)
	}
	s.hist[h] += d
}

// insertLocked adds a new entry, or lowers the hops of an existing one and
// records that from holds it. It reports whether the entry is new.
func (s *Stash) insertLocked(key, task string, rec *gcs.TaskRecord, out *Outcome, hops int32, from string, now int64) bool {
	s.indexLocked()
	if s.committed.Has(key) {
		return false
	}
	if e := s.entries[key]; e != nil {
		if hops < e.hops {
			s.histAdd(e.hops, -1)
			s.histAdd(hops, 1)
			e.hops = hops
		}
		e.addKnown(from, 0)
		return false
	}
	// The stash keeps its own copy of a record (rec is not retained).
	var e *entry
	var spare *taskNode
	var kept *gcs.TaskRecord
	if rec != nil {
		re := &recordEntry{rec: *rec}
		e, spare, kept = &re.e, &re.node, &re.rec
	} else {
		e = &entry{}
	}
	*e = entry{key: key, rec: kept, out: out, hops: hops, indexed: true}
	e.addKnown(from, 0)
	if out != nil {
		s.outClock++
	}
	if rec != nil {
		e.size = int32(recordSize(rec))
	} else {
		e.size = int32(outcomeSize(out))
	}
	n := s.node(task, spare)
	if rec != nil {
		n.rec = e
		n.parent = rec.ParentID
		n.deps = s.deps(rec)
	} else {
		n.outcomes = append(n.outcomes, e)
	}
	s.entries[key] = e
	s.countLocked(e, from, now)
	return true
}

// countLocked enters a new entry into the stash's counters and queue.
func (s *Stash) countLocked(e *entry, from string, now int64) {
	s.histAdd(e.hops, 1)
	s.bytes += int64(e.size)
	if from == "" || s.cfg.ReceivedGrace == 0 {
		s.enqueueLocked(e, 0)
	} else {
		s.enqueueLocked(e, now+int64(s.cfg.ReceivedGrace))
	}
}

// insertSpecLocked adds a new record entry built from spec, with 0 hops.
// A fresh one is only queued and listed as unindexed: no map is touched
// on the task path. Otherwise it is ignored if an entry with its ID is
// held or was committed. It reports whether the entry is new.
func (s *Stash) insertSpecLocked(id string, spec Spec, fresh bool) bool {
	// A fresh record gets its task's node only when it is indexed, which
	// the embedded task path never needs.
	e := s.specEntry(spec)
	*e = entry{key: id, spec: spec, fresh: fresh, size: int32(specSize(id))}
	if fresh {
		s.countLocked(e, "", 0)
		s.unindexed.push(e)
		return true
	}
	s.indexLocked()
	if s.committed.Has(id) || s.entries[id] != nil {
		return false
	}
	s.indexSpecLocked(e)
	s.countLocked(e, "", 0)
	return true
}

// specEntry is the entry for a new spec: its Slot if it has one not yet
// used, else a new one.
func (s *Stash) specEntry(spec Spec) *entry {
	if sl, ok := spec.(slotted); ok {
		if e := sl.slot(); e.key == "" {
			return e
		}
	}
	return &entry{}
}

// indexLocked enters the fresh records added since the last call into
// entries and tasks, which every operation but AddSpec, the flusher and
// commits reads: Forward, Receive, lookups, Stats, flushes. Committed ones
// are skipped; a duplicate of a held entry (a fresh ID made again, as by
// a re-execution) is dropped.
func (s *Stash) indexLocked() {
	for _, e := range s.unindexed.live() {
		if e.state == stateCommitted {
			continue
		}
		if s.entries[e.key] != nil {
			s.dropLocked(e)
			continue
		}
		s.indexSpecLocked(e)
	}
	s.unindexed.pop(s.unindexed.len())
}

// indexSpecLocked enters a spec's entry into entries and tasks.
func (s *Stash) indexSpecLocked(e *entry) {
	s.entries[e.key] = e
	n := s.node(e.key, nil)
	n.rec = e
	n.parent = e.spec.ParentID()
	n.deps = s.specDeps(e.spec)
	e.indexed = true
}

// dropLocked forgets an entry that was never indexed, as if committed
// (its write, if in flight, is harmless) but without remembering its key.
func (s *Stash) dropLocked(e *entry) {
	e.state = stateCommitted
	e.batch = nil
	s.histAdd(e.hops, -1)
	s.bytes -= int64(e.size)
}

// trimLocked lets go of the committed records at the front of unindexed.
func (s *Stash) trimLocked() {
	live := s.unindexed.live()
	i := 0
	for i < len(live) && live[i].state == stateCommitted {
		i++
	}
	s.unindexed.pop(i)
}

// specDeps is deps for a spec.
func (s *Stash) specDeps(spec Spec) []string {
	d := spec.AppendDeps(nil)
	out := d[:0]
	for _, id := range d {
		if t := s.objectTask(id); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *Stash) enqueueLocked(e *entry, notBef int64) {
	e.state = statePending
	e.batch = nil
	e.qgen++
	it := qitem{e: e, gen: e.qgen, notBef: notBef}
	if notBef == 0 {
		s.ready.push(it)
	} else {
		s.delayed = append(s.delayed, it)
	}
}

// Add records a task this node submitted or received for execution, with 0
// hops. The record must not be modified afterwards. A record already
// committed (as far as the stash remembers) is ignored. Add never waits on
// the GCS.
func (s *Stash) Add(rec gcs.TaskRecord) error {
	if rec.TaskID == "" {
		return ErrEmptyID
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.insertLocked(rec.TaskID, rec.TaskID, &rec, nil, 0, "", 0) {
		s.st.added++
	}
	s.mu.Unlock()
	s.signal()
	return nil
}

// AddSpec records a task this node submitted, as Add does, except that
// its record is built from spec only when it is needed (by the flusher,
// Forward or a lookup). With fresh, id is one this process has just made
// (no one can have committed it): the committed lookup is skipped, and
// once written the key is not remembered as committed unless a peer held
// the entry, since nothing else can bring it back. AddSpec never waits on
// the GCS.
func (s *Stash) AddSpec(id string, spec Spec, fresh bool) error {
	if id == "" {
		return ErrEmptyID
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.insertSpecLocked(id, spec, fresh) {
		s.st.added++
	}
	s.mu.Unlock()
	s.signal()
	return nil
}

// AddOutcome records the outcome of one nondeterministic step of a task this
// node runs, with 0 hops. It never waits on the GCS.
func (s *Stash) AddOutcome(o Outcome) error {
	if o.TaskID == "" {
		return ErrEmptyID
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.insertLocked(OutcomeKey(o.TaskID, o.Seq), o.TaskID, nil, &o, 0, "", 0) {
		s.st.added++
	}
	s.mu.Unlock()
	s.signal()
	return nil
}

// Receive merges lineage a peer forwarded: each entry arrives with one more
// hop than it had there, entries already committed are ignored, and entries
// the stash already holds keep the smaller hop count. The bundle's committed
// keys are pruned. from is the sending node; it is remembered as holding
// every entry of the bundle. The bundle is not retained.
func (s *Stash) Receive(b Bundle, from string) {
	now := time.Now().UnixNano()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.markCommittedLocked(b.Committed, from)
	for i := range b.Records {
		r := b.Records[i].record()
		if r.TaskID == "" {
			continue
		}
		if s.insertLocked(r.TaskID, r.TaskID, &r, nil, clampHops(b.Records[i].Hops+1), from, now) {
			s.st.received++
		}
	}
	for i := range b.Outcomes {
		o := b.Outcomes[i].Outcome
		if o.TaskID == "" {
			continue
		}
		if s.insertLocked(OutcomeKey(o.TaskID, o.Seq), o.TaskID, nil, &o, clampHops(b.Outcomes[i].Hops+1), from, now) {
			s.st.received++
		}
	}
	s.mu.Unlock()
	s.signal()
}

// MarkCommitted prunes entries known to be committed in the GCS by other
// means (a GCS subscription, a peer's word) and remembers their keys. Keys
// are task IDs or OutcomeKeys.
func (s *Stash) MarkCommitted(keys ...string) {
	s.mu.Lock()
	s.markCommittedLocked(keys, "")
	s.mu.Unlock()
}

func (s *Stash) markCommittedLocked(keys []string, from string) {
	s.indexLocked()
	for _, k := range keys {
		if e := s.entries[k]; e != nil {
			s.commitLocked(e, from)
		} else if k != "" {
			s.committed.Add(k)
		}
	}
}

// commitLocked prunes a committed entry and queues commit notices for the
// peers that hold it (except skip, who told us).
func (s *Stash) commitLocked(e *entry, skip string) {
	if !e.indexed {
		// A fresh record no one asked about: not in the maps, and no peer
		// holds it.
		s.dropLocked(e)
		s.st.committed++
		return
	}
	delete(s.entries, e.key)
	task := e.taskID()
	if n := s.tasks[task]; n != nil {
		if n.rec == e {
			n.rec = nil
		} else if i := slices.Index(n.outcomes, e); i >= 0 {
			n.outcomes = slices.Delete(n.outcomes, i, i+1)
		}
		if n.rec == nil && len(n.outcomes) == 0 {
			delete(s.tasks, task)
		}
	}
	e.state = stateCommitted
	e.batch = nil
	s.histAdd(e.hops, -1)
	s.bytes -= int64(e.size)
	// A fresh entry no peer held cannot come back: it is not remembered.
	if !e.fresh || len(e.knownBy) > 0 {
		s.committed.Add(e.key)
	}
	s.st.committed++
	for _, m := range e.knownBy {
		if m.node == skip {
			continue
		}
		q := append(s.notices[m.node], e.key)
		if len(q) > s.cfg.NoticeCap {
			q = q[len(q)-s.cfg.NoticeCap:]
		}
		s.notices[m.node] = q
	}
}

// ForgetNode drops what the stash knows about a peer: its pending commit
// notices, and the memory that it holds entries, so they are forwarded to it
// again. Call it when a peer dies or a send to it failed. It takes time
// proportional to the stash.
func (s *Stash) ForgetNode(node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexLocked()
	delete(s.notices, node)
	for _, e := range s.entries {
		if i := e.find(node); i >= 0 {
			e.knownBy = slices.Delete(e.knownBy, i, i+1)
		}
	}
}

// closureLocked collects the entries Forward would send for task to
// receiver: the task's uncommitted record and outcomes and those of its
// uncommitted ancestors, minus what the receiver holds. The walk stops at
// committed or unknown tasks, and at a record the receiver holds together
// with everything below it (no outcome entered the stash since it was
// sent); through other held records it goes on, so an outcome logged late
// for an ancestor still reaches the receiver. With commit, the receiver is
// recorded as holding the result and everything below the records walked.
// The result aliases s.scratch.
func (s *Stash) closureLocked(task, receiver string, commit bool) []*entry {
	s.visitGen++
	gen := s.visitGen
	out := s.scratch[:0]
	stack := append(s.stack[:0], task)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := s.tasks[id]
		if n == nil || n.visit == gen {
			continue
		}
		n.visit = gen
		for _, o := range n.outcomes {
			if !o.known(receiver) {
				out = append(out, o)
			}
		}
		if r := n.rec; r != nil {
			if i := r.find(receiver); i >= 0 {
				if r.knownBy[i].at >= s.outClock {
					continue // it holds the record and all below it
				}
				if commit {
					r.knownBy[i].at = s.outClock
				}
			} else {
				out = append(out, r)
			}
		}
		if n.parent != "" {
			stack = append(stack, n.parent)
		}
		stack = append(stack, n.deps...)
	}
	if commit {
		for _, e := range out {
			e.addKnown(receiver, s.outClock)
		}
	}
	s.scratch, s.stack = out, stack
	return out
}

// Forward returns the uncommitted lineage that task depends on and receiver
// lacks, to send along with the task, and records that receiver now holds
// it. With an empty task it returns only the commit notices for receiver.
//
// If an entry to be sent has travelled ForwardBound hops, Forward first
// writes everything it would send to the GCS and waits for the commit
// (bounded by SyncFlushTimeout); the bundle then omits what committed. If
// that write fails, Forward returns the full bundle, so no lineage is lost,
// together with an error wrapping ErrFlushTimeout or the write's error; the
// caller may send it anyway (exceeding the bound) or retry.
func (s *Stash) Forward(task, receiver string) (Bundle, error) {
	return s.ForwardAll([]string{task}, receiver) // ForwardAll skips an empty task
}

// ForwardAll is Forward for tasks sent to receiver together (a frame of
// tasks): one bundle holds the lineage of them all, each entry once, and
// the commit notices for receiver. It takes the stash's lock once, not
// once per task. Empty task IDs are skipped.
func (s *Stash) ForwardAll(tasks []string, receiver string) (Bundle, error) {
	var ferr error
	s.mu.Lock()
	s.indexLocked()
	if set := s.overBoundLocked(tasks, receiver); len(set) > 0 {
		s.st.syncFlushes++
		s.mu.Unlock()
		ferr = s.flushEntries(set, s.cfg.SyncFlushTimeout)
		s.mu.Lock()
		if ferr != nil {
			s.st.boundErrors++
			what := tasks[0]
			if len(tasks) > 1 {
				what = fmt.Sprintf("%d tasks from %s", len(tasks), tasks[0])
			}
			if s.cfg.Node != "" {
				ferr = fmt.Errorf("stash on %s: forwarding %s to %s: %w", s.cfg.Node, what, receiver, ferr)
			} else {
				ferr = fmt.Errorf("stash: forwarding %s to %s: %w", what, receiver, ferr)
			}
		}
	}
	b := s.bundleLocked(tasks, receiver)
	if q := s.notices[receiver]; len(q) > 0 {
		b.Committed = q
		delete(s.notices, receiver)
	}
	s.mu.Unlock()
	return b, ferr
}

// bundleLocked collects what tasks need and receiver lacks into a bundle
// (its records built from their specs) and records that receiver holds it.
func (s *Stash) bundleLocked(tasks []string, receiver string) Bundle {
	var sent, cl []*entry
	records, walked := 0, 0
	for _, task := range tasks {
		if task == "" {
			continue
		}
		cl = s.closureLocked(task, receiver, true) // aliases s.scratch
		walked = max(walked, len(cl))
		if len(tasks) == 1 {
			sent = cl
		} else {
			sent = append(sent, cl...)
		}
	}
	for _, e := range sent {
		if e.isRecord() {
			records++
		}
	}
	var b Bundle
	if records > 0 {
		b.Records = make([]RecordEntry, 0, records)
	}
	for _, e := range sent {
		if fw, ok := e.spec.(FieldsWriter); ok && e.rec == nil {
			b.Records = append(b.Records, RecordEntry{Hops: int(e.hops), fields: fw})
		} else if e.isRecord() {
			b.Records = append(b.Records, RecordEntry{Record: e.record(), Hops: int(e.hops)})
		} else {
			b.Outcomes = append(b.Outcomes, OutcomeEntry{Outcome: *e.out, Hops: int(e.hops)})
		}
	}
	s.st.forwarded += uint64(len(sent))
	clear(s.scratch[:walked]) // the scratch keeps no entry alive (each walk wrote from its front)
	return b
}

// overBoundLocked is what must be committed before tasks are forwarded to
// receiver: the lineage each task would send, for every task whose
// lineage holds an entry that has travelled ForwardBound hops (nil for
// none, the common case).
func (s *Stash) overBoundLocked(tasks []string, receiver string) []*entry {
	if s.cfg.ForwardBound <= 0 {
		return nil
	}
	var set []*entry
	var seen map[*entry]bool
	walked := 0
	for _, task := range tasks {
		if task == "" {
			continue
		}
		cl := s.closureLocked(task, receiver, false)
		walked = max(walked, len(cl))
		if !slices.ContainsFunc(cl, func(e *entry) bool { return int(e.hops) >= s.cfg.ForwardBound }) {
			continue
		}
		if seen == nil {
			seen = make(map[*entry]bool)
		}
		for _, e := range cl {
			if !seen[e] {
				seen[e] = true
				set = append(set, e)
			}
		}
	}
	clear(s.scratch[:walked]) // the scratch keeps no entry alive
	return set
}

// LookupLocal returns what this stash holds about a task: its record if
// uncommitted here, and its uncommitted outcomes. It never reads the GCS;
// it is what a peer serves when recovery asks the surviving stashes.
func (s *Stash) LookupLocal(task string) (Lineage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexLocked()
	n := s.tasks[task]
	if n == nil {
		return Lineage{}, false
	}
	var l Lineage
	if n.rec != nil {
		l.Record = n.rec.record()
	}
	for _, o := range n.outcomes {
		l.Outcomes = append(l.Outcomes, *o.out)
	}
	sortOutcomes(l.Outcomes)
	return l, true
}

// Lookup returns a task's lineage for recovery: what the stash holds, then
// what the GCS holds (the record if the stash has none, and the outcomes
// the stash lacks). The error matches gcs.ErrNotFound if neither has it.
func (s *Stash) Lookup(task string) (Lineage, error) {
	l, ok := s.LookupLocal(task)
	var have map[uint64]Outcome
	if ok && len(l.Outcomes) > 0 {
		have = make(map[uint64]Outcome, len(l.Outcomes))
		for _, o := range l.Outcomes {
			have[o.Seq] = o
		}
	}
	g, err := lookupStore(s.store, task, have, l.Record.TaskID != "")
	if err != nil {
		return l, err
	}
	if l.Record.TaskID != "" {
		g.Record = l.Record
	}
	return g, nil
}

func sortOutcomes(os []Outcome) {
	slices.SortFunc(os, func(a, b Outcome) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
}

// Stats is a snapshot of a stash's metrics.
type Stats struct {
	Uncommitted int   // entries held and not yet committed (records + outcomes)
	Records     int   // of which task records
	Outcomes    int   // of which outcomes
	Inflight    int   // of which in a batch being written
	MaxHops     int   // the most hops any held entry has travelled
	Bytes       int64 // approximate size of the held entries

	Added       uint64 // entries added locally
	Received    uint64 // new entries received from peers
	Forwarded   uint64 // entries sent in bundles
	Committed   uint64 // entries pruned as committed
	Batches     uint64 // batches written (background and synchronous)
	SyncFlushes uint64 // synchronous flushes the forwarding bound caused
	FlushErrors uint64 // failed batches (retried)
	BoundErrors uint64 // synchronous flushes that failed
	LastError   error  // the last batch error, if any
}

// Stats returns the current metrics. It takes time proportional to the
// entries held; call it for metrics, not per task.
func (s *Stash) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexLocked()
	st := Stats{
		Uncommitted: len(s.entries),
		Bytes:       s.bytes,
		Added:       s.st.added,
		Received:    s.st.received,
		Forwarded:   s.st.forwarded,
		Committed:   s.st.committed,
		Batches:     s.st.batches,
		SyncFlushes: s.st.syncFlushes,
		FlushErrors: s.st.flushErrors,
		BoundErrors: s.st.boundErrors,
		LastError:   s.lastErr,
	}
	for h := len(s.hist) - 1; h >= 0; h-- {
		if s.hist[h] > 0 {
			st.MaxHops = h
			break
		}
	}
	for _, e := range s.entries {
		if e.isRecord() {
			st.Records++
		} else {
			st.Outcomes++
		}
		if e.state == stateInflight {
			st.Inflight++
		}
	}
	return st
}

func recordSize(r *gcs.TaskRecord) int {
	n := 64 + len(r.TaskID) + len(r.JobID) + len(r.ParentID) + len(r.Function) + len(r.OwnerNode) + len(r.Outcome) + len(r.State)
	for _, a := range r.Args {
		n += 8 + len(a.ObjectID) + len(a.Inline)
	}
	for k := range r.Resources {
		n += 8 + len(k)
	}
	return n
}

// specSize is about the size of a spec's record, without building it.
func specSize(id string) int { return 64 + 4*len(id) }

func outcomeSize(o *Outcome) int { return 32 + len(o.TaskID) + len(o.Kind) + len(o.Data) }
