package main

import (
	"fmt"
	"os/exec"
	"testing"
)

// cancelTreeProgram cancels a task once it has submitted its children;
// each child sleeps, then prints. A cancel that stopped only the parent
// left the children running, and their lines appeared before "done".
// The children's futures, kept by an actor, raise kind "cancelled".
const cancelTreeProgram = `
actor Latch() {
    let kept = []
    method arrive(fs) { kept = fs }
    method ready() { return len(kept) > 0 }
    method children() { return kept }
}

task child(i) {
    time.sleep(1)
    print("child", i, "woke up")
    return i
}

task parent(latch) {
    let fs = [child(i) for i in range(3)]
    get(latch.arrive(fs))
    return sum(get(fs))
}

pipeline main() {
    let latch = Latch()
    let p = parent(latch)
    while not get(latch.ready()) { time.sleep(0.01) }
    cancel(p)
    try { get(p) } catch e { print("parent", e.kind) }
    for f in get(latch.children()) {
        try { get(f) } catch e { print("child", e.kind) }
    }
    time.sleep(2)
    print("done")
}`

const cancelTreeOutput = "parent cancelled\nchild cancelled\nchild cancelled\nchild cancelled\ndone\n"

// cancel(f) cancels f's task and every task it submitted, transitively:
// embedded, with in-process nodes, and on a cluster of processes.
func TestCancelStopsTheSubtree(t *testing.T) {
	bin := buildCLI(t)
	prog := writeProgram(t, cancelTreeProgram)
	run := func(t *testing.T, flags ...string) string {
		out, err := exec.Command(bin, append(append([]string{"run"}, flags...), prog)...).CombinedOutput()
		if err != nil {
			t.Fatalf("run %v: %v\n%s", flags, err, out)
		}
		return string(out)
	}
	want := func(t *testing.T, out string) {
		if out != cancelTreeOutput {
			t.Fatalf("output:\n%s\nwant:\n%s", out, cancelTreeOutput)
		}
	}
	t.Run("embedded", func(t *testing.T) { want(t, run(t, "--cpus", "4")) })
	t.Run("nodes", func(t *testing.T) { want(t, run(t, "--nodes", "3", "--cpus", "2")) })
	t.Run("cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts processes")
		}
		hp := freePortRange(t, 5)
		head := fmt.Sprintf("127.0.0.1:%d", hp)
		startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--node-id", "head")
		for _, id := range []string{"n1", "n2"} {
			startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(freePort(t)), "--cpus", "2", "--node-id", id)
		}
		// The children ran on other processes: the driver fetches their
		// errors from the node that owns them, with their kind.
		want(t, run(t, "--address", head))
	})
}
