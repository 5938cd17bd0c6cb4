package stash

import (
	"testing"
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
