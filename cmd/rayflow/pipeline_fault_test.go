package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A loop run ahead by @hint(pipeline) loses a node while calls it started
// early are in flight on it: they are run again elsewhere like any task,
// and the loop's answer is the one it gives without the hint.
func TestPipelinedLoopSurvivesNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
@hint(pipeline, depth=6)
task sq(i) {
    let s = 0
    for k in range(1500000) {
        s += k % 3
    }
    return i * i + s - s
}

pipeline main(n: int = 60) {
    let total = 0
    for i in range(n) {
        total += get(sq(i))
        if i == 10 {
            print("kill now")
        }
    }
    print("total", total)
}`, "--explain")
	if line := next(); line != "kill now" {
		t.Fatalf("unexpected line %q", line)
	}
	fc.kill(t, "w1")
	out, err := wait()
	if err != nil || !strings.Contains(out, "total 70210") {
		t.Fatalf("job after w1 was killed: %v\n%s", err, out)
	}
	// The loop really ran ahead (--explain counts the calls it started
	// early), so the kill hit calls in flight for later iterations.
	if countIn(out, `(\d+) calls started early`) == 0 {
		t.Fatalf("the loop did not run ahead:\n%s", out)
	}
}

// countIn is the number pattern's first group matches in out (a count
// that run --explain prints), 0 when it is not there.
func countIn(out, pattern string) int {
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
