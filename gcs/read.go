package gcs

import (
	"errors"
	"sort"

	"github.com/hashicorp/raft"
)

// ReadOption changes how a Get or List reads.
type ReadOption int

const (
	// Linearizable makes a read reflect every write acknowledged before it
	// began, on any replica. The shard's leader issues a raft barrier (which
	// commits only while it still leads and returns once every earlier
	// entry is applied) and then reads its local state. On a follower the
	// read fails with ErrNotLeader, unless a Forwarder is set: the
	// follower then asks the leader for its read index and reads once it
	// has applied that far (catchUp). Without it, reads return this replica's
	// applied state: current on the leader of a single replica, possibly
	// stale on a follower.
	Linearizable ReadOption = iota + 1
)

func linearizable(opts []ReadOption) bool {
	for _, o := range opts {
		if o == Linearizable {
			return true
		}
	}
	return false
}

// Barrier waits until this replica leads every shard and has applied every
// write committed before the call; with a Forwarder set, until it has
// applied every write acknowledged before the call, whoever leads.
func (s *Store) Barrier() error {
	return s.barrier(s.shards)
}

// barrier issues a barrier on each shard at once and waits for all of them.
// A shard this replica does not lead, with a Forwarder set, is caught up
// with its leader instead (catchUp).
func (s *Store) barrier(shards []*shard) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	futures := make([]interface{ Error() error }, len(shards))
	for i, sh := range shards {
		if s.forwarder() != nil && sh.raft.State() != raft.Leader {
			futures[i] = catchUpFuture(s, sh)
			continue
		}
		futures[i] = sh.raft.Barrier(s.cfg.ApplyTimeout)
	}
	var errs []error
	for i, f := range futures {
		if err := s.waitRaft(f); errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		} else if err != nil {
			errs = append(errs, shards[i].translate(err))
		}
	}
	return errors.Join(errs...)
}

// errFuture is a finished wait in the shape of raft's futures.
type errFuture chan error

func (f errFuture) Error() error {
	err := <-f
	f <- err
	return err
}

// catchUpFuture runs catchUp of sh and returns its future.
func catchUpFuture(s *Store, sh *shard) errFuture {
	f := make(errFuture, 1)
	go func() { f <- s.catchUp(sh) }()
	return f
}

// waitRaft waits for a raft future that raft may never answer: with
// BatchApplyCh the apply channel is buffered, and a barrier left in it at
// shutdown is never completed (hashicorp/raft#498). Close ends the wait
// with ErrClosed.
func (s *Store) waitRaft(f interface{ Error() error }) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return err
	case <-s.closing:
		return ErrClosed
	}
}

// readRow returns the stored row (table, key), after a barrier if asked.
func (s *Store) readRow(table, key string, opts []ReadOption) ([]byte, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	sh := s.shardOf(table, key)
	if linearizable(opts) {
		if err := s.barrier([]*shard{sh}); err != nil {
			return nil, err
		}
	}
	b, ok := sh.fsm.get(table, key)
	if !ok {
		return nil, ErrNotFound
	}
	return b, nil
}

// getRow decodes the row (table, key) into r.
func (s *Store) getRow(table, key string, r row, opts []ReadOption) error {
	b, err := s.readRow(table, key, opts)
	if err != nil {
		return err
	}
	return decodeRow(b, r)
}

// listRows returns every stored row of table across all shards, sorted by
// key. The rows are shared and must only be decoded.
func (s *Store) listRows(table string, opts []ReadOption) ([][]byte, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if linearizable(opts) {
		if err := s.barrier(s.shards); err != nil {
			return nil, err
		}
	}
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	for _, sh := range s.shards {
		sh.fsm.each(table, func(k string, v []byte) { all = append(all, kv{k, v}) })
	}
	sort.Slice(all, func(i, j int) bool { return all[i].k < all[j].k })
	out := make([][]byte, len(all))
	for i, e := range all {
		out[i] = e.v
	}
	return out, nil
}

// listDecoded decodes every row of table into a fresh T.
func listDecoded[T any, P interface {
	*T
	row
}](s *Store, table string, opts []ReadOption) ([]T, error) {
	rows, err := s.listRows(table, opts)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, b := range rows {
		if err := decodeRow(b, P(&out[i])); err != nil {
			return nil, err
		}
	}
	return out, nil
}
