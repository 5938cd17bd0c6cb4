package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// On a head and two nodes as separate processes, the calls of a spread
// task from one call site go to three distinct nodes, though the head
// has the most room and the global scheduler alone would keep them all
// there; without the hint (--opt none) they do stay on the head.
func TestSpreadOnThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	hp, p1, p2 := freePortRange(t, 5), freePort(t), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "16", "--node-id", "head")
	startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(p1), "--cpus", "2", "--node-id", "n1")
	startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(p2), "--cpus", "2", "--node-id", "n2")

	prog := writeProgram(t, `
@hint(spread)
task where(i) { return sys.node() }
pipeline main() {
    print(sorted(get([where(i) for i in range(3)])))
}`)
	for _, tc := range []struct{ opt, want string }{
		{"", `["head", "n1", "n2"]`},
		{"none", `["head", "head", "head"]`},
	} {
		args := []string{"run", "--address", head, prog}
		if tc.opt != "" {
			args = []string{"run", "--address", head, "--opt", tc.opt, prog}
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("rayflow %s: %v\n%s\nwant %s", strings.Join(args, " "), err, out, tc.want)
		}
	}
}
