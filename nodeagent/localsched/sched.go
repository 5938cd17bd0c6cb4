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
	// Run runs the work, on a goroutine of its own; worker is its worker
	// slot (for the timeline). When it is over it calls Finished.
	Run(worker int)
}

// queued is a work waiting in the queue, and since when.
type queued struct {
	w  Work
	at time.Time
}

// Scheduler is one node's local scheduler.
type Scheduler struct {
	total resources.Resources // fixed

	mu       sync.Mutex
	resumed  *sync.Cond // signalled when resources are given back
	free     resources.Resources
	queue    []queued
	running  map[Work]int // the work running, and its worker slot
	resuming int          // works back from get/wait waiting to take their resources again
	workers  []bool       // worker slots in use, for the timeline
}

// New returns a scheduler for a node with total resources.
func New(total resources.Resources) *Scheduler {
	s := &Scheduler{total: total, free: total, running: map[Work]int{}}
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
	return s.free, len(s.queue), len(s.running)
}

// Enqueue adds a ready work to the queue and starts what fits.
func (s *Scheduler) Enqueue(w Work) {
	s.mu.Lock()
	s.queue = append(s.queue, queued{w: w, at: time.Now()})
	s.dispatchLocked()
	s.mu.Unlock()
}

// dispatchLocked starts queued works, in order, while their demand fits
// the free resources. Works resuming from get/wait go first.
func (s *Scheduler) dispatchLocked() {
	for len(s.queue) > 0 && s.resuming == 0 {
		w := s.queue[0].w
		if w.Cancelled() {
			s.queue[0] = queued{}
			s.queue = s.queue[1:]
			continue
		}
		d := w.Demand()
		if !d.Fits(s.free) {
			return
		}
		s.queue[0] = queued{}
		s.queue = s.queue[1:]
		s.free = s.free.Sub(d)
		worker := s.takeWorkerLocked()
		s.running[w] = worker
		go w.Run(worker)
	}
}

// takeWorkerLocked returns the lowest free worker slot.
func (s *Scheduler) takeWorkerLocked() int {
	for i, busy := range s.workers {
		if !busy {
			s.workers[i] = true
			return i
		}
	}
	s.workers = append(s.workers, true)
	return len(s.workers) - 1
}

// Finished is called by a work once it is over: its resources go back
// and what now fits starts.
func (s *Scheduler) Finished(w Work) {
	s.mu.Lock()
	if worker, ok := s.running[w]; ok {
		delete(s.running, w)
		s.workers[worker] = false
	}
	s.mu.Unlock()
	s.Release(w.Demand())
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
	for !demand.Fits(s.free) {
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
	s.mu.Unlock()
}

// Drain empties the queue and returns what it held and what runs, for
// the caller to cancel.
func (s *Scheduler) Drain() (queuedWork, running []Work) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queue {
		queuedWork = append(queuedWork, q.w)
	}
	s.queue = nil
	for w := range s.running {
		running = append(running, w)
	}
	return queuedWork, running
}

// Select returns the running and queued works that pick chooses.
func (s *Scheduler) Select(pick func(Work) bool) []Work {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Work
	for w := range s.running {
		if pick(w) {
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
	for _, q := range s.queue {
		if len(out) == limit {
			break
		}
		if !q.w.Cancelled() && q.at.Before(since) && !q.w.Demand().Fits(s.free) {
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
	for w, worker := range s.running {
		running = append(running, Running{W: w, Worker: worker})
	}
	return queuedWork, running
}
