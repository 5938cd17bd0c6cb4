package nodeagent

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// timeline records when each task and method ran, where, and on which
// worker, for `rayflow run --timeline FILE`. The output is Chrome's trace
// event format, which Perfetto and chrome://tracing open.
type timeline struct {
	mu     sync.Mutex
	start  time.Time
	events []traceEvent
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
	ev := traceEvent{Name: name, Cat: cat, Phase: "X", PID: node, TID: worker,
		TS:   float64(from.Sub(t.start).Nanoseconds()) / 1e3,
		Dur:  float64(to.Sub(from).Nanoseconds()) / 1e3,
		Args: map[string]any{"id": id}}
	if failed {
		ev.Args["failed"] = true
	}
	t.mu.Lock()
	t.events = append(t.events, ev)
	t.mu.Unlock()
}

// WriteTimeline writes the recorded events as Chrome trace JSON. It
// writes an empty trace when the cluster was not asked to record one.
func (c *Cluster) WriteTimeline(w io.Writer) error {
	var events []traceEvent
	if c.timeline != nil {
		c.timeline.mu.Lock()
		events = append(events, c.timeline.events...)
		c.timeline.mu.Unlock()
	}
	if events == nil {
		events = []traceEvent{}
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": events, "displayTimeUnit": "ms"})
}
