package stash

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// batch is one write in flight: its entries' rows are built and encoded
// by submit, outside the lock.
type batch struct {
	entries []*entry
	done    chan struct{}
	err     error // set before done closes
	// buf is room for the encoded batch (the flusher's last one, which its
	// store no longer reads); data is the encoded batch, set by write.
	buf, data []byte
}

// loop is the background flusher: it writes pending entries in batches, one
// batch in flight at a time, so that what accumulates meanwhile forms the
// next batch.
func (s *Stash) loop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var spare []byte // the last batch's buffer, when its store let it go
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
			// Let a burst gather: one write for many entries costs the
			// GCS far less than one write each.
			select {
			case <-time.After(s.cfg.GatherDelay):
			case <-s.stop:
				return
			}
		case <-timer.C:
		}
		for {
			b, next := s.takeBatch(false)
			if b == nil {
				if next > 0 {
					timer.Reset(time.Duration(next - time.Now().UnixNano()))
				}
				break
			}
			b.buf, spare = spare, nil
			s.submit(b)
			select {
			case <-b.done:
			case <-s.stop:
				return
			}
			spare = s.reusable(b)
		}
	}
}

// lockChunk bounds the entries the flusher handles per hold of the
// stash's lock: a batch of thousands is taken and settled a chunk at a
// time, so that a task's submit (AddSpec, Complete) never waits behind a
// whole batch (the round trip's p99).
const lockChunk = 256

// takeBatch moves eligible delayed entries to the ready queue and takes up
// to MaxBatch ready entries into a new batch, lockChunk at a time. With
// all it takes every pending entry regardless of eligibility. It returns
// nil and the time the next delayed entry becomes eligible (0 if none)
// when nothing is ready.
func (s *Stash) takeBatch(all bool) (*batch, int64) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil, 0
	}
	next := s.promoteDelayedLocked(all)
	size := min(s.ready.len(), s.cfg.MaxBatch)
	es := s.takeReadyLocked(min(lockChunk, s.cfg.MaxBatch))
	if len(es) == 0 {
		s.mu.Unlock()
		return nil, next
	}
	b := s.newBatchLocked(es, size)
	for len(b.entries) < s.cfg.MaxBatch && s.ready.len() > 0 {
		s.mu.Unlock()
		s.mu.Lock()
		if s.done {
			break
		}
		s.addToBatchLocked(b, s.takeReadyLocked(min(lockChunk, s.cfg.MaxBatch-len(b.entries))))
	}
	s.mu.Unlock()
	return b, 0
}

// promoteDelayedLocked moves the delayed entries that are eligible now
// (all of them with all) to the ready queue and returns when the next
// one left becomes eligible (0 if none).
func (s *Stash) promoteDelayedLocked(all bool) int64 {
	now := time.Now().UnixNano()
	var next int64
	keep := s.delayed[:0]
	for _, it := range s.delayed {
		if it.e.state != statePending || it.e.qgen != it.gen {
			continue
		}
		if all || it.notBef <= now {
			s.ready.push(it)
			continue
		}
		if next == 0 || it.notBef < next {
			next = it.notBef
		}
		keep = append(keep, it)
	}
	clear(s.delayed[len(keep):])
	s.delayed = keep
	return next
}

// takeReadyLocked takes up to max pending entries off the ready queue
// (skipping the items no longer current).
func (s *Stash) takeReadyLocked(max int) []*entry {
	var es []*entry
	ready := s.ready.live()
	i := 0
	for ; i < len(ready) && len(es) < max; i++ {
		it := ready[i]
		if it.e.state != statePending || it.e.qgen != it.gen {
			continue
		}
		es = append(es, it.e)
	}
	s.ready.pop(i)
	return es
}

// newBatchLocked marks entries inflight in a new batch, with room for
// size entries.
func (s *Stash) newBatchLocked(es []*entry, size int) *batch {
	b := &batch{entries: make([]*entry, 0, max(size, len(es))), done: make(chan struct{})}
	s.addToBatchLocked(b, es)
	s.inflight[b] = struct{}{}
	s.st.batches++
	return b
}

// addToBatchLocked marks entries inflight in batch b (their rows are
// built by submit, outside the lock).
func (s *Stash) addToBatchLocked(b *batch, es []*entry) {
	for _, e := range es {
		e.state = stateInflight
		e.batch = b
	}
	b.entries = append(b.entries, es...)
}

// submit writes a batch and starts the goroutine that awaits its commit.
// After Close the batch fails with ErrClosed.
func (s *Stash) submit(b *batch) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		s.complete(b, ErrClosed)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	w := b.write(s.store, &s.rowSize)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.FlushTimeout)
		err := w.Wait(ctx)
		cancel()
		s.complete(b, err)
	}()
}

// reusable is the buffer of a batch written for the next batch, or nil:
// only after a successful write to a store that keeps no reference to it
// (BatchReleaser), and not when it has grown large.
func (s *Stash) reusable(b *batch) []byte {
	if _, ok := s.store.(BatchReleaser); !ok || b.err != nil || cap(b.data) > maxSpareBatch {
		return nil
	}
	return b.data[:0]
}

// maxSpareBatch is the largest batch buffer the flusher keeps for the next.
const maxSpareBatch = 4 << 20

// write hands the batch's rows to st: encoded into one gcs.TaskBatch for
// a BatchStore, else as records. It needs no lock: what an entry's row is
// built from (its record, spec or outcome) never changes.
func (b *batch) write(st Store, rowSize *atomic.Int64) Waiter {
	if bs, ok := st.(BatchStore); ok {
		tb := gcs.NewTaskBatchIn(b.buf, len(b.entries)*int(max(rowSize.Load(), minRowGuess))*5/4)
		b.buf = nil
		for _, e := range b.entries {
			if rw, ok := e.spec.(RowWriter); ok {
				rw.AppendRow(tb)
				continue
			}
			rec := e.row()
			tb.Add(&rec)
		}
		data := tb.Bytes()
		rowSize.Store(int64(len(data) / len(b.entries)))
		b.data = data
		return bs.PutTaskBatch(data)
	}
	rows := make([]gcs.TaskRecord, len(b.entries))
	for i, e := range b.entries {
		rows[i] = e.row()
	}
	return st.PutTasks(rows)
}

// minRowGuess is the least size assumed of an entry's row when sizing a
// batch's buffer up front, from the size of the last batch's rows (a
// group's record holds every call's arguments); encoding never depends
// on it.
const minRowGuess = 64

// complete settles a batch: on success its entries are pruned as committed;
// on failure they are queued again after RetryDelay. A committed batch is settled lockChunk entries per hold of the lock.
func (s *Stash) complete(b *batch, err error) {
	if err == nil {
		for start := 0; start < len(b.entries); start += lockChunk {
			s.mu.Lock()
			for _, e := range b.entries[start:min(start+lockChunk, len(b.entries))] {
				if e.state == stateInflight && e.batch == b {
					s.commitLocked(e, "")
				}
			}
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	delete(s.inflight, b)
	if err == nil {
		s.trimLocked()
	} else {
		s.st.flushErrors++
		s.lastErr = err
		at := time.Now().Add(s.cfg.RetryDelay).UnixNano()
		for _, e := range b.entries {
			if e.state == stateInflight && e.batch == b {
				s.enqueueLocked(e, at)
			}
		}
	}
	b.err = err
	s.mu.Unlock()
	close(b.done)
	if err != nil {
		s.signal() // re-arm the flusher's timer for the retry
	}
}

// flushEntries commits the given entries now: it writes those pending in a
// batch of its own, waits for those already in flight, and reports an error
// unless every one of them is committed within timeout.
func (s *Stash) flushEntries(es []*entry, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.flushCtx(ctx, es)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w after %v", ErrFlushTimeout, timeout)
	}
	return err
}

// flushCtx is flushEntries bounded by ctx; with es nil it flushes every
// entry held at the time of the call.
func (s *Stash) flushCtx(ctx context.Context, es []*entry) error {
	s.mu.Lock()
	if es == nil {
		s.indexLocked()
		es = make([]*entry, 0, len(s.entries))
		for _, e := range s.entries {
			es = append(es, e)
		}
	}
	var mine []*entry
	waits := make(map[*batch]struct{})
	for _, e := range es {
		switch e.state {
		case statePending:
			mine = append(mine, e)
		case stateInflight:
			waits[e.batch] = struct{}{}
		}
	}
	var own []*batch
	for len(mine) > 0 {
		n := min(len(mine), s.cfg.MaxBatch)
		b := s.newBatchLocked(mine[:n:n], n)
		own = append(own, b)
		waits[b] = struct{}{}
		mine = mine[n:]
	}
	s.mu.Unlock()
	for _, b := range own {
		s.submit(b)
	}
	for b := range waits {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	failed := 0
	for _, e := range es {
		if e.state != stateCommitted {
			failed++
		}
	}
	if failed == 0 {
		return nil
	}
	var berr error
	for b := range waits {
		if b.err != nil {
			berr = b.err
			break
		}
	}
	if berr == nil {
		berr = s.lastErr
	}
	return fmt.Errorf("stash: %d lineage entries not committed: %w", failed, berr)
}

// Flush writes every entry held now to the GCS, received ones included, and
// waits until they are committed or ctx is done.
func (s *Stash) Flush(ctx context.Context) error {
	return s.flushCtx(ctx, nil)
}

// CloseTimeout bounds the final flush of Close.
const CloseTimeout = 10 * time.Second

// Close flushes what the stash holds (waiting at most CloseTimeout), stops
// the flusher and waits for every goroutine the stash started. Add and
// Receive fail or do nothing afterwards; Lookup still works. It returns the
// final flush's error and may be called more than once.
func (s *Stash) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.loopDone
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	err := s.Flush(ctx)
	cancel()
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return err
}
