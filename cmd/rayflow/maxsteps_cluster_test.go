package main

import (
	"bytes"
	"fmt"
	"os/exec"
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
	hp, wp := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1")
	startWorker(t, bin, head, "w1", wp, "--cpus", "1")
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
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append([]string{"run", "--max-steps", "5000"}, append(args, prog)...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	wantOut, _, wantCode := run()
	if !strings.Contains(wantOut, "step limit of 5000 exceeded") || wantCode == 0 {
		t.Fatalf("embedded: exit %d\n%s", wantCode, wantOut)
	}
	out, errOut, code := run("--address", head)
	if out != wantOut || code != wantCode || !strings.Contains(errOut, "step limit of 5000 exceeded") {
		t.Fatalf("on the cluster: exit %d, stdout\n%s\nstderr\n%s\nwant exit %d, stdout\n%s", code, out, errOut, wantCode, wantOut)
	}
}
