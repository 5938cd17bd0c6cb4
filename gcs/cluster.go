package gcs

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Join adds the replica id, whose base address is addr, as a voter of every
// shard. With a Forwarder set, each shard's leader adds it, wherever it
// is (waiting up to ForwardTimeout for one). Without, only the shards
// this replica leads do, and the others fail with a *NotLeaderError
// naming their leader, where the caller can retry; the errors are
// joined. Joining a replica already present with the same address
// succeeds.
func (s *Store) Join(id, addr string) error {
	if id == "" || addr == "" {
		return errors.New("gcs: Join needs an ID and an address")
	}
	if err := s.cfg.checkBase("join address", addr); err != nil {
		return err
	}
	if s.forwarder() != nil {
		return s.changeMembers(id, addr)
	}
	return s.eachShard(func(sh *shard) raft.Future {
		return sh.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(shardAddr(addr, sh.index)), 0, s.cfg.ApplyTimeout)
	})
}

// Leave removes the replica id from every shard, with the same rules as
// Join.
func (s *Store) Leave(id string) error {
	if id == "" {
		return errors.New("gcs: Leave needs an ID")
	}
	if s.forwarder() != nil {
		return s.changeMembers(id, "")
	}
	return s.eachShard(func(sh *shard) raft.Future {
		return sh.raft.RemoveServer(raft.ServerID(id), 0, s.cfg.ApplyTimeout)
	})
}

// eachShard starts op on every shard at once and joins their errors.
func (s *Store) eachShard(op func(*shard) raft.Future) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	futures := make([]raft.Future, len(s.shards))
	for i, sh := range s.shards {
		futures[i] = op(sh)
	}
	var errs []error
	for i, f := range futures {
		errs = append(errs, s.shards[i].translate(f.Error()))
	}
	return errors.Join(errs...)
}

// Leader returns the ID and base address of the leader of shard i as this
// replica knows it; both are empty while no leader is known.
func (s *Store) Leader(i int) (id, addr string) {
	if i < 0 || i >= len(s.shards) {
		return "", ""
	}
	a, sid := s.shards[i].raft.LeaderWithID()
	if a == "" {
		return string(sid), ""
	}
	return string(sid), baseAddr(string(a), i)
}

// IsLeader reports whether this replica leads every shard.
func (s *Store) IsLeader() bool {
	for _, sh := range s.shards {
		if sh.raft.State() != raft.Leader {
			return false
		}
	}
	return true
}

// Servers returns the IDs of the voters of shard 0 (ShardServers).
func (s *Store) Servers() ([]string, error) { return s.ShardServers(0) }

// ShardServers returns the IDs of the voters of shard i in its latest
// configuration. Shards change their voters each through its own leader,
// so after a replica is lost or joins they may differ for a while.
func (s *Store) ShardServers(i int) ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(s.shards) {
		return nil, fmt.Errorf("gcs: no shard %d", i)
	}
	f := s.shards[i].raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("gcs: read configuration: %w", err)
	}
	var ids []string
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			ids = append(ids, string(srv.ID))
		}
	}
	return ids, nil
}
