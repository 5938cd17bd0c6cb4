package localsched

import (
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Work is one task the scheduler runs.
type Work interface {
	// Demand is what the work needs while it runs; it never changes.
	Demand() resources.Resources
	// Cancelled reports whether the work should not start any more.
	Cancelled() bool
	// Run runs the work on one of the scheduler's worker goroutines;
	// worker is its worker slot (for the timeline). When Run returns the
	// work is over: the scheduler takes its resources back.
	Run(worker int)
}

// queued is a work waiting in the queue, and since when (on the
// monotonic clock, from epoch: 24 bytes a queued work, not 40 with a
// time.Time).
type queued struct {
	w  Work
	at time.Duration
}

// epoch is where the queue's times count from.
var epoch = time.Now()

// Scheduler is one node's local scheduler.
type Scheduler struct {
	total resources.Resources // fixed

	mu       sync.Mutex
	resumed  *sync.Cond // signalled when resources are given back
	free     resources.Resources
	queue    []queued
	resuming int // works back from get/wait waiting to take their resources again
	// held is what the node's actors hold (Hold, Unhold): what no work
	// ending will ever give back.
	held resources.Resources
	// slots holds the work running in each worker slot (nil: free; the
	// slot is for the timeline), and running how many are not nil.
	slots   []Work
	running int
	// idle are the parked worker goroutines, each waiting on its own
	// channel for its next work. A worker that finishes a work runs the
	// next one that fits itself, so work goes from goroutine to
	// goroutine only when more run at once.
	idle   []chan start
	closed bool // Drain was called: workers exit instead of parking
	// started counts the worker goroutines ever started (for tests).
	started int
}

// start is a work handed to a worker goroutine, with its worker slot.
type start struct {
	w    Work
	slot int
}

// maxIdle is how many parked worker goroutines a scheduler keeps; a
// worker finding that many parked exits (a burst of tasks blocked in get
// started more workers than the node's resources keep busy).
const maxIdle = 64

// New returns a scheduler for a node with total resources.
func New(total resources.Resources) *Scheduler {
	s := &Scheduler{total: total, free: total}
	s.resumed = sync.NewCond(&s.mu)
	return s
}

// Total is the node's resources.
func (s *Scheduler) Total() resources.Resources { return s.total }

// State reports the free resources, how many works wait in the queue and
// how many run.
func (s *Scheduler) State() (free resources.Resources, queueLen, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.free, len(s.queue), s.running
}

// Enqueue adds a ready work to the queue and starts what fits.
func (s *Scheduler) Enqueue(w Work) {
	s.mu.Lock()
	s.queue = append(s.queue, queued{w: w, at: time.Since(epoch)})
	s.dispatchLocked()
	s.mu.Unlock()
}

// dispatchLocked starts queued works, in order, while their demand fits
// the free resources. Works resuming from get/wait go first.
func (s *Scheduler) dispatchLocked() {
	for s.resuming == 0 {
		w, ok := s.takeFittingLocked()
		if !ok {
			return
		}
		s.handLocked(start{w: w, slot: s.takeSlotLocked(w)})
	}
}

// takeFittingLocked takes the queue's first work off the queue, and its
// demand off the free resources, when it fits (dropping the cancelled
// works before it).
func (s *Scheduler) takeFittingLocked() (Work, bool) {
	for len(s.queue) > 0 {
		w := s.queue[0].w
		if w.Cancelled() {
			s.popLocked()
			continue
		}
		d := w.Demand()
		if !d.Fits(s.free) {
			return nil, false
		}
		s.popLocked()
		s.free = s.free.Sub(d)
		return w, true
	}
	return nil, false
}

// popLocked drops the queue's first work. A queue left empty keeps its
// whole array, so that a node taking one task at a time does not grow a
// new one for each.
func (s *Scheduler) popLocked() {
	s.queue[0] = queued{}
	if len(s.queue) == 1 {
		s.queue = s.queue[:0]
		return
	}
	s.queue = s.queue[1:]
}

// takeSlotLocked puts w in the lowest free worker slot and returns it.
func (s *Scheduler) takeSlotLocked(w Work) int {
	s.running++
	for i, busy := range s.slots {
		if busy == nil {
			s.slots[i] = w
			return i
		}
	}
	s.slots = append(s.slots, w)
	return len(s.slots) - 1
}

// freeSlotLocked marks a worker slot free: its work is over.
func (s *Scheduler) freeSlotLocked(slot int) {
	s.slots[slot] = nil
	s.running--
}

// handLocked gives a started work to a parked worker goroutine, or to a
// new one when none is parked.
func (s *Scheduler) handLocked(st start) {
	if k := len(s.idle); k > 0 {
		inbox := s.idle[k-1]
		s.idle[k-1] = nil
		s.idle = s.idle[:k-1]
		inbox <- st // buffered, and only this send: never blocks
		return
	}
	s.started++
	go s.workerLoop(st)
}

// workerLoop is one long-lived worker goroutine: it runs st, then the
// next work that fits the resources st gave back, and parks when there
// is none until it is handed another. Its stack, grown by the first
// works, stays for the next ones.
func (s *Scheduler) workerLoop(st start) {
	var inbox chan start
	for {
		st.w.Run(st.slot)
		if next, ok := s.finish(st); ok {
			st = next
			continue
		}
		s.mu.Lock()
		if s.closed || len(s.idle) >= maxIdle {
			s.mu.Unlock()
			return
		}
		if inbox == nil {
			inbox = make(chan start, 1)
		}
		s.idle = append(s.idle, inbox)
		s.mu.Unlock()
		var open bool
		if st, open = <-inbox; !open {
			return
		}
	}
}

// finish takes a finished work's resources back and starts what now
// fits; the first such work is returned for the calling worker to run
// itself, in the same slot.
func (s *Scheduler) finish(st start) (next start, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free = s.free.Add(st.w.Demand())
	if s.resuming > 0 {
		s.freeSlotLocked(st.slot)
		s.resumed.Broadcast()
		return start{}, false
	}
	if w, found := s.takeFittingLocked(); found {
		s.slots[st.slot] = w
		next, ok = start{w: w, slot: st.slot}, true
	} else {
		s.freeSlotLocked(st.slot)
	}
	s.dispatchLocked()
	return next, ok
}

// Release gives resources back (a work blocked in get or wait, a stopped
// actor) and starts what now fits.
func (s *Scheduler) Release(demand resources.Resources) {
	s.mu.Lock()
	s.free = s.free.Add(demand)
	if s.resuming > 0 {
		s.resumed.Broadcast()
	} else {
		s.dispatchLocked()
	}
	s.mu.Unlock()
}

// Reacquire takes resources back for a work returning from get or wait,
// ahead of the queue, waiting until they are free.
func (s *Scheduler) Reacquire(demand resources.Resources) {
	s.mu.Lock()
	s.resuming++
	// Waiting makes sense only while works that will end hold what is
	// missing. Resources an actor took while this work was blocked (an
	// actor placed, or restarted, on the node then) may never come back:
	// the work takes its own back over the total rather than wait for
	// ever, as Ray lets a worker back from ray.get oversubscribe.
	for !demand.Fits(s.free) && demand.Fits(s.total.Sub(s.held)) {
		s.resumed.Wait()
	}
	s.resuming--
	s.free = s.free.Sub(demand)
	if s.resuming == 0 {
		s.dispatchLocked()
	}
	s.mu.Unlock()
}

// Hold takes resources for an actor, for as long as it lives (Release
// gives them back). An actor is placed where its demand fits, so Hold
// does not wait.
func (s *Scheduler) Hold(demand resources.Resources) {
	s.mu.Lock()
	s.free = s.free.Sub(demand)
	s.held = s.held.Add(demand)
	s.mu.Unlock()
}

// Unhold gives back what Hold took for an actor that has stopped.
func (s *Scheduler) Unhold(demand resources.Resources) {
	s.mu.Lock()
	s.held = s.held.Sub(demand)
	s.mu.Unlock()
	s.Release(demand)
}

// Drain empties the queue and returns what it held and what runs, for
// the caller to cancel; from then on the worker goroutines exit when
// they have nothing to run.
func (s *Scheduler) Drain() (queuedWork, running []Work) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queue {
		queuedWork = append(queuedWork, q.w)
	}
	s.queue = nil
	s.closed = true
	for _, inbox := range s.idle {
		close(inbox)
	}
	s.idle = nil
	for _, w := range s.slots {
		if w != nil {
			running = append(running, w)
		}
	}
	return queuedWork, running
}

// Select returns the running and queued works that pick chooses.
func (s *Scheduler) Select(pick func(Work) bool) []Work {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Work
	for _, w := range s.slots {
		if w != nil && pick(w) {
			out = append(out, w)
		}
	}
	for _, q := range s.queue {
		if pick(q.w) {
			out = append(out, q.w)
		}
	}
	return out
}

// Stuck lists up to limit queued works that entered the queue before
// since and do not fit the free resources now.
func (s *Scheduler) Stuck(since time.Time, limit int) []Work {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Work
	before := since.Sub(epoch)
	for _, q := range s.queue {
		if len(out) == limit {
			break
		}
		if !q.w.Cancelled() && q.at < before && !q.w.Demand().Fits(s.free) {
			out = append(out, q.w)
		}
	}
	return out
}

// Unqueue takes a work out of the queue; false if it is no longer there
// (it started, or was cancelled).
func (s *Scheduler) Unqueue(w Work) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.queue {
		if q.w == w {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			s.dispatchLocked() // it may have blocked the works behind it
			return true
		}
	}
	return false
}

// Running is a work that runs and its worker slot.
type Running struct {
	W      Work
	Worker int
}

// Snapshot returns, for a report of what the node does (the state API),
// up to limit of the queued works, oldest first, and every work running
// with its worker slot.
func (s *Scheduler) Snapshot(limit int) (queuedWork []Work, running []Running) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queue[:min(limit, len(s.queue))] {
		queuedWork = append(queuedWork, q.w)
	}
	for worker, w := range s.slots {
		if w != nil {
			running = append(running, Running{W: w, Worker: worker})
		}
	}
	return queuedWork, running
}
