package stash

import "testing"

// A queue hands its items back oldest first across pops of any size,
// including the pop that moves a mostly taken queue's rest to the front;
// the slots it has taken hold nothing (an entry taken is not kept alive
// by the queue); a drained queue keeps its room unless it grew past
// queueKeep.
func TestQueueOrderAndRoom(t *testing.T) {
	var q queue[*int]
	vals := make([]int, 2*queueKeep)
	for i := range vals {
		vals[i] = i
	}
	pushed, popped := 0, 0
	push := func(n int) {
		for range n {
			q.push(&vals[pushed])
			pushed++
		}
	}
	pop := func(n int) {
		t.Helper()
		for i, p := range q.live()[:n] {
			if p != &vals[popped+i] {
				t.Fatalf("item %d taken from the queue is %d", popped+i, *p)
			}
		}
		q.pop(n)
		popped += n
		for i, p := range q.items[:q.head] {
			if p != nil {
				t.Fatalf("taken slot %d still holds an item", i)
			}
		}
		if q.len() != pushed-popped {
			t.Fatalf("the queue holds %d items, want %d", q.len(), pushed-popped)
		}
	}

	push(3)
	pop(2)
	push(1)
	pop(2) // drained: its room is kept
	if q.head != 0 || len(q.items) != 0 || cap(q.items) == 0 {
		t.Fatalf("a small drained queue: head %d, %d items, room %d; want 0, 0 and its room kept", q.head, len(q.items), cap(q.items))
	}

	push(queueKeep)
	before := q.items[:len(q.items)]
	pop(queueKeep/2 + 1) // mostly taken: the rest moves to the front
	if q.head != 0 {
		t.Fatalf("a queue past half taken was not compacted: head %d", q.head)
	}
	for i, p := range before[q.len():] {
		if p != nil {
			t.Fatalf("slot %d, behind the moved items, still holds an item", q.len()+i)
		}
	}
	push(queueKeep / 2)
	pop(q.len()) // drained after growing past queueKeep: its room goes
	if q.items != nil || q.head != 0 {
		t.Fatalf("a large drained queue kept room %d, head %d", cap(q.items), q.head)
	}
}
