package main

import "testing"

// rolloutsJob gathers, in each of 30 iterations, 8 calls of a task of a
// few milliseconds; under @hint(rollouts) each iteration's calls go as
// one unit per CPU of the cluster (per_node, spec/hints.md "Bundles").
const rolloutsJob = `
task rollout(i, j) {
    let s = 0
    for k in range(400000) {
        s += k % 3
    }
    return i * 100 + j + s - s
}

@hint(rollouts)
pipeline main() {
    let total = 0
    for i in range(30) {
        total = total + sum(get([rollout(i, j) for j in range(8)]))
        if i == 0 {
            print("started")
        }
    }
    print("total", total)
}`

// A node is killed while the units of a rollouts loop it was sent run:
// the calls it had not finished run again, each alone, and the job
// prints the right answer (sum over i < 30, j < 8 of 100i + j).
func TestNodeKilledMidRollouts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	killMidGroup(t, rolloutsJob, "rollouts", "total 348840\n")
}
