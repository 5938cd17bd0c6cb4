package head

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Heartbeats are applied in batches. Every node's heartbeat arrives on a
// connection goroutine of its own; when each took Membership.mu itself,
// 1,000 nodes heartbeating every 50 ms on a loaded machine queued
// hundreds of goroutines on the lock, and the global scheduler's
// placements waited behind them (the simulated control plane,
// nodeagent/sim: 21.5 s of waiting on the lock in a 4 s run, 98% of it
// in Membership.Heartbeat, and 446 heartbeats timed out). Now a
// heartbeat is handed to one goroutine, applyBeats, which takes every
// heartbeat waiting (up to maxBeatBatch) under one hold of the lock and
// answers each with its own result: a placement waits for one batch at
// most, and a heartbeat's answer (a stale epoch, an unknown node) is what
// it was. (The same run then waited 0.3 s on the lock in all.)

// maxBeatBatch bounds the heartbeats applied under one hold of the lock
// (and the heartbeats waiting to be).
const maxBeatBatch = 1024

// ErrMembershipClosed is returned for a heartbeat after Close.
var ErrMembershipClosed = errors.New("the membership table is closed")

// beat is one heartbeat on its way to applyBeats, and where its result
// goes.
type beat struct {
	id                        string
	epoch                     uint64
	free                      resources.Resources
	freeMap                   map[string]float64
	queueLen, running, actors int
	done                      chan error // capacity 1
}

// beatStats counts what applyBeats did, for tests.
type beatStats struct {
	sent    atomic.Int64 // heartbeats handed to applyBeats
	taken   atomic.Int64 // heartbeats taken from the channel, not yet answered
	batches atomic.Int64 // holds of the lock
}

// send hands b to applyBeats and waits for its result.
func (m *Membership) send(b *beat) error {
	m.beatStats.sent.Add(1)
	select {
	case m.beats <- b:
	case <-m.stop:
		return ErrMembershipClosed
	}
	select {
	case err := <-b.done:
		return err
	case <-m.beatsDone:
		// Answered before the end, perhaps.
		select {
		case err := <-b.done:
			return err
		default:
			return ErrMembershipClosed
		}
	}
}

// applyBeats applies heartbeats until Close. A panic in it is logged and
// it is started again.
func (m *Membership) applyBeats() {
	defer safe.Survive("the heartbeat applier", m.stop, m.applyBeats, m.beatsDone)
	batch := make([]*beat, 0, maxBeatBatch)
	for {
		select {
		case <-m.stop:
			return
		case b := <-m.beats:
			batch = append(batch[:0], b)
		}
	more:
		for len(batch) < maxBeatBatch {
			select {
			case b := <-m.beats:
				batch = append(batch, b)
			default:
				break more
			}
		}
		m.beatStats.taken.Add(int64(len(batch)))
		m.applyBatch(batch)
		m.beatStats.taken.Add(-int64(len(batch)))
		clear(batch)
	}
}

// applyBatch applies batch under one hold of the lock, writes the rows of
// the heartbeats accepted to the GCS (asynchronously: status readers see
// them shortly), and answers every heartbeat.
// A panic on the way answers the heartbeats not answered yet with an
// error before it goes on (to applyBeats' Survive).
func (m *Membership) applyBatch(batch []*beat) {
	answered := 0
	defer func() {
		if r := recover(); r != nil {
			for _, b := range batch[answered:] {
				b.done <- fmt.Errorf("the heartbeat was not applied: %v", r)
			}
			panic(r)
		}
	}()
	infos, errs := m.applyLocked(batch)
	for i, b := range batch {
		if errs[i] == nil {
			m.store.PutNode(infos[i], gcs.LeaderOnly)
		}
		b.done <- errs[i]
		answered++
	}
}

// applyLocked applies batch under one hold of the lock.
func (m *Membership) applyLocked(batch []*beat) ([]gcs.NodeInfo, []error) {
	infos := make([]gcs.NodeInfo, len(batch))
	errs := make([]error, len(batch))
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beatStats.batches.Add(1)
	for i, b := range batch {
		infos[i], errs[i] = m.applyBeatLocked(b, now)
	}
	return infos, errs
}
