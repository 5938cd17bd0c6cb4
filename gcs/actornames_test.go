package gcs

import (
	"bytes"
	"sync"
	"testing"
)

// A name is claimed by one actor: a claim for another actor fails with
// ErrConflict unless it names the holder as stale; the holder claims it
// again freely; a release by another actor leaves it, the holder's
// frees it.
func TestActorNameClaims(t *testing.T) {
	st := openTest(t, nil)
	must(t, st.ClaimActorName(ActorName{Namespace: "ns", Name: "p", ActorID: "a", Claimed: 1}, ""))
	if err := st.ClaimActorName(ActorName{Namespace: "ns", Name: "p", ActorID: "b"}, "").Error(); !IsConflict(err) {
		t.Fatalf("a second actor's claim: %v", err)
	}
	if err := st.ClaimActorName(ActorName{Namespace: "ns", Name: "p", ActorID: "b"}, "c").Error(); !IsConflict(err) {
		t.Fatalf("a claim over a holder that is not the one found stale: %v", err)
	}
	must(t, st.ClaimActorName(ActorName{Namespace: "ns", Name: "p", ActorID: "a", Claimed: 2}, ""))
	must(t, st.ClaimActorName(ActorName{Namespace: "other", Name: "p", ActorID: "b"}, ""))
	must(t, st.ReleaseActorName("ns", "p", "b"))
	if n, err := st.GetActorName("ns", "p", Linearizable); err != nil || n.ActorID != "a" || n.Claimed != 2 {
		t.Fatalf("after another actor's release: %+v %v", n, err)
	}
	must(t, st.ClaimActorName(ActorName{Namespace: "ns", Name: "p", ActorID: "c"}, "a"))
	must(t, st.ReleaseActorName("ns", "p", "c"))
	if _, err := st.GetActorName("ns", "p", Linearizable); err != ErrNotFound {
		t.Fatalf("after the holder's release: %v", err)
	}
}

// Of many claims of one name for different actors at the same moment,
// exactly one succeeds.
func TestActorNameClaimsRace(t *testing.T) {
	st := openTest(t, nil)
	for round := 0; round < 20; round++ {
		name := string(rune('a' + round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.ClaimActorName(ActorName{Namespace: "ns", Name: name, ActorID: string(rune('0' + i))}, "").Error()
				if err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				} else if !IsConflict(err) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("round %d: %d claims won, want 1", round, won)
		}
	}
}

// A snapshot written before the actornames table reads with it empty.
func TestSnapshotBeforeActorNamesTable(t *testing.T) {
	old := "0101066b6e6f6465730200ff01056b6a6f62730201ff01096b70726f6772616d730202ff01066b7461736b730203ff01086b6f626a656374730204ff01076b6163746f72730205ff01066b73746174730206ff01086b6170696a6f62730207ff010b6b6170696a6f62646174610208ff010a6b7365727665617070730209ff"
	got, err := readTables(bytes.NewReader(mustHex(t, old)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rows[TableServeApps]) != 1 || len(got.rows[TableActorNames]) != 0 {
		t.Fatalf("old snapshot reads as %+v", got.rows)
	}
}
