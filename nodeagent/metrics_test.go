package nodeagent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent"
)

// An embedded cluster's /metrics counts its tasks by node and function:
// submitted, finished, failed (its own error, and a dependency's).
func TestMetricsCountTasksByFunction(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
task ok(x) { return x }
task bad(x) { fail("no") }
task after(x) { return x }
pipeline main() {
    print(sum(get([ok(i) for i in range(5)])))
    try { get(after(bad(1))) } catch err { print("caught") }
}`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, "10\ncaught")
	srv := httptest.NewServer(c.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	node := c.Head().ID
	for _, want := range []string{
		`rayflow_tasks_submitted_total{function="ok",node="` + node + `"} 5`,
		`rayflow_tasks_finished_total{function="ok",node="` + node + `"} 5`,
		`rayflow_tasks_failed_total{function="ok",node="` + node + `"} 0`,
		`rayflow_tasks_failed_total{function="bad",node="` + node + `"} 1`,
		`rayflow_tasks_failed_total{function="after",node="` + node + `"} 1`,
		`rayflow_tasks_queued{node="` + node + `"} 0`,
		`rayflow_stash_uncommitted 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
}
