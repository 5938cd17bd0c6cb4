package main

import (
	"strings"
	"testing"
)

// looseJob's plain tasks go to their node in loose frames (--opt none:
// no groups), each frame's lineage one bundle; it also keeps results on
// that node that it reads after the node is gone.
const looseJob = `
task big(i) { return nd.full([300000], float(i)) }
task work(i) {
    let s = 0
    for k in range(200000) {
        s += k % 3
    }
    return i * 2 + s - s
}

pipeline main() {
    let bigs = [big(i) for i in range(4)]
    wait(bigs, num=4)
    let fs = [work(i) for i in range(256)]
    print("started", get(fs[0]))
    print("total", sum(get(fs)))
    let sums = 0.0
    for b in bigs { sums += nd.sum(get(b)) }
    print("sums", sums)
}`

// A node is killed while the tasks it was sent in loose frames run, and
// while it holds results the job reads later: a second node runs the
// unfinished tasks again and rebuilds the lost results, and the job's
// answer is right.
func TestNodeKilledMidLooseFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	out, err := killW1Midway(t, looseJob, "--opt", "none")
	if err != nil || !strings.Contains(out, "total 65280\n") || !strings.Contains(out, "sums 1800000.0\n") {
		t.Fatalf("w1 killed while its loose frames ran: %v\n%s", err, out)
	}
}
