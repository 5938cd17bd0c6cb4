package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// rayflowJob runs `rayflow job ARGS...` and returns its exit code,
// stdout and stderr.
func rayflowJob(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, "", bin, nil, append([]string{"job"}, args...)...)
}

// `rayflow job` against a real head: submit follows the log and exits
// with the job's code; --no-wait prints the ID; logs -f follows a running
// job until it ends; stop ends the job's tasks (the head's CPU is free
// again); status, list, logs and delete. The token is found through the
// HTTP port the head published it under.
func TestJobCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1")
	addr := fmt.Sprintf("--address=http://127.0.0.1:%d", web)

	good := writeProgram(t, "task sq(x) { return x * x }\npipeline main(n: int = 3) {\n    print(\"hi\")\n    return sum(get([sq(i) for i in range(n)]))\n}\n")
	if code, out, errs := rayflowJob(t, bin, "submit", addr, good, "n=4"); code != 0 || out != "hi\n14\n" || !strings.Contains(errs, "submitted") {
		t.Fatalf("submit: %d %q %q", code, out, errs)
	}
	bad := writeProgram(t, "pipeline main() { fail(\"boom\") }\n")
	if code, out, errs := rayflowJob(t, bin, "submit", addr, bad); code != 1 || !strings.Contains(out, "boom") || !strings.Contains(errs, "FAILED") {
		t.Fatalf("submit of a failing job: %d %q %q", code, out, errs)
	}

	// --opt travels with the job: a hint the source asks for and the
	// planner refuses is warned about in the log, unless none turns it off.
	refused := writeProgram(t, "@hint(fuse)\ntask stamp(x) { return [x, time.now() > 0] }\npipeline main() { print(get(stamp(stamp(1)))[1]) }\n")
	if code, out, errs := rayflowJob(t, bin, "submit", addr, refused); code != 0 || !strings.Contains(out, "fuse refused: 'stamp' is nondeterministic") || !strings.HasSuffix(out, "true\n") {
		t.Fatalf("submit of a refused hint: %d %q %q", code, out, errs)
	}
	if code, out, errs := rayflowJob(t, bin, "submit", "--opt", "none", addr, refused); code != 0 || out != "true\n" {
		t.Fatalf("submit --opt none: %d %q %q", code, out, errs)
	}
	if code, _, errs := rayflowJob(t, bin, "submit", "--opt", "batching", addr, refused); code != 2 || !strings.Contains(errs, "unknown optimisation 'batching'") {
		t.Fatalf("submit --opt batching: %d %q", code, errs)
	}

	slow := writeProgram(t, "task s() { time.sleep(300) }\npipeline main() {\n    print(\"started\")\n    get(s())\n}\n")
	code, out, errs := rayflowJob(t, bin, "submit", "--no-wait", addr, slow)
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "rfjob_") {
		t.Fatalf("submit --no-wait: %d %q %q", code, out, errs)
	}
	follow := exec.Command(bin, "job", "logs", "-f", addr, id)
	stdout, _ := follow.StdoutPipe()
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer follow.Process.Kill()
	lines := bufio.NewReader(stdout)
	if line, err := lines.ReadString('\n'); line != "started\n" {
		t.Fatalf("logs -f: %q %v", line, err)
	}
	cpus := func() float64 {
		var st statusJSON
		raw, _ := statusRaw(bin, fmt.Sprintf("127.0.0.1:%d", hp))
		if json.Unmarshal(raw, &st) != nil || len(st.Nodes) == 0 {
			return -1
		}
		return st.Nodes[0].ResourcesAvailable["cpu"]
	}
	testutil.Eventually(t, 20*time.Second, "the job's task holding the CPU", func() bool { return cpus() == 0 })
	if code, out, _ := rayflowJob(t, bin, "status", addr, id); code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("status of a running job: %d %q", code, out)
	}
	if code, _, errs := rayflowJob(t, bin, "delete", addr, id); code != 1 || !strings.Contains(errs, "not ended") {
		t.Fatalf("delete of a running job: %d %q", code, errs)
	}
	start := time.Now()
	if code, out, errs := rayflowJob(t, bin, "stop", addr, id); code != 0 || !strings.Contains(out, "STOPPED") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
	testutil.Eventually(t, 10*time.Second, "the CPU free again", func() bool { return cpus() == 1 })
	t.Logf("stop to a free CPU: %v", time.Since(start))
	ended := make(chan string, 1)
	go func() {
		rest, _ := io.ReadAll(lines)
		follow.Wait()
		ended <- string(rest)
	}()
	select {
	case rest := <-ended:
		if !strings.Contains(rest, "stopped") || follow.ProcessState.ExitCode() != 0 {
			t.Errorf("logs -f ended with %q, exit %d", rest, follow.ProcessState.ExitCode())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("logs -f did not end within 10s of the job's stop")
	}
	if code, out, _ := rayflowJob(t, bin, "status", addr, id); code != 0 || !strings.Contains(out, "STOPPED") {
		t.Fatalf("status of a stopped job: %d %q", code, out)
	}
	if code, out, _ := rayflowJob(t, bin, "logs", addr, id); code != 0 || !strings.Contains(out, "started") {
		t.Fatalf("logs of a stopped job: %d %q", code, out)
	}
	if code, out, _ := rayflowJob(t, bin, "list", addr); code != 0 || !strings.Contains(out, id) || strings.Count(out, "\n") != 6 {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := rayflowJob(t, bin, "stop", addr, id); code != 0 || !strings.Contains(out, "already ended") {
		t.Fatalf("second stop: %d %q", code, out)
	}
	if code, out, errs := rayflowJob(t, bin, "delete", addr, id); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %d %q %q", code, out, errs)
	}
	if code, _, errs := rayflowJob(t, bin, "status", addr, id); code != 1 || !strings.Contains(errs, "no job") {
		t.Fatalf("status of a deleted job: %d %q", code, errs)
	}
	if code, _, errs := rayflowJob(t, bin, "frobnicate", addr); code != 2 || !strings.Contains(errs, "unknown subcommand") {
		t.Fatalf("an unknown subcommand: %d %q", code, errs)
	}
	// Ctrl-C in a submit that follows its job leaves the job running.
	sub := exec.Command(bin, "job", "submit", addr, slow)
	subOut, _ := sub.StdoutPipe()
	var subErr strings.Builder
	sub.Stderr = &subErr
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	if line, err := bufio.NewReader(subOut).ReadString('\n'); line != "started\n" {
		t.Fatalf("submit's first line %q %v", line, err)
	}
	sub.Process.Signal(os.Interrupt)
	sub.Wait()
	var left string
	if _, err := fmt.Sscanf(subErr.String(), "job %s submitted", &left); err != nil || sub.ProcessState.ExitCode() != 130 || !strings.Contains(subErr.String(), "goes on") {
		t.Fatalf("interrupted submit: exit %d, stderr %q", sub.ProcessState.ExitCode(), subErr.String())
	}
	if code, out, _ := rayflowJob(t, bin, "status", addr, left); code != 0 || !strings.Contains(out, "RUNNING") {
		t.Fatalf("the job of an interrupted submit: %d %q", code, out)
	}
	rayflowJob(t, bin, "stop", addr, left)

	wrong := filepath.Join(t.TempDir(), "token")
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	if code, _, errs := rayflowJob(t, bin, "status", addr, "--token-file", wrong, id); code != 1 || !strings.Contains(errs, "refused the token") {
		t.Fatalf("a wrong token: %d %q", code, errs)
	}
}
