package stash

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// gatedGCS holds PutTasks on a real store until released.
type gatedGCS struct {
	Store
	gate chan struct{}
	once sync.Once
}

func (g *gatedGCS) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedGCS) PutTasks(recs []gcs.TaskRecord) Waiter {
	ch := make(chan Waiter, 1)
	go func() { <-g.gate; ch <- g.Store.PutTasks(recs) }()
	return &lazyWaiter{ch: ch}
}

type lazyWaiter struct {
	ch chan Waiter
	w  Waiter
}

func (l *lazyWaiter) Wait(ctx context.Context) error {
	if l.w == nil {
		select {
		case l.w = <-l.ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return l.w.Wait(ctx)
}

func openGCS(t *testing.T) *gcs.Store {
	t.Helper()
	g, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestLookupStashThenGCS(t *testing.T) {
	direct := GCS(openGCS(t))
	st := &gatedGCS{Store: direct, gate: make(chan struct{})}
	defer st.release()
	s := New(st, Config{Node: "n1"})
	defer closeStash(t, s)

	r := rec("j.1.1", "j.1")
	r.Deterministic = false
	must(t, s.Add(r))
	o0 := Outcome{TaskID: "j.1.1", Seq: 0, Kind: KindWait, Data: []byte("ready:j.1.1.1")}
	o1 := Outcome{TaskID: "j.1.1", Seq: 1, Kind: KindRandom, Data: []byte{42}}
	must(t, s.AddOutcome(o0))
	must(t, s.AddOutcome(o1))

	// Uncommitted: found in the stash.
	l, ok := s.LookupLocal("j.1.1")
	if !ok || !reflect.DeepEqual(l.Record, r) || !reflect.DeepEqual(l.Outcomes, []Outcome{o0, o1}) {
		t.Fatalf("LookupLocal before commit: %+v, %v", l, ok)
	}
	l, err := s.Lookup("j.1.1")
	if err != nil || !reflect.DeepEqual(l.Record, r) || len(l.Outcomes) != 2 {
		t.Fatalf("Lookup before commit: %+v, %v", l, err)
	}
	if _, err := LookupStore(direct, "j.1.1"); !errors.Is(err, gcs.ErrNotFound) {
		t.Fatalf("GCS has the record before the flush: %v", err)
	}

	// Committed: pruned from the stash, found in the GCS.
	st.release()
	must(t, s.Flush(ctxT(t, 10*time.Second)))
	if _, ok := s.LookupLocal("j.1.1"); ok {
		t.Fatal("committed task still in the stash")
	}
	l, err = s.Lookup("j.1.1")
	if err != nil || !reflect.DeepEqual(l.Record, r) || !reflect.DeepEqual(l.Outcomes, []Outcome{o0, o1}) {
		t.Fatalf("Lookup after commit: %+v, %v", l, err)
	}

	// A later outcome in the stash joins the committed ones.
	o2 := Outcome{TaskID: "j.1.1", Seq: 2, Kind: KindTime, Data: []byte{9}}
	s.mu.Lock()
	s.insertLocked(OutcomeKey("j.1.1", 2), "j.1.1", nil, &o2, 0, "n9", time.Now().UnixNano()+int64(time.Hour))
	s.mu.Unlock()
	l, err = s.Lookup("j.1.1")
	if err != nil || !reflect.DeepEqual(l.Outcomes, []Outcome{o0, o1, o2}) {
		t.Fatalf("Lookup with a stashed outcome: %+v, %v", l.Outcomes, err)
	}

	if _, err := s.Lookup("j.nope"); !errors.Is(err, gcs.ErrNotFound) {
		t.Fatalf("Lookup of an unknown task: %v", err)
	}
}

func TestWriteSyncGCS(t *testing.T) {
	st := GCS(openGCS(t))
	r := rec("j.2", "")
	must(t, WriteSync(ctxT(t, 10*time.Second), st, r))
	l, err := LookupStore(st, "j.2")
	if err != nil || !reflect.DeepEqual(l.Record, r) || len(l.Outcomes) != 0 {
		t.Fatalf("LookupStore: %+v, %v", l, err)
	}
	if err := WriteSync(ctxT(t, time.Second), st, gcs.TaskRecord{}); !errors.Is(err, ErrEmptyID) {
		t.Fatalf("WriteSync without ID: %v", err)
	}
}

func openGCSB() (*gcs.Store, error) { return gcs.Open(gcs.DefaultConfig()) }

// The flusher writes each batch of entries as one row of the GCS, not a
// row per entry, and every entry is found in it afterwards.
func TestFlushWritesOneGCSRowPerBatch(t *testing.T) {
	g := openGCS(t)
	s := New(GCS(g), Config{Node: "n1", GatherDelay: 20 * time.Millisecond})
	defer closeStash(t, s)
	const n = 1000
	for i := 0; i < n; i++ {
		must(t, s.Add(rec(fmt.Sprintf("j.%d", i), "")))
	}
	must(t, s.AddOutcome(Outcome{TaskID: "j.7", Seq: 0, Kind: KindRandom, Data: []byte{1}}))
	must(t, s.Flush(ctxT(t, 10*time.Second)))
	batches, records := g.TaskBatches()
	if written := s.Stats().Batches; uint64(batches) != written || records != n+1 {
		t.Fatalf("the GCS holds %d rows of %d records; the stash wrote %d batches of %d entries", batches, records, written, n+1)
	}
	if batches > 3 {
		t.Fatalf("%d entries added at once took %d batches", n+1, batches)
	}
	for _, id := range []string{"j.0", "j.500", "j.999"} {
		if _, err := LookupStore(GCS(g), id); err != nil {
			t.Fatalf("LookupStore(%s): %v", id, err)
		}
	}
	if l, err := LookupStore(GCS(g), "j.7"); err != nil || len(l.Outcomes) != 1 {
		t.Fatalf("LookupStore(j.7) = %+v, %v", l, err)
	}
}
