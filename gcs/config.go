package gcs

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Peer is one replica of the GCS: its raft server ID and its base address.
// Shard i of the replica listens on the base port plus i.
type Peer struct {
	ID      string
	Address string // host:port of shard 0
}

// Config configures a Store. Start from DefaultConfig (one replica, tuned to
// lead within tens of milliseconds) or ClusterConfig (several replicas).
type Config struct {
	// NodeID is this replica's raft server ID; unique in the cluster.
	NodeID string

	// DataDir holds each shard's raft log (bolt) and snapshots under
	// DataDir/shard-N. Empty keeps everything in memory.
	DataDir string

	// Shards is the number of raft groups the tables are spread over.
	Shards int

	// BindAddr is the base host:port of the raft transport: shard i listens
	// on port+i, so Shards consecutive ports must be free. Empty uses an
	// in-memory transport, which serves a single replica only. An empty
	// host binds 127.0.0.1.
	BindAddr string

	// AdvertiseAddr is the base address other replicas dial, when it
	// differs from BindAddr (for example when binding 0.0.0.0).
	AdvertiseAddr string

	// Token is the cluster token: with it, the replicas' Raft
	// connections start with a handshake in which both ends prove it
	// (authstream.go), so a stranger cannot append, vote or join.
	Token []byte

	// TLS, when set, runs the replicas' Raft connections inside TLS
	// (authstream.go), with this configuration for accepting and
	// dialling; the token's handshake then runs inside it.
	TLS *tls.Config

	// Peers lists every replica, this one included, to bootstrap a new
	// multi-replica cluster. Empty bootstraps this replica alone.
	Peers []Peer

	// Join starts without bootstrapping: the replica waits until the leader
	// adds it with Store.Join. It is ignored if the data dir already holds
	// raft state.
	Join bool

	// Raft timing. The defaults suit a single replica, which then leads in
	// tens of milliseconds; ClusterConfig has values for a network.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// ApplyTimeout bounds how long a write waits to enter raft's queue.
	ApplyTimeout time.Duration

	// ForwardTimeout bounds how long a write (or a membership change) for
	// a shard this replica does not lead waits for a leader to take it,
	// when a Forwarder is set (see forward.go): an election in between
	// costs a wait, not the write.
	ForwardTimeout time.Duration

	// RemoveDeadAfter, when positive, makes the leader of each shard
	// remove from the shard's configuration a replica its heartbeats have
	// not reached for this long (see remove.go), so that a lost replica
	// stops counting towards the majority and a new one can take its
	// place. Zero never removes one.
	RemoveDeadAfter time.Duration

	// CloseTimeout bounds how long Close waits for writes already made to
	// commit before it shuts raft down.
	CloseTimeout time.Duration

	// LeaderWaitTimeout is how long Open waits for every shard to have a
	// leader. Zero returns without waiting (use WaitForLeader later).
	LeaderWaitTimeout time.Duration

	// Log compaction: a snapshot is taken when SnapshotThreshold entries
	// were written since the last one (checked every SnapshotInterval), and
	// TrailingLogs entries are kept after it for slow followers.
	// SnapshotRetain snapshots are kept on disk.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	SnapshotRetain    int

	// Write batching: a shard's batcher puts up to BatchMaxItems commands
	// into one log entry, waiting at most BatchDelay after the first.
	BatchMaxItems int
	BatchDelay    time.Duration

	// MaxInflight bounds the log entries of a shard waiting to commit; more
	// writes wait in the batcher (back-pressure).
	MaxInflight int

	// Logger receives raft's and the transport's logs. Nil discards them:
	// the GCS never writes to stdout, and by default not to stderr either.
	Logger hclog.Logger
}

// DefaultConfig returns the configuration of an embedded single-replica
// store: in memory, 4 shards, tuned to lead fast.
func DefaultConfig() Config {
	return Config{
		NodeID:             "gcs",
		Shards:             4,
		HeartbeatTimeout:   20 * time.Millisecond,
		ElectionTimeout:    20 * time.Millisecond,
		LeaderLeaseTimeout: 10 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		ApplyTimeout:       5 * time.Second,
		ForwardTimeout:     10 * time.Second,
		LeaderWaitTimeout:  5 * time.Second,
		CloseTimeout:       2 * time.Second,
		SnapshotThreshold:  8192,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       2048,
		SnapshotRetain:     2,
		BatchMaxItems:      512,
		BatchDelay:         time.Millisecond,
		MaxInflight:        64,
	}
}

// ClusterConfig returns DefaultConfig with raft timing for replicas talking
// over a network. The caller still sets NodeID, BindAddr, DataDir and Peers
// (or Join).
func ClusterConfig() Config {
	c := DefaultConfig()
	c.HeartbeatTimeout = 500 * time.Millisecond
	c.ElectionTimeout = 500 * time.Millisecond
	c.LeaderLeaseTimeout = 250 * time.Millisecond
	c.CommitTimeout = 20 * time.Millisecond
	c.LeaderWaitTimeout = 0
	return c
}

// maxShards bounds Shards; more groups than this only costs goroutines.
const maxShards = 256

// Validate reports the first problem with c, in words that name the field.
func (c *Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("gcs: NodeID cannot be empty")
	}
	if c.Shards < 1 || c.Shards > maxShards {
		return fmt.Errorf("gcs: Shards must be between 1 and %d, got %d", maxShards, c.Shards)
	}
	if err := c.validateTiming(); err != nil {
		return err
	}
	if err := c.validateBatching(); err != nil {
		return err
	}
	return c.validateCluster()
}

func (c *Config) validateTiming() error {
	switch {
	case c.HeartbeatTimeout < 5*time.Millisecond:
		return fmt.Errorf("gcs: HeartbeatTimeout must be at least 5ms, got %s", c.HeartbeatTimeout)
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return fmt.Errorf("gcs: ElectionTimeout (%s) must be at least HeartbeatTimeout (%s)", c.ElectionTimeout, c.HeartbeatTimeout)
	case c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return fmt.Errorf("gcs: LeaderLeaseTimeout (%s) must be between 5ms and HeartbeatTimeout (%s)", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	case c.CommitTimeout < time.Millisecond:
		return fmt.Errorf("gcs: CommitTimeout must be at least 1ms, got %s", c.CommitTimeout)
	case c.ApplyTimeout < 0:
		return fmt.Errorf("gcs: ApplyTimeout cannot be negative, got %s", c.ApplyTimeout)
	case c.ForwardTimeout < 0:
		return fmt.Errorf("gcs: ForwardTimeout cannot be negative, got %s", c.ForwardTimeout)
	case c.RemoveDeadAfter < 0:
		return fmt.Errorf("gcs: RemoveDeadAfter cannot be negative, got %s", c.RemoveDeadAfter)
	case c.CloseTimeout < 0:
		return fmt.Errorf("gcs: CloseTimeout cannot be negative, got %s", c.CloseTimeout)
	case c.LeaderWaitTimeout < 0:
		return fmt.Errorf("gcs: LeaderWaitTimeout cannot be negative, got %s", c.LeaderWaitTimeout)
	case c.SnapshotInterval < 5*time.Millisecond:
		return fmt.Errorf("gcs: SnapshotInterval must be at least 5ms, got %s", c.SnapshotInterval)
	case c.SnapshotThreshold < 1:
		return errors.New("gcs: SnapshotThreshold must be at least 1")
	case c.SnapshotRetain < 1:
		return fmt.Errorf("gcs: SnapshotRetain must be at least 1, got %d", c.SnapshotRetain)
	}
	return nil
}

func (c *Config) validateBatching() error {
	switch {
	case c.BatchMaxItems < 1:
		return fmt.Errorf("gcs: BatchMaxItems must be at least 1, got %d", c.BatchMaxItems)
	case c.BatchDelay < 0:
		return fmt.Errorf("gcs: BatchDelay cannot be negative, got %s", c.BatchDelay)
	case c.MaxInflight < 1:
		return fmt.Errorf("gcs: MaxInflight must be at least 1, got %d", c.MaxInflight)
	}
	return nil
}

func (c *Config) validateCluster() error {
	if c.BindAddr == "" {
		if len(c.Peers) > 0 || c.Join {
			return errors.New("gcs: Peers and Join need BindAddr: the in-memory transport cannot reach other replicas")
		}
		return nil
	}
	if err := c.checkBase("BindAddr", c.BindAddr); err != nil {
		return err
	}
	if c.AdvertiseAddr != "" {
		if err := c.checkBase("AdvertiseAddr", c.AdvertiseAddr); err != nil {
			return err
		}
	}
	if c.Join && len(c.Peers) > 0 {
		return errors.New("gcs: set Peers to bootstrap a new cluster or Join to enter an existing one, not both")
	}
	return c.validatePeers()
}

func (c *Config) validatePeers() error {
	if len(c.Peers) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(c.Peers))
	for i, p := range c.Peers {
		if p.ID == "" {
			return fmt.Errorf("gcs: Peers[%d] has an empty ID", i)
		}
		if seen[p.ID] {
			return fmt.Errorf("gcs: Peers lists ID %q twice", p.ID)
		}
		seen[p.ID] = true
		if err := c.checkBase(fmt.Sprintf("Peers[%d].Address", i), p.Address); err != nil {
			return err
		}
	}
	if !seen[c.NodeID] {
		return fmt.Errorf("gcs: Peers must include this replica's NodeID %q", c.NodeID)
	}
	return nil
}

// checkBase checks a base address: a port that leaves room for every shard.
func (c *Config) checkBase(field, addr string) error {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("gcs: %s %q is not host:port: %v", field, addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port+c.Shards-1 > 65535 {
		return fmt.Errorf("gcs: %s %q needs a port from 1 to %d (shard i uses port+i)", field, addr, 65535-c.Shards+1)
	}
	return nil
}

// shardAddr returns the address of shard i given a base address.
func shardAddr(base string, i int) string {
	host, portStr, err := net.SplitHostPort(base)
	if err != nil {
		return base
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return base
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(port+i))
}

// baseAddr is the inverse of shardAddr.
func baseAddr(addr string, i int) string {
	return shardAddr(addr, -i)
}
