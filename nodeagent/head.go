package nodeagent

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// HeadConfig describes a head: the process that runs the GCS, the
// membership table and global scheduler, and a node agent of its own.
type HeadConfig struct {
	Node      Config        // the head's own node (CPUs, resources, NodeID, Stdout, DataDir)
	Listen    string        // cluster protocol address, "127.0.0.1:0" for any port
	DeadAfter time.Duration // silence after which a node is dead (default head.DefaultDeadAfter)
	Shards    int           // GCS shards (default 4)
	// RaftAddr is the base address of the GCS's Raft transport (shard i
	// on port+i). Empty keeps the GCS in this process only, which cannot
	// take replicas.
	RaftAddr string
	// RaftAdvertise is the base address other heads dial for the Raft
	// transport when it differs from RaftAddr (bound to 0.0.0.0).
	RaftAdvertise string
	// Join is the address of a running head (any of them) whose GCS this
	// head joins as a replica; each shard's leader adds it. The joining
	// head then serves drivers and nodes like the others.
	Join string
	// RemoveDeadHeadAfter, when positive, removes from the GCS the
	// replica of a head unreachable this long (gcs.Config.RemoveDeadAfter),
	// so that a new head can take its place. Zero never removes one.
	RemoveDeadHeadAfter time.Duration
}

// Head is a running head.
type Head struct {
	Cluster    *Cluster
	Store      *gcs.Store
	Membership *head.Membership
}

// StartHead opens the GCS, starts membership and the global scheduler,
// and serves the cluster protocol with the head's own node registered.
func StartHead(cfg HeadConfig) (*Head, error) {
	node := cfg.Node
	if node.NodeID == "" {
		node.NodeID = "head"
	}
	store, err := openHeadStore(cfg, node.NodeID)
	if err != nil {
		return nil, err
	}
	if cfg.Join != "" {
		return joinHead(cfg, node, store)
	}
	m := head.NewMembership(store, cfg.DeadAfter)
	node.Net = &NetConfig{Listen: cfg.Listen, Store: store, Membership: m}
	c, err := NewCluster(node)
	if err != nil {
		m.Close()
		store.Close()
		return nil, err
	}
	c.forwardGCS()
	return &Head{Cluster: c, Store: store, Membership: m}, nil
}

// Close stops the head: its node, membership and GCS.
func (h *Head) Close() {
	h.Cluster.Shutdown("the head is stopping")
	if h.Membership != nil {
		h.Membership.Close()
	}
	h.Store.Close()
}

// JoinCluster starts a node agent that joins the cluster whose heads are
// at heads (one is enough; the others are learnt), serving on listen.
func JoinCluster(heads []string, listen string, cfg Config) (*Cluster, error) {
	cfg.Net = &NetConfig{Listen: listen, Heads: heads}
	return NewCluster(cfg)
}

// ConnectDriver starts the runtime of a driver against the cluster whose
// heads are at heads: it offers no CPUs, so every task goes to the cluster.
// It listens on the interface it reaches the heads from (ConnectDriverAt).
func ConnectDriver(heads []string, cfg Config) (*Cluster, error) {
	return ConnectDriverAt(heads, "", cfg)
}

// openHeadStore opens the head's GCS replica: alone in memory, or over a
// Raft transport so that other heads can join.
func openHeadStore(cfg HeadConfig, id string) (*gcs.Store, error) {
	gcfg := gcs.DefaultConfig()
	if cfg.RaftAddr != "" {
		gcfg = gcs.ClusterConfig()
		gcfg.BindAddr = cfg.RaftAddr
		gcfg.AdvertiseAddr = cfg.RaftAdvertise
		gcfg.Join = cfg.Join != ""
		gcfg.LeaderWaitTimeout = 10 * time.Second
		gcfg.RemoveDeadAfter = cfg.RemoveDeadHeadAfter
		// A write through this head waits this long for a shard leader
		// (an election takes a second or two), less than the head's own
		// waits for its writes (head.Service), so that the caller learns
		// that no leader took it rather than only that time ran out.
		gcfg.ForwardTimeout = 4 * time.Second
		if gcfg.Join {
			gcfg.LeaderWaitTimeout = 0
		}
	}
	gcfg.NodeID = id
	gcfg.Token = cfg.Node.Token
	gcfg.TLS = cfg.Node.TLS
	// Lineage rows are written by every job and deleted when it ends, so
	// the Raft log, not the tables, is what grows on a long-lived head:
	// keep it short (a soak of 100 small jobs grew the head by ~190 KB a
	// job with the defaults of 8192 entries between snapshots).
	gcfg.SnapshotThreshold = 1024
	gcfg.TrailingLogs = 256
	gcfg.SnapshotInterval = 5 * time.Second
	if cfg.Shards > 0 {
		gcfg.Shards = cfg.Shards
	}
	if cfg.Node.DataDir != "" {
		gcfg.DataDir = filepath.Join(cfg.Node.DataDir, "gcs")
	}
	store, err := gcs.Open(gcfg)
	if err != nil {
		return nil, fmt.Errorf("cannot open the GCS: %w", err)
	}
	return store, nil
}

// joinHead makes this head's GCS a replica of the running head at
// cfg.Join and starts its node as a member of that head's cluster.
func joinHead(cfg HeadConfig, node Config, store *gcs.Store) (*Head, error) {
	pool := transport.NewPool(transport.Options{NodeID: node.NodeID, Token: node.Token, TLS: node.TLS})
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raftAddr := cfg.RaftAddr // where the other replicas dial this one
	if cfg.RaftAdvertise != "" {
		raftAddr = cfg.RaftAdvertise
	}
	body := append([]byte{wire.GCSJoin}, wire.EncodeStrings(node.NodeID, raftAddr)...)
	if _, err := pool.Call(ctx, cfg.Join, transport.GCSRequest, body); err != nil {
		store.Close()
		return nil, fmt.Errorf("cannot join the GCS of the head at %s: %w", cfg.Join, transport.Plain(err))
	}
	if err := store.WaitForLeader(30 * time.Second); err != nil {
		store.Close()
		return nil, fmt.Errorf("joined the GCS of %s but found no leader: %w", cfg.Join, err)
	}
	m := head.NewMembership(store, cfg.DeadAfter)
	node.Net = &NetConfig{Listen: cfg.Listen, Heads: []string{cfg.Join}, Store: store, Membership: m}
	c, err := NewCluster(node)
	if err != nil {
		m.Close()
		store.Close()
		return nil, err
	}
	c.forwardGCS()
	return &Head{Cluster: c, Store: store, Membership: m}, nil
}
