package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A task queued at a node whose resources an actor holds for good is
// given back once another node has room (spillback), instead of waiting
// there for ever: the global scheduler queued it at "a1" while both
// nodes were busy; "b1" frees up a second later.
func TestQueuedTaskMovesToANodeWithRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head := startCoordinatorHead(t, bin, testDeadAfter)
	startWorker(t, bin, head, "a1", freePort(t), "--cpus", "1", "--resources", "a=1")
	startWorker(t, bin, head, "b1", freePort(t), "--cpus", "1", "--resources", "b=1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := exec.CommandContext(ctx, bin, "run", "--address", head, writeProgram(t, `
@resources(cpu=1, a=1)
actor Hog() {
    method where() { return sys.node() }
}

@resources(cpu=1, b=1)
task busy() {
    time.sleep(1.5)
    return [sys.node(), time.now()]
}

task where() { return [sys.node(), time.now()] }

pipeline main() {
    let h = Hog()
    print("hog", get(h.where()))
    let b = busy()
    time.sleep(0.5) # lets busy start on b1 first
    let w = get(where())
    let bb = get(b)
    print("task", w[0])
    print("busy", bb[0])
    # where waited for room: it started when busy had ended, not before
    print("queued", w[1] >= bb[1])
}`)).CombinedOutput()
	out := string(raw)
	if err != nil || !strings.Contains(out, "hog a1") || !strings.Contains(out, "task b1") {
		t.Fatalf("a task queued behind an actor that never ends: %v\n%s", err, out)
	}
	if !strings.Contains(out, "queued true") {
		t.Fatalf("where ran before busy ended, so nothing was queued and the test proved nothing:\n%s", out)
	}
}
