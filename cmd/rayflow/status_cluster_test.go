//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// loadJSON is the part of `status --json` these tests read: each node's
// counts.
type loadJSON struct {
	Nodes []struct {
		ID                 string             `json:"id"`
		Address            string             `json:"address"`
		State              string             `json:"state"`
		ResourcesAvailable map[string]float64 `json:"resources_available"`
		Queued             int                `json:"tasks_queued"`
		Running            int                `json:"tasks_running"`
		Actors             int                `json:"actors"`
	} `json:"nodes"`
}

func statusLoad(t *testing.T, bin, addr string) loadJSON {
	t.Helper()
	out, err := exec.Command(bin, "status", "--address", addr, "--json").Output()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st loadJSON
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	return st
}

// Status counts each task once: with 10 tasks of a job running or
// waiting on a head and a node (2 CPUs each), running plus queued over
// the nodes never exceeds 10, across several spillback rounds (each of
// which asked the global scheduler about the waiting tasks, and status
// counted its unused answers as more waiting tasks: 12 queued and 4
// running for 10 tasks). A node killed with SIGKILL is then shown dead
// with nothing free and nothing held: no CPUs, tasks or actors of its
// last heartbeat.
func TestStatusCountsOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, np := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "2", "--node-id", "head")
	n1 := startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(np), "--cpus", "2",
		"--resources", "gpu=1", "--node-id", "n1")
	next, _ := runJobAt(t, bin, head, `
@resources(cpu=0, gpu=1)
actor Holder() { method ping() { return 1 } }
task slow(i) {
    time.sleep(6)
    return i
}
pipeline main() {
    let h = Holder()
    print(get(h.ping()))
    let fs = [slow(i) for i in range(10)]
    print("submitted")
    print(len(get(fs)))
}`)
	if line := next(); line != "1" {
		t.Fatalf("first line %q, want 1", line)
	}
	if line := next(); line != "submitted" {
		t.Fatalf("second line %q, want submitted", line)
	}
	held := func(st loadJSON) (running, queued int) {
		for _, n := range st.Nodes {
			running += n.Running
			queued += n.Queued
		}
		return
	}
	testutil.Eventually(t, 5*time.Second, "4 tasks running", func() bool {
		r, _ := held(statusLoad(t, bin, head))
		return r == 4
	})
	// Three spillback rounds (every 500 ms) and heartbeats.
	sawAll := false
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		st := statusLoad(t, bin, head)
		r, q := held(st)
		if r+q > 10 {
			t.Fatalf("status counts %d running and %d queued for 10 tasks: %+v", r, q, st.Nodes)
		}
		sawAll = sawAll || r+q == 10
	}
	if !sawAll {
		t.Fatal("status never counted the 10 tasks of the job")
	}
	var actors int
	for _, n := range statusLoad(t, bin, head).Nodes {
		if n.ID == "n1" {
			actors = n.Actors
		}
	}
	if actors != 1 {
		t.Fatalf("n1 hosts %d actors in status, want 1", actors)
	}

	n1.cmd.Process.Signal(syscall.SIGKILL)
	n1.cmd.Wait()
	waitState(t, bin, head, "n1", "dead", deadWithin(testDeadAfter))
	for _, n := range statusLoad(t, bin, head).Nodes {
		if n.ID == "n1" && (n.ResourcesAvailable["cpu"] != 0 || n.ResourcesAvailable["gpu"] != 0 || n.Running != 0 || n.Queued != 0 || n.Actors != 0) {
			t.Fatalf("dead node n1 still shows its last heartbeat: %+v", n)
		}
	}
	out, err := exec.Command(bin, "status", "--address", head).Output()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "n1 ") {
			if f := strings.Fields(line); len(f) < 9 || f[2] != "dead" || f[3] != "-/2" || f[6] != "-" || f[7] != "-" || f[8] != "-" {
				t.Fatalf("status shows the dead node as %q, want its free CPUs, tasks and actors as -", line)
			}
		}
	}
}

// A node started with the ID of an alive node is refused, with an error
// that names the ID and where it is in use, and exits 1; the original
// stays in status at its address and keeps running tasks.
func TestDuplicateNodeIDIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, p1, p2 := freePortRange(t, 5), freePort(t), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head")
	startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(p1), "--cpus", "1", "--node-id", "n1")
	dup := exec.Command(bin, "start", "--address", head, "--port", fmt.Sprint(p2), "--cpus", "1", "--node-id", "n1")
	dup.SysProcAttr = childAttr()
	done := make(chan []byte, 1)
	go func() { out, _ := dup.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if dup.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), `node "n1" is alive at 127.0.0.1:`+fmt.Sprint(p1)) {
			t.Fatalf("duplicate node ID: exit %d:\n%s", dup.ProcessState.ExitCode(), out)
		}
	case <-time.After(20 * time.Second):
		dup.Process.Kill()
		t.Fatal("a node with a duplicate ID was accepted (still running after 20 s)")
	}
	for _, n := range statusLoad(t, bin, head).Nodes {
		if n.ID == "n1" && (n.Address != fmt.Sprintf("127.0.0.1:%d", p1) || n.State != "alive") {
			t.Fatalf("the original n1 in status: %+v", n)
		}
	}
	prog := writeProgram(t, "task f() { return sys.node() }\npipeline main() { print(get(f())) }\n")
	if out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "n1" {
		t.Fatalf("job on the original n1: %v\n%s", err, out)
	}
}

// The progress line of a driver on a cluster (stderr a terminal) counts
// the job's tasks as they finish: it showed "0 running, 0 done" to the
// end, as the driver runs none of them.
func TestProgressLineOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp := freePortRange(t, 5)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "2", "--node-id", "head")
	prog := writeProgram(t, `
task step(i) {
    time.sleep(0.3)
    return i
}
pipeline main() {
    let total = 0
    for i in range(5) { total += get(step(i)) }
    print(total)
}`)
	controller, term := testutil.OpenPTY(t, 200)
	defer controller.Close()
	cmd := exec.Command(bin, "run", "--address", head, prog)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.Env = append(os.Environ(), "TERM=xterm")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	scr := testutil.ReadScreen(controller)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, scr.String())
	}
	scr.Expect(t, "10", 5*time.Second) // the result, and all the output read
	shown := scr.String()
	if !regexp.MustCompile(`tasks: \d+ submitted, \d+ in flight, [1-9]\d* done, 0 failed`).MatchString(shown) {
		t.Fatalf("the progress line never counted a finished task:\n%q", shown)
	}
}
