package adapt

import (
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/compiler"
)

// A site whose calls run for less than they cost to schedule is grouped,
// sized so a group runs about GroupRun; one whose calls run longer is
// left alone. Each decision is taken once and logged with its reason.
func TestDecidesFromMeasuredRunTime(t *testing.T) {
	fast := &compiler.CallSite{Callee: "fast"}
	slow := &compiler.CallSite{Callee: "slow"}
	other := &compiler.CallSite{Callee: "other"}
	tab := New([]*compiler.CallSite{fast, slow})
	for i := 0; i < Samples-1; i++ {
		tab.Observe(fast, 10*time.Microsecond)
		tab.Observe(slow, 2*time.Millisecond)
	}
	if tab.Group(fast) != 1 || tab.Group(slow) != 1 {
		t.Fatalf("decided before %d samples", Samples)
	}
	tab.Observe(fast, 10*time.Microsecond)
	tab.Observe(slow, 2*time.Millisecond)
	if got := tab.Group(fast); got != int(GroupRun/(10*time.Microsecond)) {
		t.Errorf("fast site's group %d, want %d", got, GroupRun/(10*time.Microsecond))
	}
	if got := tab.Group(slow); got != 1 {
		t.Errorf("slow site's group %d, want 1", got)
	}
	if tab.Group(other) != 1 {
		t.Errorf("a site the table does not know is grouped")
	}
	tab.Observe(fast, time.Second) // decided: later samples change nothing
	ds := tab.Decisions()
	if len(ds) != 2 || !strings.Contains(ds[0].What+ds[1].What, "groups of 100") || !strings.Contains(ds[0].What+ds[1].What, "'slow' go alone") {
		t.Errorf("decisions %+v", ds)
	}
}

// A program without adaptive sites has no table, and a nil table answers.
func TestNilTable(t *testing.T) {
	var tab *Table = New(nil)
	if tab != nil {
		t.Fatal("New(nil) made a table")
	}
	tab.Observe(&compiler.CallSite{}, time.Microsecond)
	if tab.Group(&compiler.CallSite{}) != 1 || tab.Decisions() != nil {
		t.Fatal("nil table answered wrongly")
	}
}

// What one run decided, the next run of the same program starts with.
func TestExportSeed(t *testing.T) {
	fast := &compiler.CallSite{Callee: "fast"}
	fast.Pos.Line, fast.Pos.Column = 12, 25
	first := New([]*compiler.CallSite{fast})
	for i := 0; i < Samples; i++ {
		first.Observe(fast, 5*time.Microsecond)
	}
	again := &compiler.CallSite{Callee: "fast"}
	again.Pos = fast.Pos
	next := New([]*compiler.CallSite{again})
	next.Seed(first.Export())
	if got, want := next.Group(again), first.Group(fast); got != want || got < 2 {
		t.Fatalf("seeded group %d, want %d", got, want)
	}
	if ds := next.Decisions(); len(ds) != 1 || !strings.Contains(ds[0].What, "from an earlier run") {
		t.Fatalf("decisions %+v", ds)
	}
	next.Seed([]byte("garbage\n1:2 x y\n")) // ignored
}

// A grouped site whose caller gets every call at once sends groups of
// one: after Samples of them it goes back to alone.
func TestGroupsOfOneGoBackToAlone(t *testing.T) {
	cs := &compiler.CallSite{Callee: "inc"}
	tab := New([]*compiler.CallSite{cs})
	for i := 0; i < Samples; i++ {
		tab.Observe(cs, time.Microsecond)
	}
	if tab.Group(cs) < 2 {
		t.Fatal("not grouped")
	}
	for i := 0; i < Samples; i++ {
		tab.Sent(cs, 1)
	}
	if tab.Group(cs) != 1 {
		t.Fatalf("group %d after %d groups of one, want 1", tab.Group(cs), Samples)
	}
	if ds := tab.Decisions(); !strings.Contains(ds[len(ds)-1].What, "go alone again") {
		t.Fatalf("decisions %+v", ds)
	}
}

// A table that decided nothing exports nothing, so a run that learned
// nothing does not overwrite what earlier runs kept; the export is in
// source order, so the same decisions export the same bytes.
func TestExportEmptyAndOrdered(t *testing.T) {
	a, b := &compiler.CallSite{Callee: "a"}, &compiler.CallSite{Callee: "b"}
	a.Pos.Line, b.Pos.Line = 9, 3
	tab := New([]*compiler.CallSite{a, b})
	if len(tab.Export()) != 0 {
		t.Fatal("an undecided table exported something")
	}
	for i := 0; i < Samples; i++ {
		tab.Observe(a, time.Microsecond)
		tab.Observe(b, time.Microsecond)
	}
	lines := strings.Split(strings.TrimSpace(string(tab.Export())), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "3:") || !strings.HasPrefix(lines[1], "9:") {
		t.Fatalf("export %q", lines)
	}
}

// A site is decided on the median of its samples: its first call, run
// cold (20–40 µs where the others take 1 µs), does not make the calls
// look slower than they are, which a mean of the 16 would (13 µs: groups
// of 74, not 1,000).
func TestDecidesOnTheMedianNotACold(t *testing.T) {
	cs := &compiler.CallSite{Callee: "small"}
	tab := New([]*compiler.CallSite{cs})
	tab.Observe(cs, 200*time.Microsecond) // the cold first call
	for i := 1; i < Samples; i++ {
		tab.Observe(cs, time.Microsecond)
	}
	if got, want := tab.Group(cs), int(GroupRun/time.Microsecond); got != want {
		t.Fatalf("group %d, want %d (a group of calls of 1µs running ~%s)", got, want, GroupRun)
	}
	if ds := tab.Decisions(); len(ds) != 1 || !strings.Contains(ds[0].What, "each runs 1µs") {
		t.Fatalf("decisions %+v", ds)
	}
}

// Samples observed at once from several workers decide the site once.
func TestConcurrentSamplesDecideOnce(t *testing.T) {
	cs := &compiler.CallSite{Callee: "small"}
	tab := New([]*compiler.CallSite{cs})
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < Samples; i++ {
				tab.Observe(cs, 2*time.Microsecond)
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	if ds := tab.Decisions(); len(ds) != 1 || tab.Group(cs) != int(GroupRun/(2*time.Microsecond)) {
		t.Fatalf("group %d, decisions %+v", tab.Group(cs), ds)
	}
}
