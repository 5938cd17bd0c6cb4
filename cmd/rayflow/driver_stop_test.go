package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// lines collects what a process prints on a stream, line by line, and
// tells when a line with a prefix first appears.
type lines struct {
	mu   sync.Mutex
	all  []string
	seen map[string]chan struct{}
}

// follow reads r until it ends.
func (l *lines) follow(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.mu.Lock()
		l.all = append(l.all, sc.Text())
		for p, ch := range l.seen {
			if strings.HasPrefix(sc.Text(), p) {
				close(ch)
				delete(l.seen, p)
			}
		}
		l.mu.Unlock()
	}
}

// first returns a channel closed once a line starting with prefix was
// printed (after this call).
func (l *lines) first(prefix string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if l.seen == nil {
		l.seen = map[string]chan struct{}{}
	}
	l.seen[prefix] = ch
	return ch
}

// text is every line printed so far.
func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// count is how many lines printed so far start with prefix.
func (l *lines) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.all {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// startLogged is startProc keeping every line the process prints on
// stdout: a task whose driver is gone prints on its node's stdout.
func startLogged(t *testing.T, bin string, args ...string) *lines {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = childAttr()
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = w, stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		stdout.Close()
	})
	out := &lines{}
	ready := out.first("ready")
	go out.follow(stdout)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("rayflow %s printed no ready line in 10 s; stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return out
}

// A driver that stops ends its job on the cluster: stopped by SIGINT or
// SIGTERM, or killed (the heads notice that it stopped renewing its
// job's lease within their dead timeout), its queued tasks never start,
// its running tasks are cancelled, its actor stops, and every CPU of the
// cluster is free again soon after; before, the queued tasks ran to the
// end, keeping the cluster busy long after the driver had gone.
func TestDriverStopEndsItsJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { driverStopEndsJob(t, sig) })
	}
}

func driverStopEndsJob(t *testing.T, sig syscall.Signal) {
	bin := buildCLI(t)
	hp, np := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	headOut := startLogged(t, bin, "start", "--head", "--dead-after", testDeadAfter.String(),
		"--port", fmt.Sprint(hp), "--cpus", "1", "--node-id", "head")
	nodeOut := startLogged(t, bin, "start", "--address", head, "--port", fmt.Sprint(np), "--cpus", "2", "--node-id", "n1")
	const cpus = 3 - 1 // of the head and the node, less the actor's
	prog := writeProgram(t, `
task work(i) {
    print("start", i)
    time.sleep(20)
    print("end", i)
    return i
}
@resources(cpu=1)
actor Holder() {
    method ping() { return 1 }
}
pipeline main() {
    let h = Holder()
    get(h.ping())
    print(len(get([work(i) for i in range(30)])))
}`)
	driver := exec.Command(bin, "run", "--address", head, prog)
	driver.SysProcAttr = childAttr()
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr := &testutil.Buffer{}
	driver.Stdout, driver.Stderr = w, stderr
	err = driver.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	driverOut := &lines{}
	started := driverOut.first("start")
	go driverOut.follow(stdout)
	exited := make(chan struct{})
	go func() { driver.Wait(); close(exited) }()
	select {
	case <-started:
	case <-exited:
		t.Fatalf("the driver ended before a task ran; stderr:\n%s", stderr.String())
	case <-time.After(20 * time.Second):
		driver.Process.Kill()
		t.Fatalf("no task started within 20 s; stderr:\n%s", stderr.String())
	}
	driver.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		driver.Process.Kill()
		t.Fatalf("the driver did not stop within 10 s of %s; stderr:\n%s", sig, stderr.String())
	}

	within := 10 * time.Second
	if sig == syscall.SIGKILL {
		within += deadWithin(testDeadAfter)
	}
	took := testutil.Eventually(t, within, "every CPU free, nothing queued or running", func() bool {
		return clusterIdle(t, bin, head, 2)
	})
	t.Logf("after %s of the driver, the cluster was free within %s", sig, took)
	all := func(prefix string) int {
		return driverOut.count(prefix) + headOut.count(prefix) + nodeOut.count(prefix)
	}
	if n := all("start"); n > cpus {
		t.Fatalf("%d tasks started, more than the %d that could run when the driver stopped; driver:\n%s\nhead:\n%s\nnode:\n%s",
			n, cpus, driverOut.text(), headOut.text(), nodeOut.text())
	}
	if n := all("end"); n > 0 {
		t.Fatalf("%d tasks ran to their end after the driver stopped", n)
	}
}

// clusterIdle reports whether status shows the nodes alive, every CPU
// free, and no task queued or running.
func clusterIdle(t *testing.T, bin, addr string, nodes int) bool {
	t.Helper()
	out, err := exec.Command(bin, "status", "--address", addr, "--json").Output()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st struct {
		Nodes []struct {
			State     string             `json:"state"`
			Total     map[string]float64 `json:"resources_total"`
			Available map[string]float64 `json:"resources_available"`
			Queued    int                `json:"tasks_queued"`
			Running   int                `json:"tasks_running"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	for _, n := range st.Nodes {
		if n.State != "alive" || n.Available["cpu"] != n.Total["cpu"] || n.Queued != 0 || n.Running != 0 {
			return false
		}
	}
	return len(st.Nodes) == nodes
}
