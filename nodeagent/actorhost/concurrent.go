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
// the call that runs; threads is guarded by mu (Stop cancels them from
// any goroutine).
type concurrent struct {
	slots     chan struct{} // one per call running
	state     sync.Mutex    // held by the call that touches the fields
	newThread func(callID string) *exec.Thread
	running   sync.WaitGroup

	mu        sync.Mutex
	threads   map[*exec.Thread]bool
	cancelled string // set by cancel: calls that start later stop at once
}

func newConcurrent(n int, newThread func(string) *exec.Thread) *concurrent {
	return &concurrent{slots: make(chan struct{}, n), newThread: newThread, threads: map[*exec.Thread]bool{}}
}

// start runs ac on a thread of its own once fewer than n calls run. It
// blocks the actor's goroutine while n calls run.
func (cc *concurrent) start(a *Actor, ac *call) {
	cc.slots <- struct{}{}
	th := cc.newThread(ac.call.ID)
	th.Yield = func(wait func()) {
		cc.state.Unlock()
		defer cc.state.Lock()
		wait()
	}
	cc.mu.Lock()
	if reason := cc.cancelled; reason != "" { // stopped while it waited for a slot: failed as the queued calls were
		cc.mu.Unlock()
		<-cc.slots
		ac.res.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
		return
	}
	cc.threads[th] = true
	cc.mu.Unlock()
	cc.running.Add(1)
	go func() {
		defer func() {
			cc.mu.Lock()
			delete(cc.threads, th)
			cc.mu.Unlock()
			<-cc.slots
			cc.running.Done()
		}()
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
