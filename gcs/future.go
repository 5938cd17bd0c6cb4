package gcs

import "time"

// Future is the result of an asynchronous write, in the style of raft's
// futures: Error waits until the write is applied (or has failed) and
// returns its error. A Future may be waited on from any goroutine, any
// number of times.
type Future struct {
	done  chan struct{}
	err   error
	parts []*Future // set when the write spans shards
}

func newFuture() *Future {
	return &Future{done: make(chan struct{})}
}

// errorFuture returns a Future that has already failed (or, with a nil
// error, succeeded).
func errorFuture(err error) *Future {
	f := newFuture()
	f.respond(err)
	return f
}

// joinFutures returns a Future that completes when all parts do and reports
// the first error among them.
func joinFutures(parts []*Future) *Future {
	if len(parts) == 1 {
		return parts[0]
	}
	return &Future{parts: parts}
}

// respond completes the future; it is called exactly once.
func (f *Future) respond(err error) {
	f.err = err
	close(f.done)
}

// Error blocks until the write is applied on the leader's state machine and
// returns nil, or returns why it failed: ErrNotLeader (as *NotLeaderError),
// ErrClosed, ErrTimeout, or an error from the write itself (ErrNotFound for
// MarkDead of an unknown node). A write that failed with a leadership change
// may or may not have been applied.
func (f *Future) Error() error {
	if f.parts != nil {
		var first error
		for _, p := range f.parts {
			if err := p.Error(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	<-f.done
	return f.err
}

// ErrorTimeout is Error with a bound on the wait; it returns ErrTimeout when
// d passes first. The write itself goes on.
func (f *Future) ErrorTimeout(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, p := range f.leaves() {
		select {
		case <-p.done:
		case <-t.C:
			return ErrTimeout
		}
	}
	return f.Error()
}

func (f *Future) leaves() []*Future {
	if f.parts == nil {
		return []*Future{f}
	}
	var out []*Future
	for _, p := range f.parts {
		out = append(out, p.leaves()...)
	}
	return out
}

// WaitAll waits for every future and returns the first error: the
// synchronous form of a group of writes.
func WaitAll(fs ...*Future) error {
	return joinFutures(fs).Error()
}
