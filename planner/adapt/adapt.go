package adapt

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/compiler"
)

// The policy's constants.
const (
	// Samples is how many calls of a site are measured before deciding.
	Samples = 16
	// Overhead is what one call costs to schedule and answer, beyond its
	// run time (the embedded per-task cost measured in BENCHMARKS.md is
	// 4–8 µs; a cluster's is more): a call that runs for less than this
	// is cheaper in a group.
	Overhead = 25 * time.Microsecond
	// GroupRun is how long one group should run: long enough to pay for
	// its own scheduling many times over, short enough to spread.
	GroupRun = time.Millisecond
	// MaxGroup bounds an adaptive group.
	MaxGroup = 1024
)

// site is what is known of one adaptive call site.
type site struct {
	cs      *compiler.CallSite
	calls   atomic.Int64
	totalNs atomic.Int64
	group   atomic.Int32 // 0 undecided, 1 alone, >1 the group size
}

// Table holds the adaptive sites of one loaded program.
type Table struct {
	sites map[*compiler.CallSite]*site

	mu        sync.Mutex
	decisions []Decision
}

// Decision is one run-time decision, for explain.
type Decision struct {
	Site *compiler.CallSite
	What string
}

// New makes a table for the given adaptive sites (nil when there are
// none, so that programs without adaptive sites pay nothing).
func New(sites []*compiler.CallSite) *Table {
	if len(sites) == 0 {
		return nil
	}
	t := &Table{sites: make(map[*compiler.CallSite]*site, len(sites))}
	for _, cs := range sites {
		t.sites[cs] = &site{cs: cs}
	}
	return t
}

// Group is how many calls of the site to send together now: 1 until
// decided, then the decided size.
func (t *Table) Group(cs *compiler.CallSite) int {
	if t == nil {
		return 1
	}
	s := t.sites[cs]
	if s == nil {
		return 1
	}
	return max(int(s.group.Load()), 1)
}

// Observe records that one call of the site ran for d.
func (t *Table) Observe(cs *compiler.CallSite, d time.Duration) {
	if t == nil {
		return
	}
	s := t.sites[cs]
	if s == nil || s.group.Load() != 0 {
		return
	}
	n := s.calls.Add(1)
	total := s.totalNs.Add(int64(d))
	if n == Samples {
		t.decide(s, time.Duration(total/n))
	}
}

// decide sets the site's group size from its mean run time.
func (t *Table) decide(s *site, mean time.Duration) {
	size := 1
	what := fmt.Sprintf("calls of '%s' go alone: each runs %s, more than the ~%s it costs to schedule", s.cs.Callee, round(mean), Overhead)
	if mean < Overhead {
		size = int(GroupRun / max(mean, time.Microsecond))
		size = min(max(size, 2), MaxGroup)
		what = fmt.Sprintf("batch: calls of '%s' go in groups of %d (each runs %s, less than the ~%s it costs to schedule; a group runs ~%s)",
			s.cs.Callee, size, round(mean), Overhead, GroupRun)
	}
	s.group.Store(int32(size))
	t.mu.Lock()
	t.decisions = append(t.decisions, Decision{Site: s.cs, What: what})
	t.mu.Unlock()
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Microsecond {
		return d.Round(100 * time.Nanosecond)
	}
	return d.Round(time.Microsecond)
}

// Decisions lists the decisions taken so far, in source order.
func (t *Table) Decisions() []Decision {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	out := append([]Decision(nil), t.decisions...)
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Site.Pos, out[j].Site.Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return out
}
