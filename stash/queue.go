package stash

// queueKeep is the most items whose room a drained queue keeps for the
// next ones; a longer backing array is let go.
const queueKeep = 1 << 14

// queue is a FIFO that keeps its backing array when it drains (up to
// queueKeep items), so that a steady flow of entries (a batch taken, the
// next one gathering) does not grow a new slice from nothing every time.
// The stash's lock guards it.
type queue[T any] struct {
	items []T
	head  int // items[:head] are taken and cleared
}

func (q *queue[T]) push(x T) { q.items = append(q.items, x) }

// len is the number of items queued.
func (q *queue[T]) len() int { return len(q.items) - q.head }

// live is the items queued, oldest first; valid until the next push or pop.
func (q *queue[T]) live() []T { return q.items[q.head:] }

// pop takes the n oldest items off the queue.
func (q *queue[T]) pop(n int) {
	clear(q.items[q.head : q.head+n])
	q.head += n
	switch {
	case q.head == len(q.items):
		q.head = 0
		if cap(q.items) > queueKeep {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
	case q.head >= queueKeep/2 && q.head > len(q.items)/2:
		// Mostly taken: move what is left to the front.
		k := copy(q.items, q.items[q.head:])
		clear(q.items[k:])
		q.items = q.items[:k]
		q.head = 0
	}
}
