package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `run --address HEAD --timeline FILE` writes the job's runs gathered
// from every node that ran its tasks (it was refused as a flag of the
// embedded cluster only): the six tasks, spread over the head and a
// node, and the actor's method call, each once.
func TestTimelineOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, np := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--node-id", "head")
	startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(np), "--cpus", "1", "--node-id", "n1")
	prog := writeProgram(t, `
task sq(i) {
    time.sleep(0.2)
    return i * i
}
actor Counter() { method add(x) { return x + 1 } }
pipeline main() {
    let c = Counter()
    print(sum(get([sq(i) for i in range(6)])), get(c.add(1)))
}`)
	trace := filepath.Join(t.TempDir(), "trace.json")
	out, err := exec.Command(bin, "run", "--address", head, "--timeline", trace, prog).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "55 2" {
		t.Fatalf("run --address --timeline: %v\n%s", err, out)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []struct {
			Name string         `json:"name"`
			Cat  string         `json:"cat"`
			PID  string         `json:"pid"`
			TS   float64        `json:"ts"`
			Dur  float64        `json:"dur"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatalf("the timeline is not JSON: %v\n%s", err, data)
	}
	tasks, methods, where := 0, 0, map[string]int{}
	for _, ev := range tr.TraceEvents {
		switch {
		case ev.Cat == "task" && ev.Name == "sq":
			tasks++
			where[ev.PID]++
			if ev.Dur < 150e3 || ev.TS < 0 {
				t.Errorf("task run %+v: want at least 150 ms, after the driver started", ev)
			}
		case ev.Cat == "method" && ev.Name == "Counter.add":
			methods++
		}
	}
	if tasks != 6 || methods != 1 || where["head"] == 0 || where["n1"] == 0 {
		t.Fatalf("timeline has %d sq runs on %v and %d add calls, want 6 on both nodes and 1:\n%s", tasks, where, methods, data)
	}
}
