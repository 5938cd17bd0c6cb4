package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent/head"
)

// A node is killed and a new node (another node ID) starts on its port,
// as happens when ports are handed out again. The dead node's entry and
// the new node share an address; a job that runs afterwards on the new
// node is not taken for the dead one's: its tasks are not retried again
// and again (each retry used up one of @retries, so long tasks failed).
func TestNewNodeOnDeadNodesPort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head, wp := startCoordinatorHead(t, bin, testDeadAfter), freePort(t)
	old := startWorker(t, bin, head, "old", wp, "--cpus", "2")
	old.cmd.Process.Signal(syscall.SIGKILL)
	old.cmd.Wait()
	waitState(t, bin, head, "old", "dead", deadWithin(testDeadAfter))
	// A SIGKILLed listener leaves no socket behind: the port is free at
	// once, and the new node is registered when it prints its ready line.
	startWorker(t, bin, head, "new", wp, "--cpus", "2")
	waitState(t, bin, head, "new", "alive", 10*time.Second)

	prog := writeProgram(t, `
@retries(1)
task slow(i) {
    time.sleep(5)
    return [i, sys.node()]
}
pipeline main() {
    print(get([slow(i) for i in range(2)]))
}`)
	out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != `[[0, "new"], [1, "new"]]` {
		t.Fatalf("job on the node that took a dead node's port: %v\n%s", err, out)
	}
}

// The only worker is killed while its tasks run and its actor holds
// state, and is restarted at once, as a supervisor would: same node ID,
// same port, back before the heads noticed the silence. Its new life
// does not hold what the old one did: the tasks run again and the actor
// is recreated with its state, and the job's answer is right.
func TestNodeRestartedOnSamePortDuringJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	// The default dead timeout, well above the time the node takes to
	// come back, so that the heads never see it dead.
	fc := newFaultCluster(t, head.DefaultDeadAfter)
	wp := freePort(t)
	fc.addWorker(t, "w1", wp, "--cpus", "3")
	next, wait := fc.runJob(t, `
@retries(3)
task slow(i) {
    time.sleep(2)
    return i * 10
}
@restarts(2)
@resources(cpu=1)
actor Acc() {
    let total = 0
    method add(x) {
        total += x
        return total
    }
}
pipeline main() {
    let a = Acc()
    for i in range(10) { a.add(i) }
    let fs = [slow(i) for i in range(2)]
    print("started", get(a.add(0)))
    let total = 0
    for r in get(fs) { total += r }
    for i in range(10) { a.add(i) }
    print(total, get(a.add(0)))
}`)
	if line := next(); line != "started 45" {
		t.Fatalf("first line %q", line)
	}
	fc.kill(t, "w1")
	fc.addWorker(t, "w1", wp, "--cpus", "3")
	out, err := wait()
	if err != nil || !strings.Contains(out, "10 90") {
		t.Fatalf("job after its node was restarted on the same port: %v\n%s", err, out)
	}
}
