package head

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// Heartbeats that arrive while the membership's lock is held are applied
// together, under one hold of it once it is free, not under one hold
// each: a thousand nodes' heartbeats no longer queue a thousand
// goroutines on the lock ahead of the global scheduler. Each heartbeat
// still gets its own answer.
func TestWaitingHeartbeatsTakeTheLockOnce(t *testing.T) {
	m := NewMembership(openStore(t), time.Minute)
	defer m.Close()
	const nodes = 200
	epochs := make([]uint64, nodes)
	for i := range epochs {
		e, err := m.Register(fmt.Sprintf("n%03d", i), fmt.Sprintf("127.0.0.1:%d", 1000+i), map[string]float64{"cpu": 2}, false)
		if err != nil {
			t.Fatal(err)
		}
		epochs[i] = e
	}
	before := m.beatStats.batches.Load()
	m.mu.Lock() // a placement, say, holds it
	errs := make([]error, nodes+1)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Heartbeat(fmt.Sprintf("n%03d", i), epochs[i], map[string]float64{"cpu": 1}, 0, 1, 0)
		}()
	}
	wg.Add(1)
	go func() { // a stale one among them
		defer wg.Done()
		errs[nodes] = m.Heartbeat("n000", epochs[0]+1000, map[string]float64{"cpu": 1}, 0, 1, 0)
	}()
	testutil.Eventually(t, 10*time.Second, "every heartbeat waiting", func() bool {
		return m.beatStats.sent.Load() == nodes+1 && int64(len(m.beats))+m.beatStats.taken.Load() == nodes+1
	})
	m.mu.Unlock()
	wg.Wait()
	for i, err := range errs[:nodes] {
		if err != nil {
			t.Fatalf("heartbeat of n%03d: %v", i, err)
		}
	}
	if !errors.Is(errs[nodes], ErrStaleEpoch) {
		t.Fatalf("a heartbeat of an unknown epoch: %v, want ErrStaleEpoch", errs[nodes])
	}
	// The applier may have taken the first before the rest arrived.
	if n := m.beatStats.batches.Load() - before; n > 2 {
		t.Fatalf("%d heartbeats took the lock %d times, want at most 2", nodes+1, n)
	}
	for _, l := range m.Loads() {
		if l.Running != 1 {
			t.Fatalf("loads after the heartbeats: %v", m.Loads())
		}
	}
}

// A heartbeat after Close is refused rather than left waiting.
func TestHeartbeatAfterClose(t *testing.T) {
	m := NewMembership(openStore(t), time.Minute)
	e, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := m.Heartbeat("a", e, map[string]float64{"cpu": 2}, 0, 0, 0); !errors.Is(err, ErrMembershipClosed) {
		t.Fatalf("a heartbeat after Close: %v, want ErrMembershipClosed", err)
	}
}
