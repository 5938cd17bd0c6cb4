package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// run --max-memory caps the bytes a job's objects take in each node's
// object store, embedded and on a cluster alike: results and puts past
// it fail with a "memory" error; the nodes stay up and serve the next
// job, which has no cap.
func TestMaxMemoryCapsTheJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head := startHeadAndWorker(t, bin)
	prog := writeProgram(t, `
task make(i) { return "x" * 300000 }
pipeline main() {
    let fs = [make(i) for i in range(10)]
    try { get(fs) } catch e { print(e.kind) }
    let p = []
    try { for i in range(10) { p.append(put("y" * 300000)) } } catch e { print(e.kind) }
    print(len(p) < 10)
}
`)
	want := "memory\nmemory\ntrue\n"
	for _, where := range [][]string{nil, {"--address", head}} {
		args := append(append([]string{"run", "--max-memory", "1MiB"}, where...), prog)
		code, out, errOut := runIn(t, "", bin, nil, args...)
		if out != want || code != 0 {
			t.Fatalf("%v: exit %d, stdout\n%s\nstderr\n%s\nwant\n%s", args, code, out, errOut, want)
		}
	}
	// The message says which cap, where, and what.
	failing := writeProgram(t, "task make(i) { return \"x\" * 300000 }\npipeline main() { get([make(i) for i in range(10)]) }\n")
	code, _, errOut := runIn(t, "", bin, nil, "run", "--address", head, "--max-memory", "1MiB", failing)
	if code != 1 || !strings.Contains(errOut, "job memory cap of 1.0MiB exceeded on node ") || !strings.Contains(errOut, "task 'make'") {
		t.Fatalf("a job past its cap: exit %d\n%s", code, errOut)
	}
	// The nodes serve the next job, without a cap.
	code, out, errOut := runIn(t, "", bin, nil, "run", "--address", head, prog)
	if code != 0 || strings.Contains(out, "memory") || states(status(t, bin, head))["w1"] != "alive" {
		t.Fatalf("the next job: exit %d\n%s%s", code, out, errOut)
	}
}

// A node whose process passes its --memory-limit stops the task that
// grows without bound, with a "memory" error that says why, and lives on
// to serve the next job. The limit is small (200 MiB), so the test takes
// no more than that.
func TestMemoryLimitStopsTheTaskNotTheNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, wp := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "0")
	worker := startWorker(t, bin, head, "w1", wp, "--cpus", "1", "--memory-limit", "200MiB")
	waitState(t, bin, head, "w1", "alive", 10*time.Second)
	grow := writeProgram(t, `
task grow() {
    let xs = []
    while true { xs.append("x" * 1000 + str(len(xs))) }
}
pipeline main() {
    try { get(grow()) } catch e { print(e.kind, e.message) }
    get(grow())
}
`)
	code, out, errOut := runIn(t, "", bin, nil, "run", "--address", head, grow)
	if code != 1 || !strings.HasPrefix(out, "memory task 'grow' was stopped: node w1 is out of memory") ||
		!strings.Contains(out, "memory limit of 200.0MiB") || !strings.Contains(errOut, "out of memory") {
		t.Fatalf("a task that grows without bound: exit %d\nstdout\n%s\nstderr\n%s", code, out, errOut)
	}
	if worker.cmd.ProcessState != nil {
		t.Fatalf("the node exited: %v", worker.cmd.ProcessState)
	}
	prog := writeProgram(t, "task f(i) { return i * 2 }\npipeline main() { print(sum(get([f(i) for i in range(8)]))) }\n")
	if code, out, errOut := runIn(t, "", bin, nil, "run", "--address", head, prog); out != "56\n" || code != 0 {
		t.Fatalf("the next job: exit %d\n%s%s", code, out, errOut)
	}
	if s := states(status(t, bin, head))["w1"]; s != "alive" {
		t.Fatalf("w1 is %q after the job that ran out of memory", s)
	}
}

// Embedded, the monitor stops the pipeline itself when it is what grows
// (its driver thread runs in the process): exit 1 with a "memory" error
// the pipeline cannot catch.
func TestMemoryLimitStopsAnEmbeddedPipeline(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	prog := writeProgram(t, `
pipeline main() {
    let xs = []
    try {
        while true { xs.append("x" * 1000 + str(len(xs))) }
    } catch e { print("caught", e.kind) }
}
`)
	code, out, errOut := runIn(t, "", bin, nil, "run", "--memory-limit", "200MiB", prog)
	if code != 1 || out != "" || !strings.Contains(errOut, "error: node node-1 is out of memory") {
		t.Fatalf("exit %d\nstdout\n%s\nstderr\n%s", code, out, errOut)
	}
}

// A head's --job-max-memory caps every job submitted to its HTTP API as
// run --max-memory caps a driver's own: results past it fail with a
// "memory" error in the job's log.
func TestJobMaxMemoryCapsHTTPJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1", "--job-max-memory", "1MiB")
	addr := fmt.Sprintf("--address=http://127.0.0.1:%d", web)
	prog := writeProgram(t, `
task make(i) { return "x" * 300000 }
pipeline main() {
    try { get([make(i) for i in range(10)]) } catch e { print(e.kind) }
}
`)
	if code, out, errs := rayflowJob(t, bin, "submit", addr, prog); code != 0 || out != "memory\n" {
		t.Fatalf("a job past the head's cap: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
