package nodeagent

// The in-process cluster: N nodes in one process, used by `rayflow run`
// (one node by default, `--nodes N` for more), and the root of every
// process's runtime (Cluster implements exec.Runtime).

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/stash"
)

// Config describes the nodes of an in-process cluster.
type Config struct {
	Nodes     int                // how many nodes; default 1
	CPUs      int                // CPUs per node; 0: this machine's; negative: none
	Resources map[string]float64 // extra resources per node (gpu, custom names)
	// QueueLimit is how many tasks may wait in a node's local queue before
	// new ones spill to the global scheduler; default 2x the CPUs.
	QueueLimit int
	Stdout     io.Writer // program output; default discard
	WorkDir    string    // confines the io module
	MaxSteps   int64     // per-thread step limit, 0 for none
	// MaxMemory caps the bytes the objects of each job this process
	// drives (embedded: every job) may take in each node's object store;
	// a value past it fails with a "memory" error. It travels with the
	// job's program, as MaxSteps does. 0 for none.
	MaxMemory int64
	// MemoryLimit is this process's memory limit: when the Go runtime
	// holds more, the memory monitor (memmonitor.go) stops the running
	// work of the job that holds the most, so that the process survives.
	// 0: 90% of the machine's memory; negative: no monitor.
	MemoryLimit int64
	// ObjectStoreMemory is each node's object-store limit in bytes;
	// beyond it large objects spill to disk. Default 30% of RAM.
	ObjectStoreMemory int64
	// DataDir holds each node's spill files (DataDir/NODE/spill) and the
	// GCS's Raft log (DataDir/gcs); memory and a temporary directory
	// when empty.
	DataDir string
	// Lineage is how lineage is kept (--lineage): "stash" (or empty),
	// "sync" or "off". Validate parses it once.
	Lineage string
	// ForwardBound is how many hops uncommitted lineage may travel before
	// it is flushed synchronously (default 8).
	ForwardBound int
	// GCSDelay slows every GCS write by this much, to measure how the
	// lineage modes behave with a slow GCS (benchmarks only).
	GCSDelay time.Duration
	// Timeline records every task's run for WriteTimeline (a process of
	// a cluster records them anyway, for the heads: events.go).
	Timeline bool
	// NodeID names the node when there is one (default "node-1").
	NodeID string
	// Modules are the modules, beyond the standard library, that this
	// process offers the programs it loads: the Go functions an embedding
	// program registers (rayflow.HostModules). A program sent here from
	// another process that uses one this process lacks fails with an
	// error that names it.
	Modules []*exec.Module
	// Net joins the process to a cluster over the network; nil for an
	// embedded cluster. Net.Driver gives the local node no CPUs, so every
	// task goes to the cluster.
	Net *NetConfig
	// Token is the cluster token (DESIGN.md, Security): with it, every
	// connection of this process's network, both ways, and the GCS's
	// Raft connections prove it; empty: no authentication (an embedded
	// cluster, which listens on nothing, or a test of the protocol).
	Token []byte
	// TLS, when set, runs every connection of this process's network,
	// both ways, and the GCS's Raft connections inside TLS, with this
	// configuration for serving and dialling (transport.Options.TLS).
	TLS *tls.Config
	// SafeOutput strips terminal control characters (ESC and the other
	// C0 and C1 controls but newline and tab, and DEL) from the prints
	// that other processes send here (a driver's tasks on a cluster), so
	// that a task cannot drive the terminal of the user who runs the
	// driver. Set it when Stdout is a terminal; a pipe or a file gets
	// the prints as they are.
	SafeOutput bool
	// ReuseFrom, on a driver that runs a job again (a job of the Jobs API
	// whose head died), names the job IDs of its earlier runs: a task
	// whose result an earlier run committed and a node still holds takes
	// that result instead of running (reuse.go). Empty: none.
	ReuseFrom []string
	// KeepResults, on a driver whose job may be run again (a job of the
	// Jobs API), keeps the large results its tasks made on the nodes
	// that made them until the job ends, for a re-run to reuse; without
	// it each is released there once fetched here (owner's release.go).
	KeepResults bool

	// Set by Validate.
	lineageMode stash.Mode
	extra       resources.Resources // Resources, parsed
}

// Validate checks the configuration and parses what is given as text
// (the lineage mode), once, so that nothing later decides it again. It
// fills in the defaults that do not depend on the machine. NewCluster
// calls it; a caller may call it earlier to report a bad option before
// doing anything else.
func (cfg *Config) Validate() error {
	mode, err := stash.ParseMode(cfg.Lineage)
	if err != nil {
		return err
	}
	cfg.lineageMode = mode
	if cfg.Nodes <= 0 {
		cfg.Nodes = 1
	}
	if cfg.ForwardBound < 0 {
		return fmt.Errorf("the forwarding bound must not be negative, got %d", cfg.ForwardBound)
	}
	if cfg.Net != nil && cfg.Nodes > 1 {
		return fmt.Errorf("a process in a cluster runs one node, not %d", cfg.Nodes)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	cfg.extra, err = resources.FromMap(cfg.Resources)
	return err
}

// Cluster is a set of nodes in one process with their global scheduler.
type Cluster struct {
	cfg   Config
	nodes []*Node
	out   sync.Mutex // serialises program output lines

	// printer is c.print as a func value, made once: a method value
	// made per thread is an allocation per task.
	printer func(th *exec.Thread, line string)

	stats   Stats
	stop    atomic.Bool
	lineage *lineage             // how this process keeps lineage (--lineage)
	scope   scope                // how far work reaches: localScope, or net
	gcs     *lazyStore           // the embedded GCS (nil in a networked process)
	events  *taskevents.Recorder // task events (events.go); nil: none recorded
	// inFlight are the groups this process submitted whose last call has
	// not ended: their calls are recorded pending at each report, not one
	// event each as they are submitted (events.go, noteGroupSubmitted).
	inFlight submittedGroups
	net      *network // nil for an embedded cluster
	demands  sync.Map // callee -> demandEntry
	reuse    *reuse   // on a driver that runs a job again: its earlier runs' results (reuse.go); nil otherwise

	// spread is, in an embedded cluster, where the last call of each
	// spread key went (hintplace.go).
	spread spreadRecord
	// templates is where the calls of template loops went (template.go).
	templates templatePlaces
	// placements counts the spilled tasks an embedded cluster placed by
	// its rule (a networked one asks the head: head.Service.Placed).
	placements atomic.Int64
	// marks are the roots of the subtrees of work cancelled here
	// (cancel.go).
	marks cancelMarks
	// names are an embedded cluster's named actors (named.go).
	names namedActors
	// caps are the memory caps of the jobs whose work ran here (caps.go).
	caps jobCaps
	// drivers are the driver threads this cluster runs, for the memory
	// monitor (memmonitor.go).
	drivers drivers
}

// Stats counts what the cluster has done, for progress display.
type Stats struct {
	Submitted, Running, Done, Failed, Actors atomic.Int64
}

// NewCluster starts the nodes of an in-process cluster.
func NewCluster(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	detected, err := resources.Detect()
	if err != nil {
		detected = resources.Resources{}
	}
	extra := cfg.extra
	switch {
	case cfg.CPUs < 0 || cfg.Net != nil && cfg.Net.Driver:
		cfg.CPUs = 0
	case cfg.CPUs == 0:
		cfg.CPUs = max(1, int(detected.CPU()/resources.Milli))
	}
	if extra.Memory() == 0 {
		extra = extra.With(resources.Memory, detected.Memory())
	}
	if cfg.ObjectStoreMemory <= 0 {
		cfg.ObjectStoreMemory = max(detected.Memory()*3/10, 64<<20)
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 2 * cfg.CPUs
	}
	c := &Cluster{cfg: cfg}
	c.printer = c.print
	c.scope = localScope{c}
	c.events = newRecorder(cfg)
	if cfg.Net == nil {
		if err := c.startEmbeddedLineage(); err != nil {
			return nil, err
		}
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = detected.Memory() * 9 / 10
		c.cfg.MemoryLimit = cfg.MemoryLimit
	}
	for i := 0; i < cfg.Nodes; i++ {
		total := extra.With(resources.CPU, int64(cfg.CPUs)*resources.Milli)
		id := fmt.Sprintf("node-%d", i+1)
		if cfg.NodeID != "" && cfg.Nodes == 1 {
			id = cfg.NodeID
		}
		c.nodes = append(c.nodes, newNode(c, id, total))
	}
	if cfg.Net != nil {
		if err := c.startNetwork(*cfg.Net); err != nil {
			c.Shutdown("could not join the cluster")
			return nil, err
		}
		var store stash.Store = headStore{c.net}
		if cfg.GCSDelay > 0 {
			store = delayedStore{store, cfg.GCSDelay}
		}
		l := newLineage(cfg.lineageMode, c.Head().ID, store, cfg.ForwardBound, nil)
		l.refs = c.net
		c.lineage = l
		c.reuse = newReuse(cfg.ReuseFrom)
	}
	procMonitor.add(c, cfg.MemoryLimit) // memmonitor.go
	return c, nil
}

// Nodes lists the node IDs: of the whole cluster when this process is
// part of one.
func (c *Cluster) Nodes() []string {
	return c.scope.nodeIDs()
}

// NodeOf is the node ID sys.node() gives to code on th: the node it runs
// on, or for the driver of a cluster run (which runs on no node) the
// node of the head it reached (homeNode).
func (c *Cluster) NodeOf(th *exec.Thread) string {
	if nw, ok := c.scope.(*network); ok && nw.cfg.Driver {
		if id := nw.homeNode(); id != "" {
			return id
		}
	}
	return th.NodeID
}

// Stats returns the cluster's counters.
func (c *Cluster) Stats() *Stats { return &c.stats }

// Head is the first node, where drivers run.
func (c *Cluster) Head() *Node { return c.nodes[0] }

// NewThread makes the driver thread of a pipeline run on the head node.
func (c *Cluster) NewThread(jobID string) *exec.Thread {
	c.noteJob(jobID)
	c.caps.note(jobOf(jobID), c.cfg.MaxMemory)
	th := c.Head().newThread("driver", jobID)
	c.drivers.started(jobOf(jobID), th)
	return th
}

// Shutdown cancels every running task and actor.
func (c *Cluster) Shutdown(reason string) {
	c.stop.Store(true)
	for _, n := range c.nodes {
		n.cancelAll(reason)
		n.store.Close()
	}
	if c.lineage != nil {
		c.lineage.close()
	}
	c.scope.close()
	procMonitor.remove(c)
}

// startEmbeddedLineage opens the embedded single-replica GCS in the
// background and starts lineage keeping over it.
func (c *Cluster) startEmbeddedLineage() error {
	if c.cfg.lineageMode == stash.ModeOff {
		c.lineage = newLineage(stash.ModeOff, "", nil, 0, nil)
		return nil
	}
	gcfg := gcs.DefaultConfig()
	gcfg.NodeID = "head"
	// One replica has no follower to catch up: keep few log entries
	// after a snapshot, so the log does not hold a second copy of the
	// lineage of a long job.
	gcfg.TrailingLogs = 64
	gcfg.SnapshotThreshold = 1024
	gcfg.SnapshotInterval = 2 * time.Second
	if c.cfg.DataDir != "" {
		gcfg.DataDir = filepath.Join(c.cfg.DataDir, "gcs")
	}
	c.gcs = openLazyStore(gcfg)
	var store stash.Store = c.gcs
	if c.cfg.GCSDelay > 0 {
		store = delayedStore{store, c.cfg.GCSDelay}
	}
	c.lineage = newLineage(c.cfg.lineageMode, "node-1", store, c.cfg.ForwardBound, c.gcs.close)
	return nil
}

// keepsLineage reports whether this process keeps lineage (not
// --lineage=off), without which nothing can be rebuilt or replayed.
func (c *Cluster) keepsLineage() bool { return c.cfg.lineageMode != stash.ModeOff }

// GCS returns the embedded Global Control Store, waiting (a bounded
// time) for it to finish opening.
func (c *Cluster) GCS() (*gcs.Store, error) {
	if c.gcs == nil {
		return nil, fmt.Errorf("this process has no embedded GCS (lineage is off, or it is part of a cluster)")
	}
	return c.gcs.get()
}

// LineageStats reports the uncommitted lineage this process holds.
func (c *Cluster) LineageStats() stash.Stats { return c.lineage.stats() }

// FlushLineage writes all pending lineage to the GCS.
func (c *Cluster) FlushLineage(ctx context.Context) error {
	if c.lineage == nil || c.lineage.stash == nil {
		return nil
	}
	return c.lineage.stash.Flush(ctx)
}

// recordLineage keeps a call's specification (in sync mode: writes it
// to the GCS first).
func (c *Cluster) recordLineage(call *exec.TaskCall, node *Node) error {
	return c.lineage.record(call, node.ID, false)
}

func (c *Cluster) print(th *exec.Thread, line string) {
	c.out.Lock()
	defer c.out.Unlock()
	io.WriteString(c.cfg.Stdout, line)
}

func (c *Cluster) node(id string) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

func nodeDataDir(dataDir, node string) string {
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, node)
}

// StoreUsage sums the object stores of every node: bytes in memory, the
// limit, and how many objects were spilled and restored.
func (c *Cluster) StoreUsage() (used, limit, spills, restores int64) {
	for _, n := range c.nodes {
		u, l, s, r := n.store.Usage()
		used, limit, spills, restores = used+u, limit+l, spills+s, restores+r
	}
	return
}
