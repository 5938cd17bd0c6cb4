package stash

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// batchKeeper is a BatchStore that keeps every batch written to it as
// given (as a store sending it over the network might), and with
// releases says it does not (BatchReleaser).
type batchKeeper struct {
	*fakeStore
	mu      sync.Mutex
	batches [][]byte // as given
	copies  [][]byte // what they held when given
}

func (k *batchKeeper) PutTaskBatch(batch []byte) Waiter {
	k.mu.Lock()
	k.batches = append(k.batches, batch)
	k.copies = append(k.copies, bytes.Clone(batch))
	k.mu.Unlock()
	return WaiterFunc(func(context.Context) error { return nil })
}

type releasingKeeper struct{ *batchKeeper }

func (releasingKeeper) ReleasesBatches() {}

// writeBatches adds n records through st, a batch each, each committed
// before the next is added; k sees the batches.
func writeBatches(t *testing.T, st Store, k *batchKeeper, n int) {
	t.Helper()
	s := New(st, Config{GatherDelay: time.Millisecond})
	defer closeStash(t, s)
	for i := range n {
		must(t, s.Add(rec(taskName(2, i), "")))
		testutil.Eventually(t, 10*time.Second, "the batch to commit", func() bool {
			k.mu.Lock()
			defer k.mu.Unlock()
			return len(k.batches) == i+1 && s.Stats().Uncommitted == 0
		})
	}
}

// The flusher writes its next batch into the buffer of the last one only
// when its store releases batches once written (BatchReleaser): a store
// that may keep a batch finds it unchanged.
func TestFlusherReusesBufferOnlyWhenReleased(t *testing.T) {
	kept := &batchKeeper{fakeStore: newFakeStore(0)}
	writeBatches(t, kept, kept, 3)
	for i, b := range kept.batches {
		if !bytes.Equal(b, kept.copies[i]) {
			t.Fatalf("batch %d changed after it was written to a store that may keep it", i)
		}
	}
	rel := &batchKeeper{fakeStore: newFakeStore(0)}
	writeBatches(t, releasingKeeper{rel}, rel, 3)
	if &rel.batches[1][0] != &rel.batches[0][0] || &rel.batches[2][0] != &rel.batches[0][0] {
		t.Fatal("the flusher did not reuse its batch buffer with a store that releases batches")
	}
	for i, b := range rel.copies {
		if !bytes.Contains(b, []byte(taskName(2, i))) {
			t.Fatalf("batch %d, written into the reused buffer, lacks its record %s", i, taskName(2, i))
		}
	}
}

// failingKeeper is a releasingKeeper whose first write fails (a timeout,
// say) while the store still holds the batch, as a GCS whose batcher has
// not encoded it yet would.
type failingKeeper struct {
	releasingKeeper
	failed bool
}

func (k *failingKeeper) PutTaskBatch(batch []byte) Waiter {
	k.releasingKeeper.PutTaskBatch(batch)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.failed {
		k.failed = true
		return WaiterFunc(func(context.Context) error { return errors.New("write timed out") })
	}
	return WaiterFunc(func(context.Context) error { return nil })
}

// After a failed write the flusher never writes into that batch's buffer
// again, even for a store that releases batches: the store may still be
// reading it. The entries are written again, in a buffer of their own.
func TestFlusherDoesNotReuseAFailedBatch(t *testing.T) {
	k := &failingKeeper{releasingKeeper: releasingKeeper{&batchKeeper{fakeStore: newFakeStore(0)}}}
	s := New(k, Config{GatherDelay: time.Millisecond, RetryDelay: time.Millisecond})
	defer closeStash(t, s)
	must(t, s.Add(rec(taskName(2, 0), "")))
	testutil.Eventually(t, 10*time.Second, "the failed batch to be written again", func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		return len(k.batches) >= 2 && s.Stats().Uncommitted == 0
	})
	for i := 1; i <= 3; i++ {
		must(t, s.Add(rec(taskName(2, i), "")))
		testutil.Eventually(t, 10*time.Second, "the batch to commit", func() bool {
			return s.Stats().Uncommitted == 0
		})
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !bytes.Equal(k.batches[0], k.copies[0]) {
		t.Fatal("the flusher wrote into the buffer of a batch whose write failed")
	}
	if len(k.batches) < 5 || &k.batches[4][0] != &k.batches[2][0] {
		t.Fatalf("%d batches written: the flusher no longer reuses the buffers of batches written", len(k.batches))
	}
}
