// Package nodeagent runs rayflow's nodes: each node has a local
// scheduler (tasks wait for their dependencies, then run on worker
// goroutines bounded by the node's CPUs), an object store, and hosts
// actors. A task submitted on a node runs there when the node has room
// and its queue is short; otherwise it spills to the global scheduler
// (package placement), which places it by free resources, load and data
// locality — the bottom-up scheduling of the Ray paper.
//
// This file holds the in-process cluster: N nodes in one process, used by
// `rayflow run` (one node by default, `--nodes N` for more).
package nodeagent

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Config describes the nodes of an in-process cluster.
type Config struct {
	Nodes     int                 // how many nodes; default 1
	CPUs      int                 // CPUs per node; default: this machine's
	Resources resources.Resources // extra resources per node (gpu, custom)
	// QueueLimit is how many tasks may wait in a node's local queue before
	// new ones spill to the global scheduler; default 2x the CPUs.
	QueueLimit int
	Stdout     io.Writer // program output; default discard
	WorkDir    string    // confines the io module
	MaxSteps   int64     // per-thread step limit, 0 for none
}

// Cluster is a set of nodes in one process with their global scheduler.
type Cluster struct {
	cfg   Config
	nodes []*Node
	out   sync.Mutex // serialises program output lines

	stats Stats
	stop  atomic.Bool
}

// Stats counts what the cluster has done, for progress display.
type Stats struct {
	Submitted, Running, Done, Failed, Actors atomic.Int64
}

// NewCluster starts the nodes of an in-process cluster.
func NewCluster(cfg Config) (*Cluster, error) {
	if cfg.Nodes <= 0 {
		cfg.Nodes = 1
	}
	detected, err := resources.Detect()
	if err != nil {
		detected = resources.Resources{}
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = max(1, int(detected.CPU()/resources.Milli))
	}
	if cfg.Resources.Memory() == 0 {
		cfg.Resources = cfg.Resources.With(resources.Memory, detected.Memory())
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 2 * cfg.CPUs
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	c := &Cluster{cfg: cfg}
	for i := 0; i < cfg.Nodes; i++ {
		total := cfg.Resources.With(resources.CPU, int64(cfg.CPUs)*resources.Milli)
		c.nodes = append(c.nodes, newNode(c, fmt.Sprintf("node-%d", i+1), total))
	}
	return c, nil
}

// Nodes lists the node IDs.
func (c *Cluster) Nodes() []string {
	ids := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		ids[i] = n.ID
	}
	return ids
}

// Stats returns the cluster's counters.
func (c *Cluster) Stats() *Stats { return &c.stats }

// Head is the first node, where drivers run.
func (c *Cluster) Head() *Node { return c.nodes[0] }

// NewThread makes the driver thread of a pipeline run on the head node.
func (c *Cluster) NewThread(jobID string) *exec.Thread {
	return c.Head().newThread("driver", jobID)
}

// Shutdown cancels every running task and actor.
func (c *Cluster) Shutdown(reason string) {
	c.stop.Store(true)
	for _, n := range c.nodes {
		n.cancelAll(reason)
	}
}

func (c *Cluster) print(th *exec.Thread, line string) {
	c.out.Lock()
	defer c.out.Unlock()
	io.WriteString(c.cfg.Stdout, line+"\n")
}

func (c *Cluster) node(id string) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}
