package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
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
	bin := buildCLI(t)
	head := startCoordinatorHead(t, bin, testDeadAfter)
	startWorker(t, bin, head, "w1", freePort(t), "--cpus", "2")
	prog := func(fill string) string {
		return writeProgram(t, `
task f() { return nd.full([1024], `+fill+`) }
pipeline main() {
    let x = f()
    wait([x])
    time.sleep(2)
    print(nd.sum(get(x)))
}`)
	}
	a := exec.Command(bin, "run", "--address", head, prog("1.0"))
	var outA strings.Builder
	a.Stdout, a.Stderr = &outA, &outA
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	outB, errB := exec.Command(bin, "run", "--address", head, prog("2.0")).CombinedOutput()
	errA := a.Wait()
	if errA != nil || errB != nil || strings.TrimSpace(outA.String()) != "1024.0" || strings.TrimSpace(string(outB)) != "2048.0" {
		t.Fatalf("job A: %v %q (want 1024.0); job B: %v %q (want 2048.0)", errA, outA.String(), errB, outB)
	}
}
