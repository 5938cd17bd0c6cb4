package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// GCSApply is how long this process's GCS replicas take to apply one
// Raft log entry (a batch of commands) to their tables.
var GCSApply = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "rayflow_gcs_apply_seconds",
	Help:    "Time a GCS replica of this process took to apply one Raft log entry (a batch of commands).",
	Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12), // 1µs .. ~4s
})

// Node is what the scrape reads of one node of the process.
type Node struct {
	ID           string
	Tasks        *FuncCounts
	Queued       int   // tasks whose dependencies are ready, waiting for a worker
	Actors       int   // actors the node hosts
	StoreBytes   int64 // bytes of large values its object store holds in memory
	SpilledBytes int64 // bytes its object store has spilled to disk, ever
}

// Source is where the scrape reads the process's state. A nil function
// leaves its metric out.
type Source struct {
	Nodes func() []Node
	// StashUncommitted is the entries the process's lineage stash holds
	// that the GCS has not committed.
	StashUncommitted func() int
	// HeartbeatAges are, on a head, the seconds since each alive node's
	// last heartbeat, by node ID.
	HeartbeatAges func() map[string]float64
	// Jobs are, on a head, the jobs it knows by status.
	Jobs func() map[string]int
	// RefusedDials are the dials the process refused because the
	// address was not a member's; MemoryStops the tasks and driver
	// threads its memory monitor stopped. Both ever.
	RefusedDials, MemoryStops func() int64
}

var (
	descSubmitted = prometheus.NewDesc("rayflow_tasks_submitted_total", "Tasks submitted to (or received by) the node, by function.", []string{"node", "function"}, nil)
	descFinished  = prometheus.NewDesc("rayflow_tasks_finished_total", "Tasks the node ran to a result, by function.", []string{"node", "function"}, nil)
	descFailed    = prometheus.NewDesc("rayflow_tasks_failed_total", "Tasks that failed on the node (their own error or a failed dependency), by function.", []string{"node", "function"}, nil)
	descQueued    = prometheus.NewDesc("rayflow_tasks_queued", "Tasks whose dependencies are ready, waiting for a worker on the node.", []string{"node"}, nil)
	descActors    = prometheus.NewDesc("rayflow_actors", "Actors the node hosts.", []string{"node"}, nil)
	descStore     = prometheus.NewDesc("rayflow_object_store_bytes", "Bytes of large values the node's object store holds in memory.", []string{"node"}, nil)
	descSpilled   = prometheus.NewDesc("rayflow_object_store_spilled_bytes_total", "Bytes the node's object store has spilled to disk.", []string{"node"}, nil)
	descStash     = prometheus.NewDesc("rayflow_stash_uncommitted", "Lineage entries the process's stash holds that the GCS has not committed.", nil, nil)
	descHeartbeat = prometheus.NewDesc("rayflow_heartbeat_age_seconds", "Seconds since the head last heard a heartbeat of the alive node.", []string{"node"}, nil)
	descJobs      = prometheus.NewDesc("rayflow_jobs", "Jobs the head knows, by status.", []string{"status"}, nil)
	descRefused   = prometheus.NewDesc("rayflow_refused_dials_total", "Dials the process refused: the address was not a member's nor a driver's that holds a job lease.", nil, nil)
	descMemStops  = prometheus.NewDesc("rayflow_memory_stops_total", "Tasks and driver threads the process's memory monitor stopped.", nil, nil)
)

// collector reads a Source at scrape time.
type collector struct{ src Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSubmitted, descFinished, descFailed, descQueued, descActors,
		descStore, descSpilled, descStash, descHeartbeat, descJobs, descRefused, descMemStops} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Nodes != nil {
		for _, n := range c.src.Nodes() {
			collectNode(ch, n)
		}
	}
	if c.src.StashUncommitted != nil {
		ch <- prometheus.MustNewConstMetric(descStash, prometheus.GaugeValue, float64(c.src.StashUncommitted()))
	}
	if c.src.HeartbeatAges != nil {
		for id, age := range c.src.HeartbeatAges() {
			ch <- prometheus.MustNewConstMetric(descHeartbeat, prometheus.GaugeValue, age, id)
		}
	}
	if c.src.Jobs != nil {
		for status, n := range c.src.Jobs() {
			ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(n), status)
		}
	}
	if c.src.RefusedDials != nil {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(c.src.RefusedDials()))
	}
	if c.src.MemoryStops != nil {
		ch <- prometheus.MustNewConstMetric(descMemStops, prometheus.CounterValue, float64(c.src.MemoryStops()))
	}
}

func collectNode(ch chan<- prometheus.Metric, n Node) {
	n.Tasks.Each(func(fn string, t *TaskCounts) {
		ch <- prometheus.MustNewConstMetric(descSubmitted, prometheus.CounterValue, float64(t.Submitted.Load()), n.ID, fn)
		ch <- prometheus.MustNewConstMetric(descFinished, prometheus.CounterValue, float64(t.Finished.Load()), n.ID, fn)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(t.Failed.Load()), n.ID, fn)
	})
	ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(n.Queued), n.ID)
	ch <- prometheus.MustNewConstMetric(descActors, prometheus.GaugeValue, float64(n.Actors), n.ID)
	ch <- prometheus.MustNewConstMetric(descStore, prometheus.GaugeValue, float64(n.StoreBytes), n.ID)
	ch <- prometheus.MustNewConstMetric(descSpilled, prometheus.CounterValue, float64(n.SpilledBytes), n.ID)
}

// Registry is a registry of the process's metrics read from src, with
// GCSApply and the Go runtime's and the process's own metrics.
func Registry(src Source) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src}, GCSApply,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves the metrics of src in the Prometheus text format.
func Handler(src Source) http.Handler {
	return promhttp.HandlerFor(Registry(src), promhttp.HandlerOpts{MaxRequestsInFlight: 4})
}
