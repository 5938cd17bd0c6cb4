package fifo

import (
	"fmt"
	"runtime"
	"testing"
)

// The Map keeps the latest limit keys, forgets the oldest first, keeps
// the first value of a key added twice, and tells OnEvict what it forgot.
func TestMapForgetsOldestFirst(t *testing.T) {
	f := New[string, int](3)
	var evicted []string
	f.OnEvict = func(k string, v int) { evicted = append(evicted, fmt.Sprint(k, "=", v)) }
	for i, k := range []string{"a", "b", "c"} {
		if !f.Add(k, i) {
			t.Fatalf("Add(%s) refused", k)
		}
	}
	if f.Add("a", 99) {
		t.Fatal("a second Add of a replaced it")
	}
	if v, _ := f.Get("a"); v != 0 {
		t.Fatalf("a = %d, want the first value 0", v)
	}
	f.Add("d", 3) // forgets a
	f.Add("e", 4) // forgets b
	if f.Has("a") || f.Has("b") || !f.Has("c") || !f.Has("d") || !f.Has("e") || f.Len() != 3 {
		t.Fatalf("after d and e: a=%v b=%v c=%v d=%v e=%v len=%d", f.Has("a"), f.Has("b"), f.Has("c"), f.Has("d"), f.Has("e"), f.Len())
	}
	if fmt.Sprint(evicted) != "[a=0 b=1]" {
		t.Fatalf("evicted %v", evicted)
	}
	// A key forgotten may come back, as the newest.
	f.Add("a", 5) // forgets c
	if !f.Has("a") || f.Has("c") {
		t.Fatal("a did not come back in place of c")
	}
}

// Over many additions the Map holds exactly the last limit keys.
func TestMapHoldsTheLastLimitKeys(t *testing.T) {
	const limit = 7
	f := New[int, int](limit)
	for i := 0; i < 100; i++ {
		f.Add(i, i*i)
		if f.Len() != min(i+1, limit) {
			t.Fatalf("after %d adds Len = %d", i+1, f.Len())
		}
		for j := 0; j <= i; j++ {
			if want := j > i-limit; f.Has(j) != want {
				t.Fatalf("after adding %d: Has(%d) = %v", i, j, !want)
			}
		}
	}
}

func TestNewClampsLimit(t *testing.T) {
	f := New[string, bool](0)
	f.Add("a", true)
	f.Add("b", true)
	if f.Len() != 1 || !f.Has("b") {
		t.Fatalf("a Map of limit 0 holds %d", f.Len())
	}
}

func TestAddNewAddsAndForgetsOldestFirst(t *testing.T) {
	f := New[string, int](2)
	f.AddNew("a", 1)
	f.AddNew("b", 2)
	f.AddNew("c", 3) // forgets a
	if f.Has("a") || !f.Has("b") || !f.Has("c") || f.Len() != 2 {
		t.Fatalf("after c: a=%v b=%v c=%v len=%d", f.Has("a"), f.Has("b"), f.Has("c"), f.Len())
	}
	if v, _ := f.Get("c"); v != 3 {
		t.Fatalf("c = %d, want 3", v)
	}
}

// A StringSet keeps the latest limit keys, forgets the oldest first and
// keeps no key string alive.
func TestStringSetForgetsOldestFirst(t *testing.T) {
	s := NewStringSet(3)
	for _, k := range []string{"a", "b", "c"} {
		if !s.Add(k) {
			t.Fatalf("Add(%s) refused", k)
		}
	}
	if s.Add("a") {
		t.Fatal("a second Add of a added it")
	}
	s.Add("d") // forgets a
	if s.Has("a") || !s.Has("b") || !s.Has("d") || s.Len() != 3 {
		t.Fatalf("after d: a=%v b=%v d=%v len=%d", s.Has("a"), s.Has("b"), s.Has("d"), s.Len())
	}
}

// Over many additions, with keys coming back, a StringSet answers as a
// Map of the same limit does (its table shifts entries back on removal).
func TestStringSetAnswersAsAMap(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 7, 100} {
		s, m := NewStringSet(limit), New[string, struct{}](limit)
		for i := 0; i < 5000; i++ {
			k := fmt.Sprint((i * 7919) % (3*limit + 5))
			if s.Add(k) != m.Add(k, struct{}{}) {
				t.Fatalf("limit %d, step %d: Add(%s) differs", limit, i, k)
			}
			if s.Len() != m.Len() {
				t.Fatalf("limit %d, step %d: Len %d, want %d", limit, i, s.Len(), m.Len())
			}
			for j := 0; j < 3*limit+5; j++ {
				if k := fmt.Sprint(j); s.Has(k) != m.Has(k) {
					t.Fatalf("limit %d, step %d: Has(%s) = %v", limit, i, k, s.Has(k))
				}
			}
		}
	}
}

// A StringSet of 65,536 task IDs (the lineage stash's committed keys)
// holds about 19 bytes a key; a Map[string, struct{}] holding the strings
// took about 88 (issue 15: that set filled on every node during a long
// job, 65,536 × 90 bytes, which the soak saw as growth).
func TestStringSetIsSmall(t *testing.T) {
	const n = 1 << 16
	s := NewStringSet(n)
	before := heapInUse()
	for i := 0; i < n; i++ {
		s.Add(fmt.Sprintf("0f3a9c21.%d", 1000000+i))
	}
	perKey := float64(heapInUse()-before) / n
	runtime.KeepAlive(s)
	t.Logf("%.1f bytes a key", perKey)
	if s.Len() != n || perKey > 24 {
		t.Fatalf("%d keys, %.1f bytes a key (want at most 24)", s.Len(), perKey)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
