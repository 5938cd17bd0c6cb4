package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

const slowProgram = `
task slow(i) { time.sleep(60); print("slow", i, "finished") }
pipeline main() {
    let fs = [slow(i) for i in range(4)]
    print("started")
    get(fs)
}`

// run --timeout stops a run that has not finished, with the tasks it
// started, and says so (exit 1): embedded and on a cluster, where the
// nodes' CPUs are free again at once.
func TestRunTimeout(t *testing.T) {
	bin := buildCLI(t)
	prog := writeProgram(t, slowProgram)
	check := func(t *testing.T, flags ...string) {
		out, err := exec.Command(bin, append(append([]string{"run", "--timeout", "1s"}, flags...), prog)...).CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != exitFailed || !strings.Contains(string(out), "did not finish within --timeout 1s") || strings.Contains(string(out), "finished\n") {
			t.Fatalf("exit %d (%v), output:\n%s", code, err, out)
		}
	}
	t.Run("embedded", func(t *testing.T) { check(t, "--cpus", "4") })
	t.Run("cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts processes")
		}
		hp := freePortRange(t, 5)
		head := fmt.Sprintf("127.0.0.1:%d", hp)
		startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "2")
		check(t, "--address", head)
		testutil.Eventually(t, 10*time.Second, "the head's CPUs free again", func() bool { return clusterIdle(t, bin, head, 1) })
	})
}
