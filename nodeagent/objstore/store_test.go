package objstore

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
)

func bigList(n int, fill int64) exec.Value {
	items := make([]exec.Value, n)
	for i := range items {
		items[i] = exec.Int(fill)
	}
	return exec.ListOf(items)
}

// Small values are not kept; large ones past the limit are spilled,
// least recently used first, and read back intact.
func TestSpillAndLoad(t *testing.T) {
	dir := t.TempDir()
	s := New(40<<10, dir)
	defer s.Close()
	if h, err := s.Add("small", exec.Int(1)); h != nil || err != nil {
		t.Fatalf("a small value was kept: %v %v", h, err)
	}
	var hs []*Handle
	for i := range 8 {
		h, err := s.Add("task 'big'", bigList(2000, int64(i)))
		if err != nil || h == nil {
			t.Fatalf("add %d: %v %v", i, h, err)
		}
		hs = append(hs, h)
	}
	used, limit, spills, _ := s.Usage()
	if used > limit || spills == 0 {
		t.Fatalf("used %d of %d with %d spills: nothing was spilled", used, limit, spills)
	}
	// Every byte added is in memory or was spilled (nothing was freed or
	// restored yet): what /metrics shows as spilled bytes.
	added := int64(0)
	for _, h := range hs {
		added += h.Size()
	}
	if got := s.SpilledBytes(); got != added-used {
		t.Fatalf("spilled bytes %d, want %d (added %d, in memory %d)", got, added-used, added, used)
	}
	for i, h := range hs {
		v, err := h.Load()
		if err != nil {
			t.Fatalf("load %d: %v", i, err)
		}
		if got := v.AsList().Elems[0].AsInt(); got != int64(i) {
			t.Fatalf("load %d read back %d", i, got)
		}
	}
	if _, _, _, restores := s.Usage(); restores == 0 {
		t.Fatal("no spilled value was restored")
	}
	runtime.KeepAlive(hs)
}

// A value no handle refers to is freed: its memory is no longer counted
// and its spill file is deleted.
func TestCollectedHandleIsFreed(t *testing.T) {
	dir := t.TempDir()
	s := New(10<<10, dir)
	defer s.Close()
	for i := range 4 {
		if _, err := s.Add("task 'big'", bigList(2000, int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the collected values freed and their spill files deleted", func() bool {
		runtime.GC()
		used, _, _, _ := s.Usage()
		files, _ := os.ReadDir(dir + "/spill")
		return used == 0 && len(files) == 0
	})
}

// fixedCaps gives every job the same cap.
type fixedCaps int64

func (c fixedCaps) CapOf(string) int64 { return int64(c) }

// A job's values count against its cap whether in memory or spilled; a
// value past it is refused with a "memory" error and not kept; other
// jobs are not affected; a value freed gives its bytes back.
func TestJobCap(t *testing.T) {
	s := New(20<<10, t.TempDir()) // small: values spill, and still count
	defer s.Close()
	size := exec.EncodedSize(bigList(2000, 1))
	capBytes := 3*size + size/2
	a := Owner{Job: "jobA", Caps: fixedCaps(capBytes), Node: "n1"}
	var held []*Handle
	for i := range 3 {
		h, err := s.AddFor(a, "put", bigList(2000, int64(i)))
		if err != nil || h == nil {
			t.Fatalf("value %d under the cap: %v", i, err)
		}
		held = append(held, h)
	}
	h, err := s.AddFor(a, "put", bigList(2000, 9))
	var xe *exec.Error
	if h != nil || err == nil || !asExecError(err, &xe) || xe.Kind != exec.KindMemory {
		t.Fatalf("a value past the cap: %v, %v", h, err)
	}
	if got := s.JobBytes()["jobA"]; got != 3*size {
		t.Fatalf("job A holds %d bytes, want %d (the refused value is not kept)", got, 3*size)
	}
	if _, err := s.AddFor(Owner{Job: "jobB", Caps: fixedCaps(capBytes)}, "put", bigList(2000, 1)); err != nil {
		t.Fatalf("another job: %v", err)
	}
	held = nil
	testutil.Eventually(t, 5*time.Second, "job A's bytes given back", func() bool {
		runtime.GC()
		return s.JobBytes()["jobA"] == 0
	})
	if _, err := s.AddFor(a, "put", bigList(2000, 9)); err != nil {
		t.Fatalf("after the job's values were freed: %v", err)
	}
	runtime.KeepAlive(held)
}

func asExecError(err error, out **exec.Error) bool {
	xe, ok := err.(*exec.Error)
	*out = xe
	return ok
}
