package nodeagent

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// HeadConfig describes a head: the process that runs the GCS, the
// membership table and global scheduler, and a node agent of its own.
type HeadConfig struct {
	Node      Config        // the head's own node (CPUs, resources, NodeID, Stdout, DataDir)
	Listen    string        // cluster protocol address, "127.0.0.1:0" for any port
	DeadAfter time.Duration // silence after which a node is dead (default DefaultDeadAfter)
	Shards    int           // GCS shards (default 4)
}

// Head is a running head.
type Head struct {
	Cluster    *Cluster
	Store      *gcs.Store
	Membership *Membership
}

// StartHead opens the GCS, starts membership and the global scheduler,
// and serves the cluster protocol with the head's own node registered.
func StartHead(cfg HeadConfig) (*Head, error) {
	gcfg := gcs.DefaultConfig()
	gcfg.NodeID = "head"
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
	m := NewMembership(store, cfg.DeadAfter)
	node := cfg.Node
	if node.NodeID == "" {
		node.NodeID = "head"
	}
	if node.Lineage == "" {
		node.Lineage = "off" // the head's own store holds the lineage of the cluster's jobs
	}
	node.Net = &NetConfig{Listen: cfg.Listen, Store: store, Membership: m}
	c, err := NewCluster(node)
	if err != nil {
		m.Close()
		store.Close()
		return nil, err
	}
	return &Head{Cluster: c, Store: store, Membership: m}, nil
}

// Close stops the head: its node, membership and GCS.
func (h *Head) Close() {
	h.Cluster.Shutdown("the head is stopping")
	h.Membership.Close()
	h.Store.Close()
}

// JoinCluster starts a node agent that joins the cluster whose head is at
// head, serving on listen.
func JoinCluster(head, listen string, cfg Config) (*Cluster, error) {
	cfg.Net = &NetConfig{Listen: listen, Head: head}
	if cfg.Lineage == "" {
		cfg.Lineage = "off"
	}
	return NewCluster(cfg)
}

// ConnectDriver starts the runtime of a driver against the cluster whose
// head is at head: it offers no CPUs, so every task goes to the cluster.
func ConnectDriver(head string, cfg Config) (*Cluster, error) {
	cfg.Net = &NetConfig{Listen: "127.0.0.1:0", Head: head, Driver: true}
	cfg.CPUs = 0
	if cfg.NodeID == "" {
		cfg.NodeID = "driver"
	}
	if cfg.Lineage == "" {
		cfg.Lineage = "off"
	}
	return NewCluster(cfg)
}
