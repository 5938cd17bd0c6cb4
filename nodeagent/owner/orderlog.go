package owner

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/fifo"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/stash"
)

// OrderLog is what a process keeps of the order in which actors ran the
// calls it made. Each answer from an actor's host says where the call
// stood in the actor's order; the host logs the same in its stash, which
// writes it to the GCS a moment later. If the host dies in that moment,
// the callers still hold the places of the calls they made, and a restart
// reads them from here (wire.QueryLineage). The log is bounded: the oldest
// entries go first, long after the host committed them.
type OrderLog struct {
	mu sync.Mutex
	// places are the places this log keeps (at most orderLogLimit, the
	// oldest forgotten first); byActor indexes them: actor ID -> place ->
	// call ID. Both are nil until the first note.
	places  *fifo.Map[orderKey, struct{}]
	byActor map[string]map[uint64]string
	// calls are the latest method calls this process made on actors it
	// did not create, by call ID (at most keptCallLimit; nil until the
	// first): a restart that finds one in the order but nowhere else
	// rebuilds it from here.
	calls *fifo.Map[string, *exec.TaskCall]
}

type orderKey struct {
	actor string
	seq   uint64
}

// orderLogLimit bounds the places an OrderLog keeps; keptCallLimit the
// calls (each holds its arguments, up to objstore.InlineLimit apiece).
const (
	orderLogLimit = 1 << 16
	keptCallLimit = 4096
)

// Note keeps that call ran as call number seq of actor.
func (l *OrderLog) Note(actor string, seq uint64, call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.places == nil {
		l.byActor = map[string]map[uint64]string{}
		l.places = fifo.New[orderKey, struct{}](orderLogLimit)
		l.places.OnEvict = l.forgetPlace
	}
	if !l.places.Add(orderKey{actor, seq}, struct{}{}) {
		return
	}
	m := l.byActor[actor]
	if m == nil {
		m = map[uint64]string{}
		l.byActor[actor] = m
	}
	m[seq] = call
}

// forgetPlace drops an evicted place from the index. The caller holds l.mu.
func (l *OrderLog) forgetPlace(k orderKey, _ struct{}) {
	if m := l.byActor[k.actor]; m != nil {
		delete(m, k.seq)
		if len(m) == 0 {
			delete(l.byActor, k.actor)
		}
	}
}

// KeepCall keeps the specification of a call made on a handed-over actor.
func (l *OrderLog) KeepCall(call *exec.TaskCall) {
	for _, a := range call.Args {
		if exec.EncodedSize(a) > objstore.InlineLimit {
			return // a record could not keep it either
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = fifo.New[string, *exec.TaskCall](keptCallLimit)
	}
	l.calls.Add(call.ID, call)
}

// Call returns a kept call's specification, or nil.
func (l *OrderLog) Call(id string) *exec.TaskCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		return nil
	}
	c, _ := l.calls.Get(id)
	return c
}

// Outcomes returns what the log holds of an actor's order.
func (l *OrderLog) Outcomes(actor string) []stash.OutcomeEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []stash.OutcomeEntry
	for seq, call := range l.byActor[actor] {
		out = append(out, stash.OutcomeEntry{Outcome: stash.Outcome{TaskID: actor, Seq: seq, Kind: stash.KindActorOrder, Data: []byte(call)}})
	}
	return out
}

// Len counts the places and the calls the log keeps.
func (l *OrderLog) Len() (places, calls int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.places != nil {
		places = l.places.Len()
	}
	if l.calls != nil {
		calls = l.calls.Len()
	}
	return places, calls
}
