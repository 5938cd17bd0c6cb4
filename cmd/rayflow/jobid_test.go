package main

import (
	"os/exec"
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
    time.sleep(2) # job B runs meanwhile
    print(nd.sum(get(x)))
}`
	}
	next, waitA := runJobAt(t, bin, head, src("1.0"))
	if line := next(); line != "stored" {
		t.Fatalf("job A printed %q first, want stored", line)
	}
	outB, errB := exec.Command(bin, "run", "--address", head, writeProgram(t, src("2.0"))).CombinedOutput()
	outA, errA := waitA()
	if errA != nil || errB != nil || strings.TrimSpace(outA) != "stored\n1024.0" || strings.TrimSpace(string(outB)) != "stored\n2048.0" {
		t.Fatalf("job A: %v %q (want 1024.0); job B: %v %q (want 2048.0)", errA, outA, errB, outB)
	}
}
