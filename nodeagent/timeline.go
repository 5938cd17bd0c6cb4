package nodeagent

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// timeline records when each task and method ran, where, and on which
// worker, for `rayflow run --timeline FILE`. The output is Chrome's trace
// event format, which Perfetto and chrome://tracing open.
//
// An embedded cluster records every run of the one job it runs. On a
// cluster the runs happen on the nodes: each node keeps a bounded record
// of the runs of every job (nodeTimelineLimit; the oldest go first), and
// a driver asked for a timeline gathers its job's runs from every live
// node when the job ends (wire.QueryTimeline), which forget them. Times
// are each node's clock: on separate machines they are as close as the
// clocks are.
type timeline struct {
	mu    sync.Mutex
	start time.Time
	runs  []run
	limit int // the most runs kept (the oldest dropped first); 0 for no limit
}

// nodeTimelineLimit bounds the runs a node of a cluster keeps for
// drivers to gather: a few MB.
const nodeTimelineLimit = 1 << 16

// run is one task or method run.
type run struct {
	name, cat, node, id string
	worker              int // -1 for a method
	from, to            int64
	failed              bool
}

// traceEvent is one complete ("X") event of the Chrome trace format.
type traceEvent struct {
	Name  string         `json:"name"`
	Cat   string         `json:"cat"`
	Phase string         `json:"ph"`
	TS    float64        `json:"ts"`  // microseconds since the run started
	Dur   float64        `json:"dur"` // microseconds
	PID   string         `json:"pid"` // the node
	TID   int            `json:"tid"` // the worker on that node
	Args  map[string]any `json:"args,omitempty"`
}

func (t *timeline) add(name, cat, node string, worker int, id string, from, to time.Time, failed bool) {
	if t == nil {
		return
	}
	r := run{name: name, cat: cat, node: node, id: id, worker: worker,
		from: from.UnixNano(), to: to.UnixNano(), failed: failed}
	t.mu.Lock()
	if t.limit > 0 && len(t.runs) >= t.limit {
		// Drop the oldest quarter at once: amortised, a copy per
		// limit/4 runs.
		n := copy(t.runs, t.runs[t.limit/4:])
		clear(t.runs[n:])
		t.runs = t.runs[:n]
	}
	t.runs = append(t.runs, r)
	t.mu.Unlock()
}

// takeJobs removes and returns the recorded runs of the jobs' tasks and
// calls (their IDs start with the job ID and a dot).
func (t *timeline) takeJobs(jobs []string) []run {
	if t == nil || len(jobs) == 0 {
		return nil
	}
	ofJob := ofJobsPicker(jobs)
	t.mu.Lock()
	defer t.mu.Unlock()
	var taken []run
	kept := t.runs[:0]
	for _, r := range t.runs {
		if ofJob(r.id) {
			taken = append(taken, r)
		} else {
			kept = append(kept, r)
		}
	}
	clear(t.runs[len(kept):])
	t.runs = kept
	return taken
}

// all returns a copy of every recorded run.
func (t *timeline) all() []run {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]run(nil), t.runs...)
}

func encodeRuns(runs []run) []byte {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(runs)))
	for _, r := range runs {
		w.String(r.name)
		w.String(r.cat)
		w.String(r.node)
		w.Uvarint(uint64(r.worker + 1))
		w.String(r.id)
		w.Varint(r.from)
		w.Varint(r.to)
		w.Bool(r.failed)
	}
	return w.Bytes()
}

func decodeRuns(b []byte) ([]run, error) {
	d := codec.NewDecoder(b)
	runs := make([]run, d.Count(8))
	for i := range runs {
		r := &runs[i]
		r.name, r.cat, r.node = d.String(), d.String(), d.String()
		r.worker = int(d.Uvarint()) - 1
		r.id = d.String()
		r.from, r.to = d.Varint(), d.Varint()
		r.failed = d.Bool()
	}
	return runs, wire.Err(d)
}

// handleTimelineQuery serves wire.QueryTimeline: this node's runs of the
// jobs named, which it then forgets.
func (nw *network) handleTimelineQuery(body []byte) (*transport.Message, error) {
	jobs, err := wire.DecodeStrings(body)
	if err != nil {
		return nil, wire.ErrMalformed
	}
	return transport.Reply(encodeRuns(nw.c.timeline.takeJobs(jobs))), nil
}

// timelineGatherTimeout bounds how long a driver waits for the nodes'
// runs.
const timelineGatherTimeout = 5 * time.Second

// gatherTimeline asks every live node for the runs of the jobs this
// driver ran. A node that does not answer in time is left out.
func (nw *network) gatherTimeline() []run {
	jobs := nw.drivenJobs()
	if len(jobs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timelineGatherTimeout)
	defer cancel()
	query := append([]byte{wire.QueryTimeline}, wire.EncodeStrings(jobs...)...)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var all []run
	for _, addr := range nw.liveAddrs(ctx) {
		if addr == nw.addr {
			continue
		}
		wg.Go(func() {
			rep, err := nw.pool.Call(ctx, addr, transport.Query, query)
			if err != nil {
				return
			}
			runs, err := decodeRuns(rep.Payload)
			if err != nil {
				return
			}
			mu.Lock()
			all = append(all, runs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

// WriteTimeline writes the recorded runs as Chrome trace JSON: this
// process's, and on a driver of a cluster those its job's tasks made on
// the nodes. It writes an empty trace when the cluster was not asked to
// record one.
func (c *Cluster) WriteTimeline(w io.Writer) error {
	runs := c.timeline.all()
	if c.timeline != nil && c.isDriver() {
		runs = append(runs, c.net.gatherTimeline()...)
	}
	events := []traceEvent{}
	if c.timeline != nil {
		start := c.timeline.start.UnixNano()
		sort.SliceStable(runs, func(i, j int) bool { return runs[i].from < runs[j].from })
		for _, r := range runs {
			ev := traceEvent{Name: r.name, Cat: r.cat, Phase: "X", PID: r.node, TID: r.worker,
				TS:   float64(r.from-start) / 1e3,
				Dur:  float64(r.to-r.from) / 1e3,
				Args: map[string]any{"id": r.id}}
			if r.failed {
				ev.Args["failed"] = true
			}
			events = append(events, ev)
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": events, "displayTimeUnit": "ms"})
}
