package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Two jobs run at once on one cluster, from two `rayflow run` processes.
// Each job's task results are its own: a result large enough to stay on
// the node that made it is read back by its job, not by the other one.
//
// (Found by the chaos work: every `rayflow run` used to name its job
// "job1", so two jobs' tasks had the same IDs on a shared node and each
// could read the other's results; job IDs are now unique in a cluster.)
func TestConcurrentJobsKeepTheirOwnResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head := startCoordinatorHead(t, bin, testDeadAfter)
	startWorker(t, bin, head, "w1", freePort(t), "--cpus", "2")
	src := func(fill string) string {
		return `
task f() { return nd.full([1024], ` + fill + `) }
pipeline main() {
    let x = f()
    wait([x])
    print("stored")
    print("began", time.now())
    time.sleep(2) # job B runs meanwhile
    print(nd.sum(get(x)))
    print("ended", time.now())
}`
	}
	next, waitA := runJobAt(t, bin, head, src("1.0"))
	if line := next(); line != "stored" {
		t.Fatalf("job A printed %q first, want stored", line)
	}
	outB, errB := exec.Command(bin, "run", "--address", head, writeProgram(t, src("2.0"))).CombinedOutput()
	outA, errA := waitA()
	a, b := jobLines(outA), jobLines(string(outB))
	if errA != nil || errB != nil || a["sum"] != "1024.0" || b["sum"] != "2048.0" {
		t.Fatalf("job A: %v %q (want 1024.0); job B: %v %q (want 2048.0)", errA, outA, errB, outB)
	}
	// The jobs overlapped: B had stored its result before A read its own.
	if began, ended := parseFloat(t, b["began"]), parseFloat(t, a["ended"]); began >= ended {
		t.Fatalf("job B began at %v, after job A ended (%v): the jobs did not overlap", began, ended)
	}
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("not a time: %q", s)
	}
	return f
}

// jobLines reads a job's output: "stored", "began T", the sum, "ended T".
func jobLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && (k == "began" || k == "ended") {
			m[k] = v
		} else if l != "stored" {
			m["sum"] = l
		}
	}
	return m
}
