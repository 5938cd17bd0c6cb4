package nodeagent

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/stash"
)

// orderLog is what a process keeps of the order in which actors ran the
// calls it made. Each answer from an actor's host says where the call
// stood in the actor's order; the host logs the same in its stash, which
// writes it to the GCS a moment later. If the host dies in that moment,
// the callers still hold the places of the calls they made, and a restart
// reads them from here (queryLineage). The log is bounded: the oldest
// entries go first, long after the host committed them.
type orderLog struct {
	mu      sync.Mutex
	byActor map[string]map[uint64]string // actor ID -> place -> call ID
	fifo    []orderKey                   // oldest first
	// calls are the latest method calls this process made on actors it
	// did not create, by call ID (at most keptCallLimit, oldest first in
	// callIDs): a restart that finds one in the order but nowhere else
	// rebuilds it from here.
	calls   map[string]*exec.TaskCall
	callIDs []string
}

type orderKey struct {
	actor string
	seq   uint64
}

// orderLogLimit bounds the places an orderLog keeps; keptCallLimit the
// calls (each holds its arguments, up to InlineLimit apiece).
const (
	orderLogLimit = 1 << 16
	keptCallLimit = 4096
)

// note keeps that call ran as call number seq of actor.
func (l *orderLog) note(actor string, seq uint64, call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byActor == nil {
		l.byActor = map[string]map[uint64]string{}
	}
	if len(l.fifo) >= orderLogLimit {
		old := l.fifo[0]
		l.fifo = l.fifo[1:]
		if m := l.byActor[old.actor]; m != nil {
			delete(m, old.seq)
			if len(m) == 0 {
				delete(l.byActor, old.actor)
			}
		}
	}
	m := l.byActor[actor]
	if m == nil {
		m = map[uint64]string{}
		l.byActor[actor] = m
	}
	if _, dup := m[seq]; !dup {
		m[seq] = call
		l.fifo = append(l.fifo, orderKey{actor, seq})
	}
}

// keepCall keeps the specification of a call made on a handed-over actor.
func (l *orderLog) keepCall(call *exec.TaskCall) {
	for _, a := range call.Args {
		if exec.EncodedSize(a) > InlineLimit {
			return // a record could not keep it either
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]*exec.TaskCall{}
	}
	if len(l.callIDs) >= keptCallLimit {
		delete(l.calls, l.callIDs[0])
		l.callIDs[0] = ""
		l.callIDs = l.callIDs[1:]
	}
	if _, dup := l.calls[call.ID]; !dup {
		l.calls[call.ID] = call
		l.callIDs = append(l.callIDs, call.ID)
	}
}

// call returns a kept call's specification, or nil.
func (l *orderLog) call(id string) *exec.TaskCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[id]
}

// outcomes returns what the log holds of an actor's order.
func (l *orderLog) outcomes(actor string) []stash.OutcomeEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []stash.OutcomeEntry
	for seq, call := range l.byActor[actor] {
		out = append(out, stash.OutcomeEntry{Outcome: stash.Outcome{TaskID: actor, Seq: seq, Kind: stash.KindActorOrder, Data: []byte(call)}})
	}
	return out
}
