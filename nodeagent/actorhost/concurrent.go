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

// start runs ac on a thread of its own once fewer than n calls run. It
// blocks the actor's goroutine while n calls run.
func (cc *concurrent) start(a *Actor, ac *call) {
	cc.slots <- struct{}{}
	cc.startHolding(a, ac)
}

// tryStart starts ac at once if fewer than n calls run, and reports
// whether it did.
func (cc *concurrent) tryStart(a *Actor, ac *call) bool {
	select {
	case cc.slots <- struct{}{}:
	default:
		return false
	}
	cc.startHolding(a, ac)
	return true
}

// startHolding runs ac on a thread of its own, holding a slot already.
func (cc *concurrent) startHolding(a *Actor, ac *call) {
	cc.mu.Lock()
	if reason := cc.cancelled; reason != "" { // stopped while it waited for a slot: failed as the queued calls were
		cc.mu.Unlock()
		<-cc.slots
		ac.res.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
		return
	}
	th := cc.threadLocked(ac.call.ID)
	cc.threads[th] = true
	cc.running.Add(1)
	cc.mu.Unlock()
	go func() {
		defer cc.finished(th)
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
	}()
}

// threadLocked is the thread of call callID: a spare one made ready
// again, or a new one. The caller holds cc.mu.
func (cc *concurrent) threadLocked(callID string) *exec.Thread {
	var spare *exec.Thread
	if k := len(cc.spare); k > 0 {
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

// finished gives back the slot and the thread of a call that has
// returned: nothing uses the thread any more, and Stop no longer cancels
// it, so it is scrubbed and kept for a later call.
func (cc *concurrent) finished(th *exec.Thread) {
	th.Scrub()
	cc.mu.Lock()
	delete(cc.threads, th)
	if len(cc.spare) < cap(cc.slots) {
		cc.spare = append(cc.spare, th)
	}
	cc.mu.Unlock()
	<-cc.slots
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
