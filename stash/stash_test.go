package stash

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
)

// held returns a store whose writes never commit until the returned func is
// called.
func held() (*fakeStore, func()) {
	f := newFakeStore(0)
	f.gate = make(chan struct{})
	var once sync.Once
	return f, func() { once.Do(func() { close(f.gate) }) }
}

func TestForwardSendsOnlyWhatReceiverLacks(t *testing.T) {
	st, release := held()
	defer release()
	s := New(st, Config{Node: "n1"})
	defer func() { release(); closeStash(t, s) }()

	must(t, s.Add(rec("j.1", "")))
	must(t, s.Add(rec("j.1.1", "j.1")))
	must(t, s.Add(rec("j.1.2", "j.1", "j.1.1")))
	must(t, s.Add(rec("j.9", ""))) // unrelated: never forwarded with j.1.2

	b, err := s.Forward("j.1.2", "n2")
	must(t, err)
	if got, want := recordIDs(b), []string{"j.1", "j.1.1", "j.1.2"}; !slices.Equal(got, want) {
		t.Fatalf("first forward: %v, want %v", got, want)
	}
	b, err = s.Forward("j.1.2", "n2")
	must(t, err)
	if !b.Empty() {
		t.Fatalf("second forward to the same receiver: %+v, want empty", b)
	}

	// A new child: only it goes to n2; n3 gets the whole lineage.
	must(t, s.Add(rec("j.1.2.1", "j.1.2", "j.1")))
	b, _ = s.Forward("j.1.2.1", "n2")
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1.2.1"}) {
		t.Fatalf("forward of new child to n2: %v", got)
	}
	b, _ = s.Forward("j.1.2.1", "n3")
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1", "j.1.1", "j.1.2", "j.1.2.1"}) {
		t.Fatalf("forward to n3: %v", got)
	}

	// An outcome logged after the record was sent travels on its own.
	must(t, s.AddOutcome(Outcome{TaskID: "j.1.1", Seq: 0, Kind: KindWait, Data: []byte("x")}))
	must(t, s.Add(rec("j.1.2.2", "j.1.2")))
	b, _ = s.Forward("j.1.2.2", "n2")
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1.2.2"}) || len(b.Outcomes) != 1 || b.Outcomes[0].Outcome.TaskID != "j.1.1" {
		t.Fatalf("forward with outcome: records %v outcomes %+v", got, b.Outcomes)
	}

	// What a peer sent us is not sent back to it.
	peer := Bundle{Records: []RecordEntry{{Record: rec("j.5", "j.1"), Hops: 0}}}
	s.Receive(peer, "n4")
	must(t, s.Add(rec("j.5.1", "j.5")))
	b, _ = s.Forward("j.5.1", "n4")
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1", "j.5.1"}) {
		t.Fatalf("forward to the sender of j.5: %v", got)
	}
	if st := s.Stats(); st.Uncommitted != 9 || st.Records != 8 || st.Outcomes != 1 || st.MaxHops != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestDeterminismAndOutcomes(t *testing.T) {
	st, release := held()
	s := New(st, Config{})
	defer func() { release(); closeStash(t, s) }()
	nd := rec("j.1", "")
	nd.Deterministic = false
	must(t, s.Add(nd))
	must(t, s.AddOutcome(Outcome{TaskID: "j.1", Seq: 0, Kind: KindRandom, Data: []byte{7}}))
	must(t, s.AddOutcome(Outcome{TaskID: "j.1", Seq: 1, Kind: KindTime, Data: []byte{8}}))
	must(t, s.Add(rec("j.1.1", "j.1")))
	b, _ := s.Forward("j.1.1", "n2")
	if len(b.Records) != 2 || len(b.Outcomes) != 2 {
		t.Fatalf("bundle: %d records, %d outcomes; want 2, 2", len(b.Records), len(b.Outcomes))
	}
	if err := s.Add(gcs.TaskRecord{}); !errors.Is(err, ErrEmptyID) {
		t.Fatalf("Add without ID: %v", err)
	}
	if err := s.AddOutcome(Outcome{}); !errors.Is(err, ErrEmptyID) {
		t.Fatalf("AddOutcome without ID: %v", err)
	}
}

func TestCommittedNeverForwarded(t *testing.T) {
	st := newFakeStore(0)
	s := New(st, Config{Node: "n1"})
	defer closeStash(t, s)
	r := New(st, Config{Node: "n2", ReceivedGrace: time.Hour})
	defer closeStash(t, r)

	must(t, s.Add(rec("j.1", "")))
	must(t, s.Add(rec("j.1.1", "j.1")))
	must(t, s.Add(rec("j.1.2", "j.1.1")))
	must(t, s.Flush(ctxT(t, 5*time.Second)))
	st.mu.Lock()
	st.gate = make(chan struct{}) // hold writes: j.1.3 stays uncommitted
	st.mu.Unlock()
	must(t, s.Add(rec("j.1.3", "j.1.2")))
	b, err := s.Forward("j.1.3", "n2")
	must(t, err)
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1.3"}) {
		t.Fatalf("forward after commit: %v, want only j.1.3", got)
	}
	r.Receive(b, "n1")
	if n := r.Stats().Uncommitted; n != 1 {
		t.Fatalf("receiver holds %d entries, want 1", n)
	}
	close(st.gate)
	must(t, s.Flush(ctxT(t, 5*time.Second)))
	if n := s.Stats().Uncommitted; n != 0 {
		t.Fatalf("sender holds %d after flush", n)
	}

	// Committed entries: re-adding or receiving them is ignored.
	must(t, s.Add(rec("j.1", "")))
	s.Receive(Bundle{Records: []RecordEntry{{Record: rec("j.1.1", "j.1")}}}, "n3")
	if n := s.Stats().Uncommitted; n != 0 {
		t.Fatalf("re-added committed entries are held: %d", n)
	}
	b, _ = s.Forward("j.1.3", "n5")
	if len(b.Records) != 0 {
		t.Fatalf("committed entries forwarded: %v", recordIDs(b))
	}

	// n2 learns of the commit from the next bundle and prunes j.1.3
	// without writing it.
	b, _ = s.Forward("", "n2")
	if !slices.Equal(b.Committed, []string{"j.1.3"}) {
		t.Fatalf("commit notices for n2: %v", b.Committed)
	}
	r.Receive(b, "n1")
	if st := r.Stats(); st.Uncommitted != 0 || st.Batches != 0 {
		t.Fatalf("receiver after notice: %+v", st)
	}
	if b, _ = s.Forward("", "n2"); !b.Empty() {
		t.Fatalf("notices sent twice: %+v", b)
	}
}

func TestFlusherBatchesAndPrunes(t *testing.T) {
	st := newFakeStore(20 * time.Millisecond)
	s := New(st, Config{})
	defer closeStash(t, s)
	const n = 2000
	for i := range n {
		must(t, s.Add(rec(taskName(0, i), "")))
		if i%2 == 0 {
			must(t, s.AddOutcome(Outcome{TaskID: taskName(0, i), Kind: KindActorOrder, Data: []byte{byte(i)}}))
		}
	}
	testutil.Eventually(t, 10*time.Second, "the flusher to commit everything", func() bool { return s.Stats().Uncommitted == 0 })
	sizes := st.batches()
	total := 0
	for _, b := range sizes {
		total += b
	}
	if total != n+n/2 {
		t.Fatalf("wrote %d rows, want %d", total, n+n/2)
	}
	if len(sizes) > n/10 {
		t.Fatalf("%d batches for %d entries: not batching", len(sizes), n)
	}
	stt := s.Stats()
	if stt.Committed != uint64(n+n/2) || stt.Bytes != 0 || stt.MaxHops != 0 || len(s.tasks) != 0 {
		t.Fatalf("after commit: %+v, %d task nodes", stt, len(s.tasks))
	}
	if !st.has(OutcomeKey(taskName(0, 4), 0)) {
		t.Fatal("outcome row missing")
	}
	t.Logf("%d entries in %d batches: %v...", total, len(sizes), sizes[:min(8, len(sizes))])
}

func TestFlushRetriesFailedBatches(t *testing.T) {
	st := newFakeStore(0)
	st.failNext = 2
	s := New(st, Config{RetryDelay: 5 * time.Millisecond})
	defer closeStash(t, s)
	must(t, s.Add(rec("j.1", "")))
	testutil.Eventually(t, 5*time.Second, "retry to commit", func() bool { return st.has("j.1") && s.Stats().Uncommitted == 0 })
	if stt := s.Stats(); stt.FlushErrors < 1 || !errors.Is(stt.LastError, errFake) {
		t.Fatalf("stats: %+v", stt)
	}
}

func TestForwardBoundFailure(t *testing.T) {
	st, release := held()
	s := New(st, Config{ForwardBound: 2, SyncFlushTimeout: 30 * time.Millisecond})
	defer func() { release(); closeStash(t, s) }()
	s.Receive(Bundle{Records: []RecordEntry{{Record: rec("j.1", ""), Hops: 1}}}, "n0")
	must(t, s.Add(rec("j.1.1", "j.1")))
	b, err := s.Forward("j.1.1", "n2")
	if !errors.Is(err, ErrFlushTimeout) {
		t.Fatalf("Forward over the bound with a stuck GCS: %v", err)
	}
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1", "j.1.1"}) {
		t.Fatalf("bundle after failed flush must keep the lineage: %v", got)
	}
	if stt := s.Stats(); stt.BoundErrors != 1 || stt.SyncFlushes != 1 {
		t.Fatalf("stats: %+v", stt)
	}
	release()
	// Once the GCS is back, forwarding over the bound commits first.
	must(t, s.Add(rec("j.1.2", "j.1")))
	s.Receive(Bundle{Records: []RecordEntry{{Record: rec("j.7", ""), Hops: 5}}}, "n0")
	must(t, s.Add(rec("j.7.1", "j.7")))
	b, err = s.Forward("j.7.1", "n3")
	must(t, err)
	if !b.Empty() {
		t.Fatalf("after a synchronous flush nothing is left to forward: %v", recordIDs(b))
	}
}

func TestObjectTaskMapping(t *testing.T) {
	st, release := held()
	s := New(st, Config{ObjectTask: func(obj string) string {
		if i := len(obj) - 2; i > 0 && obj[i] == '/' {
			return obj[:i]
		}
		return obj
	}})
	defer func() { release(); closeStash(t, s) }()
	must(t, s.Add(rec("j.1", "")))
	must(t, s.Add(rec("j.2", "")))
	must(t, s.Add(rec("j.3", "", "j.1/0", "j.2")))
	b, _ := s.Forward("j.3", "n2")
	if got := recordIDs(b); !slices.Equal(got, []string{"j.1", "j.2", "j.3"}) {
		t.Fatalf("forward follows argument objects: %v", got)
	}
}

func TestCloseFlushesAndLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	st := newFakeStore(10 * time.Millisecond)
	s := New(st, Config{ReceivedGrace: time.Hour})
	for i := range 100 {
		must(t, s.Add(rec(taskName(1, i), "")))
	}
	s.Receive(Bundle{Records: []RecordEntry{{Record: rec("j.peer", "")}}}, "n2")
	must(t, s.Close())
	must(t, s.Close())
	for i := range 100 {
		if !st.has(taskName(1, i)) {
			t.Fatalf("%s not written by Close", taskName(1, i))
		}
	}
	if !st.has("j.peer") {
		t.Fatal("received entry not written by Close")
	}
	if err := s.Add(rec("j.x", "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	checkGoroutines(t, base)
}

func TestConcurrentUse(t *testing.T) {
	base := runtime.NumGoroutine()
	st := newFakeStore(time.Millisecond)
	nodes := []string{"a", "b", "c"}
	ss := make([]*Stash, len(nodes))
	for i, n := range nodes {
		ss[i] = New(st, Config{Node: n, ForwardBound: 3, ReceivedGrace: 5 * time.Millisecond})
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			prev := ""
			for i := range 300 {
				from := rng.IntN(len(ss))
				to := (from + 1 + rng.IntN(len(ss)-1)) % len(ss)
				id := taskName(w, i)
				check(t, ss[from].Add(rec(id, prev)))
				if rng.IntN(3) == 0 {
					check(t, ss[from].AddOutcome(Outcome{TaskID: id, Kind: KindWait, Data: []byte{1}}))
				}
				b, err := ss[from].Forward(id, nodes[to])
				check(t, err)
				dec, err := DecodeBundle(b.Encode())
				check(t, err)
				ss[to].Receive(dec, nodes[from])
				if rng.IntN(50) == 0 {
					check(t, ss[rng.IntN(len(ss))].Flush(ctxT(t, 5*time.Second)))
				}
				if rng.IntN(20) == 0 {
					_ = ss[rng.IntN(len(ss))].Stats()
					_, _ = ss[rng.IntN(len(ss))].Lookup(prev)
				}
				prev = id
			}
		})
	}
	wg.Wait()
	for _, s := range ss {
		if m := s.Stats().MaxHops; m > 3 {
			t.Errorf("max hops %d over the bound 3", m)
		}
		must(t, s.Flush(ctxT(t, 5*time.Second)))
		if n := s.Stats().Uncommitted; n != 0 {
			t.Errorf("after Flush: %d uncommitted", n)
		}
		closeStash(t, s)
	}
	checkGoroutines(t, base)
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeStash, "stash": ModeStash, "sync": ModeSync, "off": ModeOff} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Error("ParseMode(fast) succeeded")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// check is must for goroutines other than the test's.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

var _ = context.Background
