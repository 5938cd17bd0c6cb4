package localsched

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// work runs until released; it reports when it starts.
type work struct {
	name      string
	demand    resources.Resources
	cancelled atomic.Bool
	started   chan int // its worker slot
	release   chan struct{}
	s         *Scheduler
}

func newWork(s *Scheduler, name, demand string) *work {
	return &work{name: name, demand: resources.MustParseSpec(demand), started: make(chan int, 1),
		release: make(chan struct{}), s: s}
}

func (w *work) Demand() resources.Resources { return w.demand }
func (w *work) Cancelled() bool             { return w.cancelled.Load() }
func (w *work) Run(worker int) {
	w.started <- worker
	<-w.release
}

func started(t *testing.T, w *work) int {
	t.Helper()
	select {
	case worker := <-w.started:
		return worker
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not start", w.name)
		return -1
	}
}

func notStarted(t *testing.T, w *work) {
	t.Helper()
	select {
	case <-w.started:
		t.Fatalf("%s started while it should wait", w.name)
	default:
	}
}

// Works start in order while they fit; a finished one lets the next in.
func TestRunsWhatFitsInOrder(t *testing.T) {
	s := New(resources.MustParseSpec("cpu=2"))
	a, b, c := newWork(s, "a", "cpu=1"), newWork(s, "b", "cpu=1"), newWork(s, "c", "cpu=1")
	s.Enqueue(a)
	s.Enqueue(b)
	s.Enqueue(c)
	wa, wb := started(t, a), started(t, b)
	if wa == wb {
		t.Fatalf("a and b share worker slot %d", wa)
	}
	notStarted(t, c)
	if free, queued, running := s.State(); free.CPU() != 0 || queued != 1 || running != 2 {
		t.Fatalf("state: %v free, %d queued, %d running", free, queued, running)
	}
	close(a.release)
	if wc := started(t, c); wc != wa {
		t.Fatalf("c got slot %d, want a's freed slot %d", wc, wa)
	}
	close(b.release)
	close(c.release)
}

// A work blocked in get gives its CPU back; on resuming it takes it back
// ahead of the queue.
func TestReleaseAndReacquireGoFirst(t *testing.T) {
	s := New(resources.MustParseSpec("cpu=1"))
	a, b, c := newWork(s, "a", "cpu=1"), newWork(s, "b", "cpu=1"), newWork(s, "c", "cpu=1")
	s.Enqueue(a)
	started(t, a)
	s.Enqueue(b)
	s.Enqueue(c)
	s.Release(a.demand) // a blocks in get: b may run
	started(t, b)
	back := make(chan struct{})
	go func() { s.Reacquire(a.demand); close(back) }()
	testutil.Eventually(t, 5*time.Second, "a waiting to resume", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.resuming == 1
	})
	close(b.release) // b ends: a, resuming, goes before c
	select {
	case <-back:
	case <-time.After(5 * time.Second):
		t.Fatal("a did not take its CPU back")
	}
	notStarted(t, c)
	close(a.release)
	started(t, c)
	close(c.release)
}

// A work blocked in get gives its CPU back; an actor placed on the node
// then takes it for as long as it lives. The work, back from get, takes
// its CPU over the total instead of waiting for ever for what no work
// ending will give back (it waited for ever before: a job whose actor
// was restarted on the node of a task blocked calling it hung).
func TestReacquireDoesNotWaitForAnActorsHold(t *testing.T) {
	s := New(resources.MustParseSpec("cpu=2"))
	a := newWork(s, "a", "cpu=2")
	s.Enqueue(a)
	started(t, a)
	s.Release(a.demand) // a blocks in get
	s.Hold(resources.MustParseSpec("cpu=2"))
	back := make(chan struct{})
	go func() { s.Reacquire(a.demand); close(back) }()
	select {
	case <-back:
	case <-time.After(5 * time.Second):
		t.Fatal("a waited for the CPUs an actor holds")
	}
	close(a.release)
	s.Unhold(resources.MustParseSpec("cpu=2")) // the actor stops
	b := newWork(s, "b", "cpu=2")
	s.Enqueue(b)
	started(t, b) // everything given back: the node's CPUs are free again
	close(b.release)
}

// Cancelled works are skipped; Drain, Select, Stuck and Unqueue see the
// queue as it is.
func TestQueueQueries(t *testing.T) {
	s := New(resources.MustParseSpec("cpu=1"))
	run := newWork(s, "run", "cpu=1")
	s.Enqueue(run)
	started(t, run)
	skip, big, last := newWork(s, "skip", "cpu=1"), newWork(s, "big", "cpu=1"), newWork(s, "last", "cpu=1")
	skip.cancelled.Store(true)
	s.Enqueue(skip)
	s.Enqueue(big)
	s.Enqueue(last)
	if got := s.Stuck(time.Now().Add(time.Second), 1); len(got) != 1 || got[0] != big {
		t.Fatalf("stuck: %v, want big (the first not cancelled)", got)
	}
	if got := s.Select(func(w Work) bool { return w == run || w == last }); len(got) != 2 {
		t.Fatalf("select found %d of run and last", len(got))
	}
	if !s.Unqueue(big) || s.Unqueue(big) {
		t.Fatal("unqueue: big should go once")
	}
	queued, running := s.Drain()
	if len(queued) != 1 || queued[0] != last || len(running) != 1 || running[0] != run {
		t.Fatalf("drain: %d queued, running %v", len(queued), running)
	}
	close(run.release)
	testutil.Eventually(t, 5*time.Second, "run finished", func() bool {
		free, _, running := s.State()
		return running == 0 && free.CPU() == resources.Milli
	})
	notStarted(t, last) // drained: it never starts
	s.Hold(resources.MustParseSpec("cpu=1"))
	if free, _, _ := s.State(); free.CPU() != 0 {
		t.Fatalf("an actor's hold left %v free", free)
	}
}

// quick is a work that is over as soon as it runs.
type quick struct {
	demand resources.Resources
	ran    chan struct{}
}

func (q *quick) Demand() resources.Resources { return q.demand }
func (q *quick) Cancelled() bool             { return false }
func (q *quick) Run(int)                     { q.ran <- struct{}{} }

// Works run one after another on the same long-lived worker goroutines,
// not on a goroutine each; Drain lets the parked ones go.
func TestWorkersLiveOn(t *testing.T) {
	s := New(resources.MustParseSpec("cpu=1"))
	ran := make(chan struct{}, 1)
	const n = 1000
	for i := 0; i < n; i++ {
		if i > 0 {
			waitParked(t, s)
		}
		s.Enqueue(&quick{demand: resources.MustParseSpec("cpu=1"), ran: ran})
		select {
		case <-ran:
		case <-time.After(5 * time.Second):
			t.Fatalf("work %d did not run", i)
		}
	}
	// A batch queued at once runs on the worker that finishes each.
	waitParked(t, s)
	for i := 0; i < n; i++ {
		s.Enqueue(&quick{demand: resources.MustParseSpec("cpu=1"), ran: ran})
	}
	for i := 0; i < n; i++ {
		select {
		case <-ran:
		case <-time.After(5 * time.Second):
			t.Fatalf("queued work %d did not run", i)
		}
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started != 1 {
		t.Fatalf("%d worker goroutines started for %d works, want 1", started, 2*n)
	}
	s.Drain()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idle) != 0 || !s.closed {
		t.Fatalf("after Drain: %d parked workers, closed=%v", len(s.idle), s.closed)
	}
}

// waitParked waits until a worker of s is parked.
func waitParked(t *testing.T, s *Scheduler) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		parked := len(s.idle)
		s.mu.Unlock()
		if parked > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no worker parked")
		}
		runtime.Gosched()
	}
}

// A queued work costs the queue 24 bytes: the work and a monotonic
// offset, not a time.Time (issue 15: a million queued tasks).
func TestQueuedEntryIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(queued{}); n > 24 {
		t.Fatalf("a queue entry is %d bytes, want at most 24", n)
	}
}
