package main

import (
	"strings"
	"testing"
)

// A template loop loses a node after its first iterations have placed
// calls there: the calls in flight on it run again elsewhere, the later
// iterations stop sending their calls to the place they remembered (it
// is dead) and are placed again, and the answer is the one without the
// hint.
func TestTemplateLoopSurvivesNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
task work(i, j) {
    let s = 0
    for k in range(300000) {
        s += k % 3
    }
    return i * 10 + j + s - s
}

@hint(template)
pipeline main(n: int = 30) {
    let total = 0
    for i in range(n) {
        let fs = [work(i, j) for j in range(4)]
        if i == 5 {
            print("kill now")
        }
        total += sum(get(fs))
    }
    print("total", total)
}`, "--opt", "template", "--explain")
	if line := next(); line != "kill now" {
		t.Fatalf("unexpected line %q", line)
	}
	fc.kill(t, "w1")
	out, err := wait()
	if err != nil || !strings.Contains(out, "total 17580") {
		t.Fatalf("job after w1 was killed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "template applied") || countIn(out, `(\d+) calls of template loops went where the same call went before`) == 0 {
		t.Errorf("the job did not run its loop as a template:\n%s", out)
	}
}
