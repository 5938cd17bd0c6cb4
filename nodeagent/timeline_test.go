package nodeagent

import (
	"fmt"
	"testing"
	"time"
)

// A node's record of runs keeps at most its limit, dropping the oldest;
// a driver's query takes its job's runs, and only those, and they travel
// intact.
func TestNodeTimelineBoundAndTake(t *testing.T) {
	tl := &timeline{start: time.Now(), limit: 8}
	at := time.Now()
	for i := 0; i < 20; i++ {
		tl.add("f", "task", "n1", i%2, fmt.Sprintf("job%d.%d", i%2, i), at, at.Add(time.Millisecond), i == 19)
	}
	if n := len(tl.all()); n > 8 {
		t.Fatalf("%d runs kept, limit 8", n)
	}
	if last := tl.all()[len(tl.all())-1]; last.id != "job1.19" {
		t.Fatalf("the newest run was dropped: last is %s", last.id)
	}
	before := len(tl.all())
	got, err := decodeRuns(encodeRuns(tl.takeJobs([]string{"job1"})))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.id[:5] != "job1." || r.name != "f" || r.node != "n1" || r.worker != 1 || r.to-r.from != int64(time.Millisecond) {
			t.Fatalf("taken run %+v", r)
		}
	}
	if len(got) == 0 || !got[len(got)-1].failed {
		t.Fatalf("took %d runs of job1, the last not failed: %+v", len(got), got)
	}
	if left := tl.all(); len(left)+len(got) != before || len(tl.takeJobs([]string{"job1"})) != 0 {
		t.Fatalf("after the take: %d left of %d, %d taken", len(left), before, len(got))
	}
}
