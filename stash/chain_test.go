package stash

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestForwardBoundProperty passes task chains A→B→C→... across N simulated
// nodes over a slow GCS (50 ms per batch, much slower than a hop) and checks,
// after every hop, that no stash holds an entry with more than ForwardBound
// hops, that no bundle carries more than ForwardBound records of a chain, and
// that all lineage is recoverable at the end. Node counts, bounds, argument
// dependencies and the number of concurrent chains are drawn at random.
func TestForwardBoundProperty(t *testing.T) {
	trials := 6
	if testing.Short() {
		trials = 2
	}
	for trial := range trials {
		rng := rand.New(rand.NewPCG(uint64(trial), 42))
		n := 4 + rng.IntN(16)
		bound := 1 + rng.IntN(8)
		chains := 1 + rng.IntN(3)
		steps := 2*n + rng.IntN(2*n)
		t.Run(fmt.Sprintf("nodes=%d/bound=%d/chains=%d/steps=%d", n, bound, chains, steps), func(t *testing.T) {
			runChains(t, rng.Uint64(), n, bound, chains, steps)
		})
	}
}

func runChains(t *testing.T, seed uint64, n, bound, chains, steps int) {
	st := newFakeStore(50 * time.Millisecond)
	nodes := make([]*Stash, n)
	names := make([]string, n)
	for i := range nodes {
		names[i] = fmt.Sprintf("n%d", i)
		nodes[i] = New(st, Config{Node: names[i], ForwardBound: bound, ReceivedGrace: 20 * time.Millisecond})
	}
	var mu sync.Mutex // serialises the invariant check against the hops
	checkAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for i, s := range nodes {
			if m := s.Stats().MaxHops; m > bound {
				t.Errorf("node %d holds an entry with %d hops, bound %d", i, m, bound)
			}
		}
	}
	var wg sync.WaitGroup
	for c := range chains {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			at := rng.IntN(n)
			var in Bundle
			from := ""
			var ids []string
			for i := range steps {
				s := nodes[at]
				s.Receive(in, from)
				id := taskName(c, i)
				parent := ""
				if len(ids) > 0 {
					parent = ids[len(ids)-1]
				}
				var args []string
				if len(ids) > 1 && rng.IntN(2) == 0 {
					args = append(args, ids[rng.IntN(len(ids)-1)])
				}
				r := rec(id, parent, args...)
				r.Deterministic = rng.IntN(3) != 0
				check(t, s.Add(r))
				if !r.Deterministic {
					check(t, s.AddOutcome(Outcome{TaskID: id, Kind: KindRandom, Data: []byte{byte(i)}}))
				}
				ids = append(ids, id)
				next := (at + 1) % n
				b, err := s.Forward(id, names[next])
				check(t, err)
				for _, e := range b.Records {
					if e.Hops >= bound {
						t.Errorf("forwarded %s with %d hops, bound %d", e.Record.TaskID, e.Hops, bound)
					}
				}
				for _, e := range b.Outcomes {
					if e.Hops >= bound {
						t.Errorf("forwarded outcome of %s with %d hops, bound %d", e.Outcome.TaskID, e.Hops, bound)
					}
				}
				if len(b.Records) > bound+1 {
					// The chain's records carry 0..bound-1 hops, one per
					// distinct hop count, plus the task itself.
					t.Errorf("bundle of %d records, bound %d", len(b.Records), bound)
				}
				in, err = DecodeBundle(b.Encode())
				check(t, err)
				from, at = names[at], next
				checkAll()
			}
			nodes[at].Receive(in, from)
			// Recovery: every task of the chain is found, in the last stash
			// or the GCS, with its outcomes.
			for _, id := range ids {
				l, err := nodes[at].Lookup(id)
				if err != nil || l.Record.TaskID != id {
					t.Errorf("lookup %s: %+v, %v", id, l.Record.TaskID, err)
					continue
				}
				if !l.Record.Deterministic && len(l.Outcomes) != 1 {
					t.Errorf("lookup %s: %d outcomes, want 1", id, len(l.Outcomes))
				}
			}
		})
	}
	wg.Wait()
	checkAll()
	var sync uint64
	for _, s := range nodes {
		sync += s.Stats().SyncFlushes
		closeStash(t, s)
	}
	if steps > bound+1 && sync == 0 {
		t.Errorf("no synchronous flush in %d hops with bound %d over a slow GCS", steps, bound)
	}
	t.Logf("synchronous flushes: %d, batches: %d", sync, len(st.batches()))
}
