package stash

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// slotSpec is a recSpec that carries its own stash entry.
type slotSpec struct {
	Slot
	recSpec
}

// A Spec with a Slot is kept in it: AddSpec allocates no entry of its
// own (the queues' room aside, kept across batches), and the entry is
// written, committed and pruned like any other. Added again, the same
// Spec gets an entry of its own instead of overwriting the one held.
func TestSpecSlotHoldsEntry(t *testing.T) {
	st := newFakeStore(0)
	gate := make(chan struct{})
	st.gate = gate
	s := New(st, Config{})
	defer closeStash(t, s)
	open := sync.OnceFunc(func() { close(gate) })
	defer open()
	var builds atomic.Int64
	sp := &slotSpec{recSpec: recSpec{rec(taskName(0, 0), ""), &builds}}
	must(t, s.AddSpec(taskName(0, 0), sp, true))
	s.mu.Lock()
	held := s.unindexed.live()
	if len(held) != 1 || held[0] != &sp.Slot.e {
		s.mu.Unlock()
		t.Fatal("the entry of a Spec with a Slot is not its Slot")
	}
	s.mu.Unlock()
	must(t, s.AddSpec(taskName(0, 0), sp, false)) // not fresh: a duplicate, ignored
	if sp.Slot.e.key != taskName(0, 0) || sp.Slot.e.state == stateCommitted {
		t.Fatalf("re-adding the Spec overwrote its held entry: %+v", sp.Slot.e)
	}

	specs := make([]*slotSpec, 1000)
	ids := make([]string, len(specs))
	for i := range specs {
		ids[i] = taskName(1, i)
		specs[i] = &slotSpec{recSpec: recSpec{rec(ids[i], ""), &builds}}
	}
	i := 0
	allocs := testing.AllocsPerRun(len(specs)-1, func() {
		must(t, s.AddSpec(ids[i], specs[i], true))
		i++
	})
	if allocs > 0.1 {
		t.Fatalf("AddSpec of a Spec with a Slot: %.2f allocations per call, want none but the queues' growth", allocs)
	}
	open()
	testutil.Eventually(t, 10*time.Second, "every slotted spec to commit", func() bool {
		return s.Stats().Uncommitted == 0 && st.has(taskName(1, len(specs)-1)) && st.has(taskName(0, 0))
	})
}
