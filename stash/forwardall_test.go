package stash

import (
	"fmt"
	"testing"
	"time"
)

// ForwardAll sends the lineage of tasks going together in one bundle:
// every task's record and an ancestor they share, once; the receiver is
// then known to hold it all, so a later ForwardAll of the same tasks
// sends nothing.
func TestForwardAllOneBundleForManyTasks(t *testing.T) {
	st := newFakeStore(0)
	gate := make(chan struct{})
	st.gate = gate
	s := New(st, Config{})
	defer closeStash(t, s)
	defer close(gate)
	must(t, s.Add(rec("j.1", "")))
	var ids []string
	for _, id := range []string{"j.1.1", "j.1.2", "j.1.3"} {
		must(t, s.Add(rec(id, "j.1", "j.1")))
		ids = append(ids, id)
	}
	b, err := s.ForwardAll(ids, "n2")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range b.Records {
		seen[r.Record.TaskID]++
	}
	if len(b.Records) != 4 || seen["j.1"] != 1 || seen["j.1.1"] != 1 || seen["j.1.2"] != 1 || seen["j.1.3"] != 1 {
		t.Fatalf("bundle records %v, want j.1 once and each task once", seen)
	}
	if again, _ := s.ForwardAll(ids, "n2"); len(again.Records) != 0 {
		t.Fatalf("forwarded again to a holder: %d records", len(again.Records))
	}
	if one, _ := s.Forward("j.1.2", "n3"); len(one.Records) != 2 {
		t.Fatalf("Forward of one task to another node: %d records, want 2", len(one.Records))
	}
}

// ForwardAll keeps no entry alive in the stash's scratch once it returns:
// a long lineage walked first and a short one after leave nothing behind
// (the scratch is reused from the front, and nothing else clears its
// tail), and neither does the bound's walk when what it found commits.
func TestForwardAllLeavesScratchClear(t *testing.T) {
	for _, bound := range []int{0, 1} {
		st := newFakeStore(0)
		s := New(st, Config{ForwardBound: bound, SyncFlushTimeout: 10 * time.Second})
		var chain Bundle // j.1 and a chain of its descendants: a long lineage
		parent := "j.1"
		chain.Records = append(chain.Records, RecordEntry{Record: rec(parent, ""), Hops: bound})
		for i := range 8 {
			id := fmt.Sprintf("%s.%d", parent, i)
			chain.Records = append(chain.Records, RecordEntry{Record: rec(id, parent), Hops: bound})
			parent = id
		}
		// Received: with a bound, the chain has travelled past it, so
		// ForwardAll commits it first (the store is open) and then walks
		// only what is left.
		s.Receive(chain, "n3")
		must(t, s.Add(rec("k.1", ""))) // a lineage of one
		if _, err := s.ForwardAll([]string{parent, "k.1"}, "n2"); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		left := 0
		for _, e := range s.scratch[:cap(s.scratch)] {
			if e != nil {
				left++
			}
		}
		s.mu.Unlock()
		closeStash(t, s)
		if left > 0 {
			t.Errorf("bound %d: %d entries left in the scratch after ForwardAll", bound, left)
		}
	}
}
