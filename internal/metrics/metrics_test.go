package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Past MaxFunctions names, a node's tasks count under "other": the
// labels stay bounded however many functions a program has.
func TestFuncCountsCapFoldsIntoOther(t *testing.T) {
	var f FuncCounts
	for i := range MaxFunctions + 50 {
		f.Of(fmt.Sprintf("f%d", i)).Submitted.Add(1)
	}
	f.Of("f0").Submitted.Add(1) // a name counted before the cap keeps its own
	names, other, f0 := 0, int64(0), int64(0)
	f.Each(func(name string, c *TaskCounts) {
		names++
		switch name {
		case OtherFunction:
			other = c.Submitted.Load()
		case "f0":
			f0 = c.Submitted.Load()
		}
	})
	if names != MaxFunctions+1 || other != 50 || f0 != 2 {
		t.Fatalf("names %d (want %d), other %d (want 50), f0 %d (want 2)", names, MaxFunctions+1, other, f0)
	}
}

// Concurrent first uses of one name share one set of counters.
func TestFuncCountsConcurrent(t *testing.T) {
	var f FuncCounts
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				f.Of("g").Finished.Add(1)
			}
		})
	}
	wg.Wait()
	if got := f.Of("g").Finished.Load(); got != 8000 {
		t.Fatalf("finished %d, want 8000", got)
	}
}

// The handler reads the source at scrape time and writes every metric
// in the text format, with the values of the moment.
func TestHandlerReadsSourceAtScrape(t *testing.T) {
	var tasks FuncCounts
	queued := 0
	h := Handler(Source{
		Nodes: func() []Node {
			return []Node{{ID: "n1", Tasks: &tasks, Queued: queued, Actors: 2, StoreBytes: 1 << 20, SpilledBytes: 4096}}
		},
		StashUncommitted: func() int { return 7 },
		HeartbeatAges:    func() map[string]float64 { return map[string]float64{"n1": 0.5} },
		Jobs:             func() map[string]int { return map[string]int{"RUNNING": 3} },
	})
	tasks.Of("square").Submitted.Add(5)
	tasks.Of("square").Finished.Add(4)
	tasks.Of("square").Failed.Add(1)
	queued = 9
	GCSApply.Observe(0.001)
	body := get(t, h)
	for _, want := range []string{
		`rayflow_tasks_submitted_total{function="square",node="n1"} 5`,
		`rayflow_tasks_finished_total{function="square",node="n1"} 4`,
		`rayflow_tasks_failed_total{function="square",node="n1"} 1`,
		`rayflow_tasks_queued{node="n1"} 9`,
		`rayflow_actors{node="n1"} 2`,
		`rayflow_object_store_bytes{node="n1"} 1.048576e+06`,
		`rayflow_object_store_spilled_bytes_total{node="n1"} 4096`,
		`rayflow_stash_uncommitted 7`,
		`rayflow_heartbeat_age_seconds{node="n1"} 0.5`,
		`rayflow_jobs{status="RUNNING"} 3`,
		`# TYPE rayflow_gcs_apply_seconds histogram`,
		`# TYPE rayflow_tasks_submitted_total counter`,
		`# TYPE rayflow_tasks_queued gauge`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
}

func get(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
