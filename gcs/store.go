package gcs

import (
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

var (
	// ErrNotLeader is returned (wrapped in a *NotLeaderError that names the
	// leader) when a write or linearizable read reaches a replica that does
	// not lead the shard.
	ErrNotLeader = errors.New("gcs: not the leader")

	// ErrNotFound is returned when a row does not exist.
	ErrNotFound = errors.New("gcs: not found")

	// ErrClosed is returned by every call on a closed store.
	ErrClosed = errors.New("gcs: store closed")

	// ErrTimeout is returned when a wait ran out of time.
	ErrTimeout = errors.New("gcs: timed out")
)

// NotLeaderError is the ErrNotLeader of one shard, with the leader this
// replica knows of (empty while an election runs). errors.Is(err,
// ErrNotLeader) holds for it.
type NotLeaderError struct {
	Shard      int
	LeaderID   string
	LeaderAddr string // the leader's raft base address (its shard 0 address)
	// Service is the address users know the leader by (a head's service
	// address, from the Forwarder), or "" if unknown.
	Service string
}

// Error describes the shard and its leader, by its ID and its service
// address: a raft port is not an address a user can pass anywhere.
func (e *NotLeaderError) Error() string {
	switch {
	case e.LeaderID == "" && e.LeaderAddr == "":
		return fmt.Sprintf("gcs: not the leader of shard %d (no leader known)", e.Shard)
	case e.Service != "":
		return fmt.Sprintf("gcs: not the leader of shard %d (leader %s at %s)", e.Shard, e.LeaderID, e.Service)
	}
	return fmt.Sprintf("gcs: not the leader of shard %d (leader %s)", e.Shard, e.LeaderID)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Store is one replica of the Global Control Store: Shards raft groups, each
// with its own tables, batcher and transport. Its methods are safe for
// concurrent use.
type Store struct {
	cfg    Config
	shards []*shard
	hub    *hub

	mu      sync.RWMutex // guards closed against writes in flight
	closed  bool
	closing chan struct{} // closed by Close: ends waits raft may never answer

	fwd       atomic.Pointer[forwarderBox] // SetForwarder; nil: no forwarding
	removals  *deadRemover                 // Config.RemoveDeadAfter; nil: never
	nextBatch atomic.Uint64                // turns the task batches round the shards
}

// Open starts every shard of a replica, bootstraps a new cluster if there is
// no raft state yet, and (if cfg.LeaderWaitTimeout > 0) waits until every
// shard has a leader.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = defaultLogger()
	}
	s := &Store{cfg: cfg, hub: newHub(), closing: make(chan struct{})}
	for i := 0; i < cfg.Shards; i++ {
		sh, err := openShard(s, i)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.shards = append(s.shards, sh)
	}
	if err := s.waitReady(); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.RemoveDeadAfter > 0 {
		s.removals = startDeadRemover(s, cfg.RemoveDeadAfter)
	}
	return s, nil
}

// waitReady waits for leaders if the config asks to, then issues a barrier
// on the shards this replica leads: raft re-applies the log of a reopened
// store only once the new leader commits, and Open must return with the
// tables as they were.
func (s *Store) waitReady() error {
	if s.cfg.LeaderWaitTimeout <= 0 {
		return nil
	}
	if err := s.WaitForLeader(s.cfg.LeaderWaitTimeout); err != nil {
		return err
	}
	var led []*shard
	for _, sh := range s.shards {
		if sh.raft.State() == raft.Leader {
			led = append(led, sh)
		}
	}
	return s.barrier(led)
}

// Close stops every shard and every goroutine the store started and closes
// all subscriptions. Writes made before Close are committed first, for up
// to CloseTimeout; any still unanswered then fail with ErrClosed, though
// they may have been applied (and are found after a reopen with DataDir).
// It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	if s.removals != nil {
		s.removals.close()
	}
	s.drain()
	var errs []error
	for _, sh := range s.shards {
		errs = append(errs, sh.shutdown())
	}
	s.hub.close()
	return errors.Join(errs...)
}

// drain hands every queued write to raft and waits, up to CloseTimeout,
// until raft has answered them all (see batcher.stop).
func (s *Store) drain() {
	for _, sh := range s.shards {
		sh.batcher.stop()
	}
	timer := time.NewTimer(s.cfg.CloseTimeout)
	defer timer.Stop()
	for _, sh := range s.shards {
		select {
		case <-sh.batcher.drained():
		case <-timer.C:
			return
		}
	}
}

// NodeID returns this replica's raft server ID.
func (s *Store) NodeID() string { return s.cfg.NodeID }

// Shards returns the number of shards.
func (s *Store) Shards() int { return len(s.shards) }

// WaitForLeader waits until every shard knows a leader, or returns
// ErrTimeout. A shard whose only voter is this replica waits until this
// replica leads it.
func (s *Store) WaitForLeader(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, sh := range s.shards {
		for !sh.hasLeader() {
			if time.Now().After(deadline) {
				return fmt.Errorf("%w waiting %s for a leader of shard %d", ErrTimeout, timeout, sh.index)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// hasLeader reports whether the shard has a leader; if this replica is its
// only voter, it must be this replica.
func (sh *shard) hasLeader() bool {
	if sh.raft.State() == raft.Leader {
		return true
	}
	if sh.soleVoter() {
		return false
	}
	addr, _ := sh.raft.LeaderWithID()
	return addr != ""
}

// soleVoter reports whether this replica is the shard's only voter.
func (sh *shard) soleVoter() bool {
	f := sh.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	servers := f.Configuration().Servers
	return len(servers) == 1 && servers[0].Suffrage == raft.Voter && servers[0].ID == sh.id
}

// shardOf picks the shard of a row by hashing its table and key.
func (s *Store) shardOf(table, key string) *shard {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return s.shards[h.Sum64()%uint64(len(s.shards))]
}

// submit hands commands for one shard to its batcher and returns their
// future at once.
func (s *Store) submit(sh *shard, cmds ...command) *Future {
	return s.submitOpts(sh, nil, cmds...)
}

// submitOpts is submit with write options.
func (s *Store) submitOpts(sh *shard, opts []WriteOption, cmds ...command) *Future {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errorFuture(ErrClosed)
	}
	p := &pending{cmds: cmds, fut: newFuture(), leaderOnly: leaderOnly(opts)}
	if p.leaderOnly && sh.raft.State() != raft.Leader {
		// Refused at once: queued, it could wait behind writes being
		// forwarded while the shard elects a leader.
		return errorFuture(sh.notLeader())
	}
	sh.batcher.submit(p)
	return p.fut
}

// submitRow writes one command that touches the row (table, key).
func (s *Store) submitRow(c command) *Future {
	return s.submit(s.shardOf(c.table, c.key), c)
}

// submitAll sends a copy of cmds to every shard, in one log entry each.
func (s *Store) submitAll(cmds ...command) *Future {
	parts := make([]*Future, len(s.shards))
	for i, sh := range s.shards {
		parts[i] = s.submit(sh, cmds...)
	}
	return joinFutures(parts)
}

// Snapshot takes a snapshot of every shard now and compacts their logs.
func (s *Store) Snapshot() error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var errs []error
	for _, sh := range s.shards {
		if err := sh.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			errs = append(errs, sh.translate(err))
		}
	}
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}
