package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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
	bin := buildCLI(t)
	head, wp := startCoordinatorHead(t, bin), freePort(t)
	old := startWorker(t, bin, head, "old", wp, "--cpus", "2")
	old.cmd.Process.Signal(syscall.SIGKILL)
	old.cmd.Wait()
	waitState(t, bin, head, "old", "dead", 6*time.Second)
	var err error
	for try := 0; try < 20; try++ { // the port may linger a moment
		cmd := exec.Command(bin, "start", "--address", head, "--port", fmt.Sprint(wp), "--cpus", "2", "--node-id", "new")
		if err = cmd.Start(); err == nil {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
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
	fc := newFaultCluster(t)
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
	var err error
	for try := 0; try < 20; try++ { // the port may linger a moment
		cmd := exec.Command(fc.bin, "start", "--address", fc.head, "--port", fmt.Sprint(wp), "--cpus", "3", "--node-id", "w1")
		if err = cmd.Start(); err == nil {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := wait()
	if err != nil || !strings.Contains(out, "10 90") {
		t.Fatalf("job after its node was restarted on the same port: %v\n%s", err, out)
	}
}
