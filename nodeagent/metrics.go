package nodeagent

import (
	"net/http"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/metrics"
)

// taskCounts are node n's task counters of the function named fn; on a
// nil node (a call with no node), counters nobody reads.
func (n *Node) taskCounts(fn string) *metrics.TaskCounts {
	if n == nil {
		return (*metrics.FuncCounts)(nil).Of(fn)
	}
	return n.tasks.Of(fn)
}

// MetricsHandler serves this process's metrics at GET /metrics
// (spec/cluster.md, Metrics): its nodes', its lineage stash's, and, on
// a head, the nodes' heartbeat ages and the Jobs API's jobs by status
// (its jobs table in the GCS, as this head's replica holds it).
// Everything is read at scrape time.
func (c *Cluster) MetricsHandler() http.Handler {
	src := metrics.Source{Nodes: c.metricsNodes, StashUncommitted: c.stashUncommitted,
		RefusedDials: c.RefusedDials, MemoryStops: MemoryStops}
	if nw := c.net; nw != nil && nw.cfg.Membership != nil {
		src.HeartbeatAges = func() map[string]float64 { return heartbeatAges(nw.cfg.Membership.Alive(), time.Now()) }
		src.Jobs = nw.cfg.Store.CountAPIJobs
	}
	return metrics.Handler(src)
}

// metricsNodes reads what /metrics shows of each node of the process.
func (c *Cluster) metricsNodes() []metrics.Node {
	out := make([]metrics.Node, 0, len(c.nodes))
	for _, n := range c.nodes {
		_, queued, _ := n.sched.State()
		used, _, _, _ := n.store.Usage()
		out = append(out, metrics.Node{ID: n.ID, Tasks: &n.tasks, Queued: queued, Actors: n.actorCount(),
			StoreBytes: used, SpilledBytes: n.store.SpilledBytes()})
	}
	return out
}

// stashUncommitted is how many entries the lineage stash holds
// uncommitted; 0 without a stash (--lineage sync or off).
func (c *Cluster) stashUncommitted() int {
	if c.lineage == nil || c.lineage.stash == nil {
		return 0
	}
	return c.lineage.stash.Stats().Uncommitted
}

// heartbeatAges are the seconds since each node's last heartbeat, at now.
func heartbeatAges(nodes []gcs.NodeInfo, now time.Time) map[string]float64 {
	ages := make(map[string]float64, len(nodes))
	for _, n := range nodes {
		ages[n.ID] = max(0, now.Sub(time.Unix(0, n.LastHeartbeat)).Seconds())
	}
	return ages
}
