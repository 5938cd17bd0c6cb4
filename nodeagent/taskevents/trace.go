package taskevents

import "sort"

// TraceEvent is one complete ("X") event of Chrome's trace event format,
// which Perfetto and chrome://tracing open.
type TraceEvent struct {
	Name  string         `json:"name"`
	Cat   string         `json:"cat"` // "task" or "method"
	Phase string         `json:"ph"`
	TS    float64        `json:"ts"`  // microseconds since origin
	Dur   float64        `json:"dur"` // microseconds
	PID   string         `json:"pid"` // the node
	TID   int            `json:"tid"` // the worker on that node; -1 for a method
	Args  map[string]any `json:"args,omitempty"`
}

// Trace turns runs into trace events, the earliest first, timed from
// origin (Unix nanoseconds; 0: from the earliest run).
func Trace(runs []Run, origin int64) []TraceEvent {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].From < runs[j].From })
	if origin == 0 && len(runs) > 0 {
		origin = runs[0].From
	}
	events := make([]TraceEvent, 0, len(runs))
	for _, r := range runs {
		cat := "task"
		if r.Method {
			cat = "method"
		}
		ev := TraceEvent{Name: r.Name, Cat: cat, Phase: "X", PID: r.Node, TID: int(r.Worker),
			TS:   float64(r.From-origin) / 1e3,
			Dur:  float64(r.To-r.From) / 1e3,
			Args: map[string]any{"id": r.ID}}
		if r.Failed {
			ev.Args["failed"] = true
		}
		events = append(events, ev)
	}
	return events
}
