package adapt

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	cs *compiler.CallSite
	// calls numbers the observations (from 1); the first Samples are
	// kept in samples (ns), stored counts those kept, and the site is
	// decided on their median once all are in: a site's first call runs
	// cold (its worker's thread and frames made, 20–40 µs where the next
	// run 1 µs), which a mean of 16 would take for a call 3–8 times
	// slower than it is.
	calls   atomic.Int64
	stored  atomic.Int64
	samples [Samples]atomic.Int64
	runNs   atomic.Int64 // the run time decided on, for Export
	group   atomic.Int32 // 0 undecided, 1 alone, >1 the group size
	// flushes and flushed count the groups sent since the site was
	// grouped, and their calls: a caller that waits for each call at
	// once sends groups of one, and the site goes back to alone.
	flushes, flushed atomic.Int64
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
	if n > Samples {
		return
	}
	s.samples[n-1].Store(int64(d))
	if s.stored.Add(1) == Samples {
		t.decide(s, s.median())
	}
}

// median is the median of the site's samples, all stored.
func (s *site) median() time.Duration {
	var ns [Samples]int64
	for i := range s.samples {
		ns[i] = s.samples[i].Load()
	}
	slices.Sort(ns[:])
	return time.Duration(ns[(Samples-1)/2])
}

// Sent records that a group of n calls of the site was sent. Once
// Samples groups were sent holding less than two calls on average (the
// caller gets each call at once, so nothing waits to join it), the site
// goes back to sending its calls alone: grouping them only costs.
func (t *Table) Sent(cs *compiler.CallSite, n int) {
	if t == nil {
		return
	}
	s := t.sites[cs]
	if s == nil || s.group.Load() <= 1 {
		return
	}
	k := s.flushes.Add(1)
	total := s.flushed.Add(int64(n))
	if k == Samples && total < 2*Samples && s.group.CompareAndSwap(s.group.Load(), 1) {
		t.mu.Lock()
		t.decisions = append(t.decisions, Decision{Site: s.cs, What: fmt.Sprintf("calls of '%s' go alone again: its caller waits for each one at once, so the last %d groups held %.1f calls on average", s.cs.Callee, Samples, float64(total)/float64(k))})
		t.mu.Unlock()
	}
}

// decide sets the site's group size from its calls' run time (the
// median of its samples).
func (t *Table) decide(s *site, run time.Duration) {
	size := 1
	what := fmt.Sprintf("calls of '%s' go alone: each runs %s, more than the ~%s it costs to schedule", s.cs.Callee, round(run), Overhead)
	if run < Overhead {
		size = int(GroupRun / max(run, time.Microsecond))
		size = min(max(size, 2), MaxGroup)
		what = fmt.Sprintf("batch: calls of '%s' go in groups of %d (each runs %s, less than the ~%s it costs to schedule; a group runs ~%s)",
			s.cs.Callee, size, round(run), Overhead, GroupRun)
	}
	s.runNs.Store(int64(run))
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

// Export encodes the decisions taken, one line per site in source order:
// LINE:COL SIZE RUN_NS (the run time decided on), for the next run of the same program (Seed).
// Empty when nothing was decided.
func (t *Table) Export() []byte {
	if t == nil {
		return nil
	}
	var decided []*site
	for _, s := range t.sites {
		if s.group.Load() != 0 {
			decided = append(decided, s)
		}
	}
	slices.SortFunc(decided, func(a, b *site) int {
		return cmp.Or(cmp.Compare(a.cs.Pos.Line, b.cs.Pos.Line), cmp.Compare(a.cs.Pos.Column, b.cs.Pos.Column))
	})
	var b []byte
	for _, s := range decided {
		b = fmt.Appendf(b, "%d:%d %d %d\n", s.cs.Pos.Line, s.cs.Pos.Column, s.group.Load(), s.runNs.Load())
	}
	return b
}

// Seed takes the decisions an earlier run of the same program exported:
// those sites start decided, and the log says so. Lines it cannot read,
// or about sites it does not have, are ignored (the program is the same,
// so there are none).
func (t *Table) Seed(blob []byte) {
	if t == nil || len(blob) == 0 {
		return
	}
	byPos := make(map[[2]int]*site, len(t.sites))
	for _, s := range t.sites {
		byPos[[2]int{s.cs.Pos.Line, s.cs.Pos.Column}] = s
	}
	for _, line := range strings.Split(string(blob), "\n") {
		var l, c, size int
		var runNs int64
		if _, err := fmt.Sscanf(line, "%d:%d %d %d", &l, &c, &size, &runNs); err != nil || size < 1 || size > MaxGroup {
			continue
		}
		s := byPos[[2]int{l, c}]
		if s == nil || !s.group.CompareAndSwap(0, int32(size)) {
			continue
		}
		s.runNs.Store(runNs)
		t.mu.Lock()
		t.decisions = append(t.decisions, Decision{Site: s.cs, What: fmt.Sprintf("from an earlier run: calls of '%s' go %s (each ran %s)", s.cs.Callee, groupText(size), round(time.Duration(runNs)))})
		t.mu.Unlock()
	}
}

func groupText(size int) string {
	if size <= 1 {
		return "alone"
	}
	return fmt.Sprintf("in groups of %d", size)
}
