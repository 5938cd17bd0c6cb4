package gcs

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// pending is one caller's write: one or more commands for the same shard
// that succeed or fail together from the caller's view.
type pending struct {
	cmds       []command
	fut        *Future
	leaderOnly bool // never forwarded (LeaderOnly)
}

// inflight is one log entry handed to raft and the writes it carries, or
// (af nil) writes to forward to the shard's leader.
type inflight struct {
	items []*pending
	af    raft.ApplyFuture
}

// batcher turns a shard's stream of small writes into few raft log entries.
// Its run goroutine hands a batch to raft as one entry, without waiting for
// the commit, as soon as any of these holds: BatchMaxItems commands are
// queued; BatchDelay passed since the first; or raft has nothing of this
// shard in flight (the shard is idle, so waiting would only add latency).
// Under load, writes thus gather while the previous entry commits (group
// commit); a lone write goes out at once. The complete goroutine waits for
// each entry in order and answers its writers' futures. MaxInflight bounds
// the entries between the two, which pushes back on writers when raft
// falls behind.
type batcher struct {
	shard     *shard
	in        chan *pending
	inflight  chan inflight
	quit      chan struct{} // closed by stop
	abandonCh chan struct{} // closed by abandon
	done      chan struct{} // closed when both goroutines ended
	busy      atomic.Int32  // entries handed to raft and not yet answered
	idle      chan struct{} // complete signals that busy fell to zero
	wg        sync.WaitGroup
	maxItems  int
	delay     time.Duration
	timeout   time.Duration
}

func newBatcher(s *shard, cfg *Config) *batcher {
	b := &batcher{
		shard:     s,
		in:        make(chan *pending, 4*cfg.BatchMaxItems),
		inflight:  make(chan inflight, cfg.MaxInflight),
		quit:      make(chan struct{}),
		abandonCh: make(chan struct{}),
		done:      make(chan struct{}),
		idle:      make(chan struct{}, 1),
		maxItems:  cfg.BatchMaxItems,
		delay:     cfg.BatchDelay,
		timeout:   cfg.ApplyTimeout,
	}
	b.wg.Add(2)
	go b.run()
	go b.complete()
	go func() { b.wg.Wait(); close(b.done) }()
	return b
}

// submit queues p. The store guarantees no submit after stop begins.
func (b *batcher) submit(p *pending) {
	b.in <- p
}

// Closing takes three steps, because raft may never answer an entry: one
// still in its apply queue, or one a leader without a quorum cannot commit,
// stays unanswered even after raft shuts down.
//
//  1. stop: the run goroutine hands every queued write to raft and ends;
//     complete goes on answering entries as they commit.
//  2. drained (waited on with a timeout while raft still runs): both
//     goroutines have ended. This is the normal case, and every write made
//     before Close is then applied.
//  3. abandon, then wait: complete stops waiting for raft and fails what is
//     left with ErrClosed, and the store shuts raft down.
func (b *batcher) stop() { close(b.quit) }

// drained is closed once both goroutines have ended.
func (b *batcher) drained() <-chan struct{} { return b.done }

// abandon makes complete give up on entries raft has not answered.
func (b *batcher) abandon() { close(b.abandonCh) }

// wait waits for both goroutines to end; call it after abandon.
func (b *batcher) wait() { <-b.done }

func (b *batcher) run() {
	defer b.wg.Done()
	defer close(b.inflight)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var batch []*pending
	n := 0
	for {
		select {
		case p := <-b.in:
			if len(batch) == 0 && b.delay > 0 {
				timer.Reset(b.delay)
			}
			batch, n = b.drain(append(batch, p), n+len(p.cmds))
			if n >= b.maxItems || b.delay == 0 || b.busy.Load() == 0 {
				timer.Stop()
				batch, n = b.flush(batch), 0
			}
		case <-b.idle:
			if len(batch) > 0 {
				timer.Stop()
				batch, n = b.flush(batch), 0
			}
		case <-timer.C:
			batch, n = b.flush(batch), 0
		case <-b.quit:
			b.flushQueued(batch, n)
			return
		}
	}
}

// flushQueued hands batch and every write still queued to raft. No write
// can arrive after quit: the store stops submitting first.
func (b *batcher) flushQueued(batch []*pending, n int) {
	for {
		batch, n = b.drain(batch, n)
		if len(batch) == 0 {
			return
		}
		batch, n = b.flush(batch), 0
	}
}

// drain takes the writes already queued without waiting, up to the limit.
func (b *batcher) drain(batch []*pending, n int) ([]*pending, int) {
	for n < b.maxItems {
		select {
		case p := <-b.in:
			batch, n = append(batch, p), n+len(p.cmds)
		default:
			return batch, n
		}
	}
	return batch, n
}

// flush hands batch to raft as one log entry and returns an empty batch
// that reuses nothing of the old one (complete still reads it).
func (b *batcher) flush(batch []*pending) []*pending {
	if len(batch) == 0 {
		return nil
	}
	var cmds []command
	if len(batch) == 1 {
		cmds = batch[0].cmds
	} else {
		for _, p := range batch {
			cmds = append(cmds, p.cmds...)
		}
	}
	if b.forwarding() && b.shard.raft.State() != raft.Leader {
		if batch = b.refuseLeaderOnly(batch, b.shard.notLeader()); len(batch) > 0 {
			b.busy.Add(1)
			b.inflight <- inflight{items: batch}
		}
		return nil
	}
	b.busy.Add(1)
	af := b.shard.raft.Apply(encodeBatch(cmds), b.timeout)
	b.inflight <- inflight{items: batch, af: af}
	return nil
}

// forwarding reports whether writes this replica cannot apply go to the
// shard's leader.
func (b *batcher) forwarding() bool { return b.shard.st.forwarder() != nil }

// refuseLeaderOnly fails the LeaderOnly writes of batch with err and
// returns the others.
func (b *batcher) refuseLeaderOnly(batch []*pending, err error) []*pending {
	rest := batch[:0:0]
	for _, p := range batch {
		if p.leaderOnly {
			p.fut.respond(err)
		} else {
			rest = append(rest, p)
		}
	}
	return rest
}

func failAll(batch []*pending, err error) {
	for _, p := range batch {
		p.fut.respond(err)
	}
}

// complete answers futures in log order as raft applies their entries.
func (b *batcher) complete() {
	defer b.wg.Done()
	for e := range b.inflight {
		b.settle(e)
		if b.busy.Add(-1) == 0 {
			select {
			case b.idle <- struct{}{}:
			default:
			}
		}
	}
}

// settle answers the writes of e: applied here, or (when forwarding)
// by the shard's leader, if e was never applied here or this replica
// lost the lead while committing it.
func (b *batcher) settle(e inflight) {
	items := e.items
	if e.af != nil {
		raw := b.waitApply(e.af)
		if raw == nil {
			res, _ := e.af.Response().(*applyResult)
			answer(items, res)
			return
		}
		err := b.translate(raw)
		if !b.forwarding() || !leaderMoved(raw) || errors.Is(err, ErrClosed) {
			failAll(items, err)
			return
		}
		if items = b.refuseLeaderOnly(items, err); len(items) == 0 {
			return
		}
	}
	res, err := b.shard.st.forwardEntry(b.shard, items, b.abandonCh)
	if err != nil {
		failAll(items, err)
		return
	}
	answer(items, res)
}

// waitApply waits for raft to answer af, or for abandon (ErrClosed), and
// returns raft's error as it is. raft's futures cannot be selected on, so
// a helper goroutine waits; after abandon it is left to end when (if
// ever) raft answers.
func (b *batcher) waitApply(af raft.ApplyFuture) error {
	ch := make(chan error, 1)
	go func() { ch <- af.Error() }()
	select {
	case err := <-ch:
		return err
	case <-b.abandonCh:
		return ErrClosed
	}
}

// translate maps raft's error for an entry to the store's. Once the store
// gave up waiting, every failure is ErrClosed: raft reports its shutdown
// to the entries in flight as a lost leadership.
func (b *batcher) translate(err error) error {
	if err == nil {
		return nil
	}
	select {
	case <-b.abandonCh:
		return ErrClosed
	default:
		return b.shard.translate(err)
	}
}

// answer gives each write the first error among its own commands.
func answer(items []*pending, res *applyResult) {
	if res == nil || (res.err == nil && res.errs == nil) {
		failAll(items, nil)
		return
	}
	if res.err != nil {
		failAll(items, res.err)
		return
	}
	off := 0
	for _, p := range items {
		p.fut.respond(firstError(res.errs[off : off+len(p.cmds)]))
		off += len(p.cmds)
	}
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
