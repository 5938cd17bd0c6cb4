package coalesce

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Items added while a send to their address is under way go together
// in the next send, in the order they were added, sent by the Sender's
// goroutine: the caller that led returns after its own send. A
// goroutine alone sends its item itself before Add returns.
func TestItemsAddedDuringASendGoTogether(t *testing.T) {
	sent := make(chan []int, 4)
	release, releaseSecond := make(chan struct{}), make(chan struct{})
	defer close(releaseSecond)
	s := New(func(addr string, items []int) {
		sent <- slices.Clone(items)
		switch items[0] {
		case 0:
			<-release // the first send is on the wire while the others add theirs
		case 1:
			<-releaseSecond // the second send is held: its leader is not the caller
		}
	})
	leader := make(chan struct{})
	go func() {
		s.Add("a", 0)
		close(leader)
	}()
	if got := <-sent; !slices.Equal(got, []int{0}) {
		t.Fatalf("first send %v, want [0]", got)
	}
	for i := 1; i <= 5; i++ {
		s.Add("a", i) // queued: a send is under way
	}
	close(release)
	select {
	case <-leader: // the caller that led returns once its own send is done
	case <-time.After(10 * time.Second):
		t.Fatal("the caller that led is held while the items added during its send are sent")
	}
	select {
	case got := <-sent:
		if !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
			t.Fatalf("second send %v, want [1 2 3 4 5]", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the items added during the first send were never sent")
	}

	s.Add("b", 7) // alone: sent before Add returns
	select {
	case got := <-sent:
		if !slices.Equal(got, []int{7}) {
			t.Fatalf("a lone item: sent %v", got)
		}
	default:
		t.Fatal("a lone item was not sent before Add returned")
	}
}

// Many goroutines adding at once: every item is sent exactly once, and
// those of one goroutine in the order it added them.
func TestEveryItemSentOnceInOrder(t *testing.T) {
	const goroutines, each = 8, 500
	var mu sync.Mutex
	seen := map[int][]int{}
	total := 0
	all := make(chan struct{}) // closed when every item was sent
	s := New(func(addr string, items [][2]int) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			seen[it[0]] = append(seen[it[0]], it[1])
		}
		if total += len(items); total == goroutines*each {
			close(all)
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
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d of %d items sent", total, goroutines*each)
	}
	mu.Lock()
	defer mu.Unlock()
	want := make([]int, each) // 0, 1, ..., each-1: every one once, in order
	for i := range want {
		want[i] = i
	}
	for g := range goroutines {
		if got := seen[g]; len(got) != each || !slices.IsSorted(got) || !slices.Equal(got, want) {
			t.Fatalf("goroutine %d: %d items sent (want %d), in order %v, each once %v", g, len(got), each, slices.IsSorted(got), slices.Equal(got, want))
		}
	}
}
