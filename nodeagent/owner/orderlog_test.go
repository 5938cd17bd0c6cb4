package owner

import (
	"sort"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// The log answers a restart with the places it noted, forgets the oldest
// beyond its bound, and keeps only calls a record could keep.
func TestOrderLog(t *testing.T) {
	var l OrderLog
	l.Note("a1", 0, "job.1.1")
	l.Note("a1", 1, "job.1.2")
	l.Note("a2", 0, "job.2.1")
	l.Note("a1", 1, "job.1.2") // the same answer twice counts once
	var seqs []int
	for _, o := range l.Outcomes("a1") {
		seqs = append(seqs, int(o.Outcome.Seq))
	}
	sort.Ints(seqs)
	if len(seqs) != 2 || seqs[0] != 0 || seqs[1] != 1 {
		t.Fatalf("a1's places: %v", seqs)
	}
	for i := range orderLogLimit {
		l.Note("busy", uint64(i), "job.9.x")
	}
	if got := l.Outcomes("a1"); len(got) != 0 {
		t.Fatalf("the oldest places were not forgotten: %d left", len(got))
	}
	if got := l.Outcomes("busy"); len(got) != orderLogLimit {
		t.Fatalf("kept %d places, want the bound %d", len(got), orderLogLimit)
	}

	small := &exec.TaskCall{ID: "job.3.1", Args: []exec.Value{exec.Int(1)}}
	big := &exec.TaskCall{ID: "job.3.2", Args: []exec.Value{exec.Str(string(make([]byte, 1<<20)))}}
	l.KeepCall(small)
	l.KeepCall(big)
	if l.Call("job.3.1") != small || l.Call("job.3.2") != nil || l.Call("job.3.3") != nil {
		t.Fatal("kept calls: want the small one only")
	}
}
