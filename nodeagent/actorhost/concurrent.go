package actorhost

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
)

// A concurrent actor (@concurrency(n), n > 1) runs up to n method calls
// at once, each on a thread of its own, with one rule for its state: a
// call holds the actor (its state lock) while it runs, and gives it up
// only while it waits (get, wait, time.sleep: exec.Blocking), taking it
// back before it goes on. So the fields are only ever touched by one
// call at a time, a call sees no other call's writes between two of its
// waits, and n calls that spend their time waiting finish in about the
// time of one (spec/declarations.md#concurrent-actors). Calls start in
// mailbox order; they finish in any order.

// concurrent is how a concurrent actor runs its calls.
//
// Ownership: slots and running are taken by the actor's goroutine (start)
// and the calls' goroutines; state is the actor's state lock, held by
// the call that runs; threads and spare are guarded by mu (Stop cancels
// the threads from any goroutine).
type concurrent struct {
	slots     chan struct{} // one per call running
	state     sync.Mutex    // held by the call that touches the fields
	newThread func(callID string, spare *exec.Thread) *exec.Thread
	running   sync.WaitGroup

	mu      sync.Mutex
	threads map[*exec.Thread]bool
	// spare are the threads of calls that have returned, scrubbed, for
	// the next calls (at most n: one per slot), so that a call does not
	// make a thread, its map and its stacks each time.
	spare     []*exec.Thread
	cancelled string // set by cancel: calls that start later stop at once
}

func newConcurrent(n int, newThread func(string, *exec.Thread) *exec.Thread) *concurrent {
	return &concurrent{slots: make(chan struct{}, n), newThread: newThread, threads: map[*exec.Thread]bool{}}
}

// dispatch is the actor's goroutine's work for a concurrent actor that
// started: it waits for a call in the mailbox, then for a free slot,
// then starts the mailbox's first call. It takes the slot before the
// call, so that while it waits the calls that return run the mailbox's
// calls themselves, in order (run). It reports false once the actor is
// to stop.
func (a *Actor) dispatch() bool {
	if !a.waitMail() {
		return false
	}
	cc := a.conc
	cc.slots <- struct{}{}
	a.mu.Lock()
	if len(a.mailbox) == 0 { // a returning call took it
		<-cc.slots
		a.mu.Unlock()
		return true
	}
	next := a.popLocked()
	a.mu.Unlock()
	cc.startHolding(a, next)
	return true
}

// waitMail waits until the mailbox holds a call, and reports false if
// the actor is to stop instead.
func (a *Actor) waitMail() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.mailbox) == 0 && !a.stopped && !a.orphans {
		a.wake.Wait()
	}
	return !a.stopped && len(a.mailbox) > 0
}

// takeNext is what a call of a concurrent actor that has returned does
// next: the mailbox's first call, keeping its slot, or nil with the slot
// given back when the mailbox is empty. The slot goes back under a.mu,
// so that a call is never left in the mailbox with a slot free and no
// one to start it (Enqueue queues a call only when no slot is free, or
// behind others).
func (a *Actor) takeNext() *call {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.mailbox) > 0 {
		a.continued++
		return a.popLocked()
	}
	<-a.conc.slots
	return nil
}

// tryStart starts ac at once if fewer than n calls run, and reports
// whether it did. The caller holds a.mu, and the mailbox is empty.
func (cc *concurrent) tryStart(a *Actor, ac *call) bool {
	select {
	case cc.slots <- struct{}{}:
	default:
		return false
	}
	cc.startHolding(a, ac)
	return true
}

// startHolding runs ac on a thread of its own, holding a slot already;
// the calls it takes from the mailbox after it run on the same thread
// and goroutine (run).
func (cc *concurrent) startHolding(a *Actor, ac *call) {
	cc.mu.Lock()
	if reason := cc.cancelled; reason != "" { // stopped while it waited for a slot: failed as the queued calls were
		cc.mu.Unlock()
		<-cc.slots
		ac.res.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
		return
	}
	th := cc.threadLocked(ac.call.ID, nil)
	cc.threads[th] = true
	cc.running.Add(1)
	cc.mu.Unlock()
	go cc.run(a, th, ac)
}

// run runs ac on th, then the calls it takes from the mailbox after it,
// holding its slot until the mailbox is empty.
func (cc *concurrent) run(a *Actor, th *exec.Thread, ac *call) {
	for {
		cc.runOne(a, th, ac)
		th.Scrub()
		for {
			if ac = a.takeNext(); ac == nil {
				cc.finished(th)
				return
			}
			var reason string
			if th, reason = cc.rethread(th, ac.call.ID); reason == "" {
				break
			}
			// Stopped since: failed as the queued calls were.
			ac.res.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
		}
	}
}

// runOne runs one call (or checkpoint) of the actor on th.
func (cc *concurrent) runOne(a *Actor, th *exec.Thread, ac *call) {
	if !ac.checkpoint {
		// Its arguments are waited for before it takes the actor,
		// so that the actor's other calls run meanwhile.
		ac.args, ac.argsErr = a.node.ResolveArgs(ac.res.Name(), ac.call.Args)
		if ac.args == nil && ac.argsErr == nil {
			ac.args = []exec.Value{}
		}
	}
	cc.state.Lock()
	defer cc.state.Unlock()
	a.runOn(th, ac)
}

// rethread makes th, whose call has returned, the thread of call
// callID, or reports why the actor stopped, in which case the call does
// not run.
func (cc *concurrent) rethread(th *exec.Thread, callID string) (*exec.Thread, string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.cancelled != "" {
		return th, cc.cancelled
	}
	next := cc.threadLocked(callID, th)
	if next != th {
		delete(cc.threads, th)
		cc.threads[next] = true
	}
	return next, ""
}

// threadLocked is the thread of call callID: spare (a returned call's),
// or else one of the spare threads, made ready again, or a new one. The
// caller holds cc.mu.
func (cc *concurrent) threadLocked(callID string, spare *exec.Thread) *exec.Thread {
	if k := len(cc.spare); spare == nil && k > 0 {
		spare, cc.spare[k-1] = cc.spare[k-1], nil
		cc.spare = cc.spare[:k-1]
	}
	th := cc.newThread(callID, spare)
	if th != spare {
		th.Yield = func(wait func()) {
			cc.state.Unlock()
			defer cc.state.Lock()
			wait()
		}
	}
	return th
}

// finished keeps the thread of a call that has returned, with the
// mailbox empty and its slot given back: nothing uses the thread any
// more, and Stop no longer cancels it, so it is kept, scrubbed, for a
// later call.
func (cc *concurrent) finished(th *exec.Thread) {
	cc.mu.Lock()
	delete(cc.threads, th)
	if len(cc.spare) < cap(cc.slots) {
		cc.spare = append(cc.spare, th)
	}
	cc.mu.Unlock()
	cc.running.Done()
}

// drain waits for the running calls to finish. A nil concurrent has none.
func (cc *concurrent) drain() {
	if cc != nil {
		cc.running.Wait()
	}
}

// cancel stops the running calls at their next check, and any call that
// starts later. A nil concurrent has none.
func (cc *concurrent) cancel(reason string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.cancelled = reason
	for th := range cc.threads {
		th.Cancel(reason)
	}
}
