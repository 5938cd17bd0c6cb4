package gcs

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// shard is one raft group: its state machine, its stores, its transport and
// the batcher that writes to it.
type shard struct {
	st      *Store // the replica this shard is part of
	index   int
	id      raft.ServerID // this replica
	raft    *raft.Raft
	fsm     *fsm
	trans   raft.Transport
	closers []io.Closer // stores and transport, closed after raft stops
	batcher *batcher
}

// openShard builds and starts shard i. On error everything it opened is
// closed again.
func openShard(st *Store, i int) (_ *shard, err error) {
	cfg := &st.cfg
	s := &shard{st: st, index: i, id: raft.ServerID(cfg.NodeID), fsm: newFSM(i, st.hub)}
	defer func() {
		if err != nil {
			s.closeResources()
		}
	}()
	logs, stable, snaps, err := s.openStores(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.openTransport(cfg); err != nil {
		return nil, err
	}
	s.raft, err = raft.NewRaft(raftConfig(cfg, i), s.fsm, logs, stable, snaps, s.trans)
	if err != nil {
		return nil, fmt.Errorf("gcs: start raft for shard %d: %w", i, err)
	}
	if err := s.bootstrap(cfg, logs, stable, snaps); err != nil {
		s.raft.Shutdown().Error()
		return nil, err
	}
	s.batcher = newBatcher(s, cfg)
	return s, nil
}

// raftConfig derives shard i's raft configuration from cfg.
func raftConfig(cfg *Config, i int) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.Logger = cfg.Logger.Named(fmt.Sprintf("shard-%d", i))
	return rc
}

// openStores returns the log, stable and snapshot stores: in memory, or a
// bolt file and a snapshot directory under DataDir/shard-N.
func (s *shard) openStores(cfg *Config) (raft.LogStore, raft.StableStore, raft.SnapshotStore, error) {
	if cfg.DataDir == "" {
		mem := raft.NewInmemStore()
		return mem, mem, raft.NewInmemSnapshotStore(), nil
	}
	dir := filepath.Join(cfg.DataDir, fmt.Sprintf("shard-%d", s.index))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("gcs: create shard directory: %w", err)
	}
	bolt, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, "raft.db"),
		BoltOptions: boltOptions(),
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("gcs: open raft log of shard %d: %w", s.index, err)
	}
	s.closers = append(s.closers, bolt)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, cfg.SnapshotRetain, cfg.Logger)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("gcs: open snapshots of shard %d: %w", s.index, err)
	}
	return bolt, bolt, snaps, nil
}

// openTransport starts the in-memory transport or the TCP transport on the
// shard's port (base port + shard index).
func (s *shard) openTransport(cfg *Config) error {
	if cfg.BindAddr == "" {
		_, s.trans = raft.NewInmemTransport("")
		return nil
	}
	bind := shardAddr(cfg.BindAddr, s.index)
	adv := bind
	if cfg.AdvertiseAddr != "" {
		adv = shardAddr(cfg.AdvertiseAddr, s.index)
	}
	advAddr, err := net.ResolveTCPAddr("tcp", adv)
	if err != nil {
		return fmt.Errorf("gcs: advertise address %q of shard %d: %w", adv, s.index, err)
	}
	tcfg := &raft.NetworkTransportConfig{
		Logger:  cfg.Logger.Named("transport"),
		MaxPool: 3,
		Timeout: 10 * time.Second,
	}
	var t *raft.NetworkTransport
	if len(cfg.Token) > 0 || cfg.TLS != nil {
		var stream *authStream
		stream, err = newAuthStream(bind, advAddr, cfg.Token, cfg.TLS)
		if err == nil {
			tcfg.Stream = stream
			t = raft.NewNetworkTransportWithConfig(tcfg)
		}
	} else {
		t, err = raft.NewTCPTransportWithConfig(bind, advAddr, tcfg)
	}
	if err != nil {
		return fmt.Errorf("gcs: listen on %s for shard %d: %w", bind, s.index, err)
	}
	s.trans = t
	s.closers = append(s.closers, t)
	return nil
}

// bootstrap writes the initial configuration if the shard has no raft state
// yet: this replica alone, or every peer. A joining replica waits instead.
func (s *shard) bootstrap(cfg *Config, logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore) error {
	exists, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("gcs: read state of shard %d: %w", s.index, err)
	}
	if exists || cfg.Join {
		return nil
	}
	conf := raft.Configuration{}
	if len(cfg.Peers) == 0 {
		conf.Servers = []raft.Server{{ID: raft.ServerID(cfg.NodeID), Address: s.trans.LocalAddr()}}
	}
	for _, p := range cfg.Peers {
		conf.Servers = append(conf.Servers, raft.Server{
			ID:      raft.ServerID(p.ID),
			Address: raft.ServerAddress(shardAddr(p.Address, s.index)),
		})
	}
	if err := s.raft.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("gcs: bootstrap shard %d: %w", s.index, err)
	}
	return nil
}

// shutdown stops raft, then the batcher (whose stop and drain the store
// has already begun), then the stores and transport.
func (s *shard) shutdown() error {
	s.batcher.abandon()
	err := s.raft.Shutdown().Error()
	s.batcher.wait()
	return errors.Join(err, s.closeResources())
}

func (s *shard) closeResources() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// translate turns raft's errors into the store's sentinels.
func (s *shard) translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrNotVoter):
		return s.notLeader()
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrTimeout
	}
	return fmt.Errorf("gcs: shard %d: %w", s.index, err)
}

// notLeader describes who leads the shard, as far as this replica knows.
func (s *shard) notLeader() *NotLeaderError {
	addr, id := s.raft.LeaderWithID()
	e := &NotLeaderError{Shard: s.index, LeaderID: string(id), Service: s.st.leaderAddress(string(id))}
	if addr != "" {
		e.LeaderAddr = baseAddr(string(addr), s.index)
	}
	return e
}

// boltOptions bounds the wait for the file lock, so a second process on the
// same data dir fails instead of hanging.
func boltOptions() *bbolt.Options {
	return &bbolt.Options{Timeout: time.Second}
}

// defaultLogger discards everything: the GCS stays silent unless the
// caller passes a logger, or the environment variable RAYFLOW_RAFT_LOG
// names a level (trace, debug, info, warn, error): then raft's logs at
// that level and above go to stderr (for diagnosing elections).
func defaultLogger() hclog.Logger {
	if lvl := hclog.LevelFromString(os.Getenv("RAYFLOW_RAFT_LOG")); lvl != hclog.NoLevel {
		return hclog.New(&hclog.LoggerOptions{Name: "gcs", Level: lvl, Output: os.Stderr})
	}
	return hclog.NewNullLogger()
}
