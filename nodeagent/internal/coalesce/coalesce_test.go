package coalesce

import (
	"slices"
	"sync"
	"testing"
)

// Items added while a send to their address is under way go together
// in the next send, in the order they were added; a goroutine alone
// sends its item itself before Add returns.
func TestItemsAddedDuringASendGoTogether(t *testing.T) {
	var mu sync.Mutex
	var sends [][]int
	firstSent := make(chan struct{})
	release := make(chan struct{})
	s := New(func(addr string, items []int) {
		mu.Lock()
		sends = append(sends, slices.Clone(items))
		n := len(sends)
		mu.Unlock()
		if n == 1 {
			close(firstSent)
			<-release // the first send is on the wire while the others add theirs
		}
	})
	leader := make(chan struct{})
	go func() {
		s.Add("a", 0)
		close(leader)
	}()
	<-firstSent
	for i := 1; i <= 5; i++ {
		s.Add("a", i) // queued: the leader sends them
	}
	close(release)
	<-leader
	mu.Lock()
	want := [][]int{{0}, {1, 2, 3, 4, 5}}
	if !slices.EqualFunc(sends, want, slices.Equal[[]int]) {
		t.Fatalf("sends %v, want %v", sends, want)
	}
	mu.Unlock()

	s.Add("b", 7) // alone: sent before Add returns
	mu.Lock()
	defer mu.Unlock()
	if got := sends[len(sends)-1]; len(sends) != 3 || !slices.Equal(got, []int{7}) {
		t.Fatalf("a lone item: sends %v", sends)
	}
}

// Many goroutines adding at once: every item is sent exactly once, and
// those of one goroutine in the order it added them.
func TestEveryItemSentOnceInOrder(t *testing.T) {
	const goroutines, each = 8, 500
	var mu sync.Mutex
	seen := map[int][]int{}
	s := New(func(addr string, items [][2]int) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			seen[it[0]] = append(seen[it[0]], it[1])
		}
	})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				s.Add("a", [2]int{g, i})
			}
		})
	}
	wg.Wait()
	for g := range goroutines {
		if got := seen[g]; len(got) != each || !slices.IsSorted(got) {
			t.Fatalf("goroutine %d: %d items sent (want %d), in order %v", g, len(got), each, slices.IsSorted(got))
		}
	}
}
