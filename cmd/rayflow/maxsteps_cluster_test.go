package main

import (
	"strings"
	"testing"
)

// run --max-steps travels with the job: a task and an actor method on
// the cluster's nodes are stopped at the limit as they are embedded,
// with the same output and exit code.
func TestMaxStepsTravelsWithTheJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head := startHeadAndWorker(t, bin)
	prog := writeProgram(t, `
task spin(n) {
    let s = 0
    for k in range(n) { s += k }
    return s
}
actor Spinner() {
    method spin(n) {
        let s = 0
        for k in range(n) { s += k }
        return s
    }
}
pipeline main() {
    print(get(spin(10)))
    let a = Spinner()
    print(get(a.spin(10)))
    try { get(a.spin(100000)) } catch e { print("actor:", e.message) }
    print(get(spin(100000)))
}
`)
	run := func(args ...string) (int, string, string) {
		return runIn(t, "", bin, nil, append([]string{"run", "--max-steps", "5000"}, append(args, prog)...)...)
	}
	wantCode, wantOut, _ := run()
	if !strings.Contains(wantOut, "step limit of 5000 exceeded") || wantCode == 0 {
		t.Fatalf("embedded: exit %d\n%s", wantCode, wantOut)
	}
	code, out, errOut := run("--address", head)
	if out != wantOut || code != wantCode || !strings.Contains(errOut, "step limit of 5000 exceeded") {
		t.Fatalf("on the cluster: exit %d, stdout\n%s\nstderr\n%s\nwant exit %d, stdout\n%s", code, out, errOut, wantCode, wantOut)
	}
}
