package gcs

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// pending is one caller's write: one or more commands for the same shard
// that succeed or fail together from the caller's view.
type pending struct {
	cmds []command
	fut  *Future
}

// inflight is one log entry handed to raft and the writes it carries.
type inflight struct {
	items []*pending
	af    raft.ApplyFuture
}

// batcher turns a shard's stream of small writes into few raft log entries.
// Its run goroutine collects writes until BatchMaxItems commands are queued
// or BatchDelay passed since the first, then hands them to raft as one
// entry; it does not wait for the commit. The complete goroutine waits for
// each entry in order and answers its writers' futures. MaxInflight bounds
// the entries between the two, which pushes back on writers when raft
// falls behind.
type batcher struct {
	shard    *shard
	in       chan *pending
	inflight chan inflight
	quit     chan struct{}
	wg       sync.WaitGroup
	maxItems int
	delay    time.Duration
	timeout  time.Duration
}

func newBatcher(s *shard, cfg *Config) *batcher {
	b := &batcher{
		shard:    s,
		in:       make(chan *pending, 4*cfg.BatchMaxItems),
		inflight: make(chan inflight, cfg.MaxInflight),
		quit:     make(chan struct{}),
		maxItems: cfg.BatchMaxItems,
		delay:    cfg.BatchDelay,
		timeout:  cfg.ApplyTimeout,
	}
	b.wg.Add(2)
	go b.run()
	go b.complete()
	return b
}

// submit queues p. The store guarantees no submit after stop begins.
func (b *batcher) submit(p *pending) {
	b.in <- p
}

// stop asks the run goroutine to end; it fails the writes it has not yet
// handed to raft. Both goroutines may still be waiting on raft (a leader
// without a quorum never answers), so the store shuts raft down, which
// answers every entry, and then calls wait.
func (b *batcher) stop() { close(b.quit) }

// wait waits for both goroutines to end.
func (b *batcher) wait() { b.wg.Wait() }

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
			batch, n = append(batch, p), n+len(p.cmds)
			batch, n = b.drain(batch, n)
			if n >= b.maxItems || b.delay == 0 {
				timer.Stop()
				batch, n = b.flush(batch), 0
			}
		case <-timer.C:
			batch, n = b.flush(batch), 0
		case <-b.quit:
			failAll(batch, ErrClosed)
			b.failQueued()
			return
		}
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
	af := b.shard.raft.Apply(encodeBatch(cmds), b.timeout)
	b.inflight <- inflight{items: batch, af: af}
	return nil
}

func (b *batcher) failQueued() {
	for {
		select {
		case p := <-b.in:
			p.fut.respond(ErrClosed)
		default:
			return
		}
	}
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
		if err := e.af.Error(); err != nil {
			failAll(e.items, b.translate(err))
			continue
		}
		res, _ := e.af.Response().(*applyResult)
		answer(e.items, res)
	}
}

// translate maps raft's error for an entry to the store's. Once the store
// is closing, every failure is ErrClosed: raft reports its shutdown to the
// entries in flight as a lost leadership.
func (b *batcher) translate(err error) error {
	select {
	case <-b.quit:
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
