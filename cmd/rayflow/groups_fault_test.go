package main

import (
	"strings"
	"testing"
	"time"
)

// Programs whose calls go in groups (issue 10: batch and fuse), each
// call a few milliseconds of work, with a marker line printed once the
// first group is running. The batch size is given: --opt batch alone
// measures it, and calls this long would go alone.
const (
	batchedJob = `
@hint(batch, size=32)
task work(i) {
    let s = 0
    for k in range(400000) {
        s += k % 3
    }
    return i * 2 + s - s
}

pipeline main() {
    let fs = [work(i) for i in range(1024)]
    print("started", get(fs[0]))
    print("total", sum(get(fs)))
}`
	fusedJob = `
task step(x) {
    let s = 0
    for k in range(400000) {
        s += k % 3
    }
    if x == 20 {
        print("started")
    }
    return x + 1 + s - s
}

pipeline main() {
    let x = step(0)
    for i in range(599) {
        x = step(x)
    }
    print("total", get(x))
}`
)

// killW1Midway runs src with flags on a head and one node, w1, so that
// all its work goes to w1; once the job prints a line starting with
// "started", a second node, w2, joins and w1 is killed. It returns the
// job's output and error.
func killW1Midway(t *testing.T, src string, flags ...string) (string, error) {
	t.Helper()
	fc := newFaultCluster(t, testDeadAfter)
	fc.addWorker(t, "w1", freePort(t), "--cpus", "2")
	next, wait := fc.runJob(t, src, flags...)
	for line := next(); !strings.HasPrefix(line, "started"); line = next() {
	}
	fc.addWorker(t, "w2", freePort(t), "--cpus", "2")
	fc.kill(t, "w1")
	killed := time.Now()
	out, err := wait()
	t.Logf("the job ended %v after w1 was killed:\n%s", time.Since(killed).Round(time.Millisecond), out)
	return out, err
}

// killMidGroup runs src with --opt opt, killing w1 while its groups run
// (killW1Midway). The calls w1 had not finished are run again, each
// alone, on w2, and the job prints the right answer.
func killMidGroup(t *testing.T, src, opt, want string) {
	t.Helper()
	out, err := killW1Midway(t, src, "--opt", opt, "--explain")
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("--opt %s, w1 killed while its groups ran: %v\n%s", opt, err, out)
	}
	if n := countIn(out, `(\d+) calls went to the scheduler in \d+ groups`); n == 0 {
		t.Fatalf("--opt %s: no call went in a group:\n%s", opt, out)
	}
}

// A node is killed while the batches it was sent run.
func TestNodeKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	killMidGroup(t, batchedJob, "batch", "total 1047552\n")
}

// A node is killed while the fused chain it was sent runs.
func TestNodeKilledMidFusedChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	killMidGroup(t, fusedJob, "fuse", "total 600\n")
}
