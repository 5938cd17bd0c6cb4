package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/clibuild"
)

// cli is the rayflow binary the tests run, built by the first test that
// needs it and removed by TestMain.
var cli clibuild.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	cli.Remove()
	os.Exit(code)
}

// buildCLI returns the rayflow binary, built once per test binary.
func buildCLI(t *testing.T) string {
	t.Helper()
	return cli.Path(t)
}

func writeProgram(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog.rayflow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeTokenFile writes token to a file of its own, as --token-file
// reads it, and returns the file's path.
func writeTokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SIGINT cancels the running tasks and exits with 130, without a Go
// panic or goroutine dump.
func TestInterruptExits130(t *testing.T) {
	bin := buildCLI(t)
	prog := writeProgram(t, `
task spin(i) {
    print("spinning")
    while true { }
}
pipeline main() {
    get([spin(i) for i in range(4)])
}`)
	cmd := exec.Command(bin, "run", prog, "--cpus", "2", "--data-dir", t.TempDir())
	// A pipe of our own, not cmd.StdoutPipe: Wait runs concurrently with
	// the reads and must not close it under them.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	var stderr bytes.Buffer // read only once the process has ended
	cmd.Stdout, cmd.Stderr = w, &stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Both CPUs run a task once two tasks said so.
	spinning := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for n := 0; sc.Scan(); {
			if sc.Text() == "spinning" {
				if n++; n == 2 {
					close(spinning)
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-spinning:
	case <-done:
		t.Fatalf("rayflow ended before its tasks ran; stderr:\n%s", stderr.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("no two tasks running within 10 s; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("rayflow did not stop within 10 s of SIGINT; stderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit code %d, want 130; stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("stderr shows a Go panic:\n%s", stderr.String())
	}
}

// Exit codes: 0 success, 1 program failure, 2 usage.
func TestExitCodes(t *testing.T) {
	bin := buildCLI(t)
	ok := writeProgram(t, "pipeline main(n: int = 1) { print(n) }\n")
	bad := writeProgram(t, "pipeline main() { fail(\"no\") }\n")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"run", ok}, 0},
		{[]string{"run", ok, "n=2"}, 0},
		{[]string{"run", bad}, 1},
		{[]string{"run", ok, "n=x"}, 2},
		{[]string{"run", ok, "m=1"}, 2},
		{[]string{"run", "missing.rayflow"}, 2},
		{[]string{"run", ok, "--nodes", "-3"}, 2},
		{[]string{"check", bad}, 0},
		{[]string{"frobnicate"}, 2},
		{[]string{"version"}, 0},
	} {
		cmd := exec.Command(bin, c.args...)
		out, _ := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != c.code {
			t.Errorf("rayflow %s: exit %d, want %d\n%s", strings.Join(c.args, " "), got, c.code, out)
		}
	}
}

// --timeline writes a Chrome trace.
func TestTimelineFlag(t *testing.T) {
	bin := buildCLI(t)
	prog := writeProgram(t, "task f(x) { return x }\npipeline main() { print(get(f(1))) }\n")
	trace := filepath.Join(t.TempDir(), "trace.json")
	out, err := exec.Command(bin, "run", prog, "--timeline", trace).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, err := os.ReadFile(trace)
	if err != nil || !bytes.Contains(data, []byte(`"traceEvents"`)) || !bytes.Contains(data, []byte(`"name":"f"`)) {
		t.Fatalf("trace = %s (%v)", data, err)
	}
}
