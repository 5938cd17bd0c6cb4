package stash

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
)

var errFake = errors.New("fake: write failed")

// fakeStore is an in-memory Store whose batches commit after delay, and
// which can fail batches or hold them until released.
type fakeStore struct {
	mu       sync.Mutex
	rows     map[string]gcs.TaskRecord
	delay    time.Duration
	failNext int
	sizes    []int
	gate     chan struct{} // if set, writes commit only once it is closed
}

func newFakeStore(delay time.Duration) *fakeStore {
	return &fakeStore{rows: make(map[string]gcs.TaskRecord), delay: delay}
}

func (f *fakeStore) PutTasks(recs []gcs.TaskRecord) Waiter {
	cp := slices.Clone(recs)
	f.mu.Lock()
	f.sizes = append(f.sizes, len(cp))
	failing := f.failNext > 0
	if failing {
		f.failNext--
	}
	gate := f.gate
	f.mu.Unlock()
	done := make(chan struct{})
	var err error
	apply := func() {
		if gate != nil {
			<-gate
		}
		if failing {
			err = errFake
		} else {
			f.mu.Lock()
			for _, r := range cp {
				f.rows[r.TaskID] = r
			}
			f.mu.Unlock()
		}
		close(done)
	}
	switch {
	case gate != nil:
		go apply()
	case f.delay > 0:
		time.AfterFunc(f.delay, apply)
	default:
		apply()
	}
	return WaiterFunc(func(ctx context.Context) error {
		select {
		case <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (f *fakeStore) GetTask(id string) (gcs.TaskRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[id]
	if !ok {
		return r, gcs.ErrNotFound
	}
	return r, nil
}

func (f *fakeStore) batches() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sizes)
}

func (f *fakeStore) has(id string) bool {
	_, err := f.GetTask(id)
	return err == nil
}

// rec returns a task record with the given parent and argument tasks.
func rec(id, parent string, args ...string) gcs.TaskRecord {
	r := gcs.TaskRecord{TaskID: id, JobID: "j", ParentID: parent, Function: "f", Deterministic: true,
		Resources: map[string]float64{"CPU": 1}, OwnerNode: "n1", State: "submitted"}
	for _, a := range args {
		r.Args = append(r.Args, gcs.TaskArg{ObjectID: a})
	}
	r.Args = append(r.Args, gcs.TaskArg{Inline: []byte{1, 2, 3}})
	return r
}

func recordIDs(b Bundle) []string {
	var ids []string
	for _, r := range b.Records {
		ids = append(ids, r.Record.TaskID)
	}
	slices.Sort(ids)
	return ids
}

func closeStash(t testing.TB, s *Stash) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// checkGoroutines fails if the goroutine count does not return to base.
func checkGoroutines(t testing.TB, base int) {
	t.Helper()
	n := runtime.NumGoroutine()
	defer func() {
		if n > base {
			buf := make([]byte, 1<<16)
			t.Logf("goroutines: %d, want <= %d\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	}()
	testutil.Eventually(t, 2*time.Second, fmt.Sprintf("goroutines back to %d", base), func() bool {
		n = runtime.NumGoroutine()
		return n <= base
	})
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func taskName(chain, i int) string { return fmt.Sprintf("j.%d.%d", chain, i) }
