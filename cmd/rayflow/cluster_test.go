package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// proc is a rayflow process started by a test.
type proc struct {
	cmd    *exec.Cmd
	ready  string           // the line it printed when ready
	stderr *testutil.Buffer // what it wrote to stderr so far
}

// freePort finds a free 127.0.0.1 port (freePortRange).
func freePort(t *testing.T) int {
	t.Helper()
	return freePortRange(t, 1)
}

// startProc starts `rayflow ARGS...` and waits for its "ready" line.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	return startProcIn(t, "", bin, args...)
}

// startProcIn is startProc in the directory dir ("" is the test's own).
func startProcIn(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, dir, nil, bin, args...)
}

// startProcEnv is startProcIn with more environment variables (NAME=VALUE).
func startProcEnv(t *testing.T, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = childAttr()
	stdout, _ := cmd.StdoutPipe()
	stderr := &testutil.Buffer{} // read while the process runs
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, ok := testutil.AwaitReady(stdout, 10*time.Second)
	if !ok {
		t.Fatalf("rayflow %s printed no ready line in 10 s; stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	p.ready = line
	return p
}

type statusJSON struct {
	Nodes []struct {
		ID                 string             `json:"id"`
		Address            string             `json:"address"`
		State              string             `json:"state"`
		ResourcesTotal     map[string]float64 `json:"resources_total"`
		ResourcesAvailable map[string]float64 `json:"resources_available"`
	} `json:"nodes"`
	GCS []struct {
		Shard    int      `json:"shard"`
		Leader   string   `json:"leader"`
		Replicas []string `json:"replicas"`
	} `json:"gcs_shards"`
}

func status(t *testing.T, bin, addr string) statusJSON {
	t.Helper()
	out, err := exec.Command(bin, "status", "--address", addr, "--json").Output()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st statusJSON
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	return st
}

func states(st statusJSON) map[string]string {
	m := map[string]string{}
	for _, n := range st.Nodes {
		m[n.ID] = n.State
	}
	return m
}

// testDeadAfter is the dead timeout (--dead-after) of every head a test
// starts: short, so that a test that kills a node does not wait out the
// default of 4 s.
const testDeadAfter = 1500 * time.Millisecond

// heartbeatEvery is how often a node reports to its heads (nodeagent's
// default; rayflow start has no flag for it).
const heartbeatEvery = 500 * time.Millisecond

// deadWithin bounds how long a stopped node stays "alive" in status: a
// head marks it dead deadAfter after its last heartbeat (which came up to
// a heartbeat period before it stopped), at its next check (every
// deadAfter/16), and status is polled; a second covers the polling and a
// loaded machine.
func deadWithin(deadAfter time.Duration) time.Duration {
	return deadAfter + deadAfter/16 + heartbeatEvery + time.Second
}

// startHead starts `rayflow start --head` with the tests' dead timeout and
// more flags, and waits for its ready line.
func startHead(t *testing.T, bin string, flags ...string) *proc {
	t.Helper()
	return startHeadDeadAfter(t, bin, testDeadAfter, flags...)
}

// startHeadDeadAfter is startHead with another dead timeout.
func startHeadDeadAfter(t *testing.T, bin string, deadAfter time.Duration, flags ...string) *proc {
	t.Helper()
	return startProc(t, bin, append([]string{"start", "--head", "--dead-after", deadAfter.String()}, flags...)...)
}

// waitState polls status until node has the wanted state and returns how
// long that took.
func waitState(t *testing.T, bin, addr, node, want string, within time.Duration) time.Duration {
	t.Helper()
	return testutil.Eventually(t, within, fmt.Sprintf("node %s %s", node, want), func() bool {
		return states(status(t, bin, addr))[node] == want
	})
}

// A head and two nodes as separate processes: a job spreads over all
// three, status lists them alive, a node stopped with SIGTERM leaves
// cleanly, one killed with SIGKILL is dead within its head's dead timeout
// (plus the heartbeat period and the head's check interval).
func TestThreeProcessCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	hp, p1, p2 := freePortRange(t, 5), freePort(t), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--node-id", "head")
	n1 := startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(p1), "--cpus", "1", "--node-id", "n1")
	n2 := startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(p2), "--cpus", "1", "--node-id", "n2")

	st := status(t, bin, head)
	if got := states(st); len(got) != 3 || got["head"] != "alive" || got["n1"] != "alive" || got["n2"] != "alive" {
		t.Fatalf("status: %v", got)
	}
	for _, n := range st.Nodes {
		if n.Address == "" || n.ResourcesTotal["cpu"] != 1 || n.ResourcesAvailable == nil {
			t.Fatalf("node %+v lacks address or resources", n)
		}
	}

	prog := writeProgram(t, `
task busy(i) {
    let s = 0
    for k in range(300000) { s += k }
    return sys.node()
}
pipeline main() {
    let seen = {}
    for n in get([busy(i) for i in range(12)]) { seen[n] = true }
    print(sorted(keys(seen)))
}`)
	out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != `["head", "n1", "n2"]` {
		t.Fatalf("job: %v\n%s", err, out)
	}

	n1.cmd.Process.Signal(syscall.SIGTERM)
	if err := n1.cmd.Wait(); err != nil {
		t.Fatalf("node stopped with SIGTERM exited with %v", err)
	}
	waitState(t, bin, head, "n1", "dead", time.Second)

	n2.cmd.Process.Signal(syscall.SIGKILL)
	n2.cmd.Wait()
	took := waitState(t, bin, head, "n2", "dead", deadWithin(testDeadAfter))
	t.Logf("SIGKILLed node marked dead after %s (dead timeout %s)", took, testDeadAfter)
}

// Garbage sent to every listener of a head (the cluster port, the HTTP
// port, the GCS's Raft port) does not stop any of them from serving.
func TestListenersSurviveMalformedInput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	raft := fmt.Sprintf("127.0.0.1:%d", hp+1) // the GCS's Raft transport, shard 0
	tokenFile := writeTokenFile(t, "garbage-test-token")
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1", "--token-file", tokenFile)
	// All the garbage at once; whatever a listener answers is read for up
	// to a second (one that waits for the rest of a frame answers nothing).
	var conns []net.Conn
	for _, addr := range []string{head, fmt.Sprintf("127.0.0.1:%d", web), raft} {
		for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), {0xff, 0xff, 0xff, 0xff, 1, 2, 3}, {0, 0, 0, 5, 9, 9}, make([]byte, 70000)} {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(junk)
			conns = append(conns, conn)
		}
	}
	deadline := time.Now().Add(time.Second)
	var read sync.WaitGroup
	for _, conn := range conns {
		conn.SetReadDeadline(deadline)
		read.Go(func() {
			io.Copy(io.Discard, conn)
			conn.Close()
		})
	}
	read.Wait()
	if got := states(status(t, bin, head)); len(got) != 1 {
		t.Fatalf("status after garbage: %v", got)
	}
	// The GCS still takes writes: a job stores its program there.
	prog := writeProgram(t, "pipeline main() { print(1 + 1) }\n")
	if out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("job after garbage on the Raft port: %v\n%s", err, out)
	}
	resp, err := exec.Command("curl", "-s", "-H", "Authorization: Bearer garbage-test-token", fmt.Sprintf("http://127.0.0.1:%d/api/status", web)).Output()
	if err == nil && !strings.Contains(string(resp), `"nodes"`) {
		t.Fatalf("HTTP status after garbage: %s", resp)
	}
}

// Three heads hold three replicas of the GCS. The head that leads the
// GCS (as status --json tells) is killed with SIGKILL in the middle of a
// job whose driver knows all three: the job finishes with the right
// result, and the GCS shards have new leaders.
func TestJobSurvivesGCSLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	ports := make([]int, 5)
	for i := range ports {
		ports[i] = freePortRange(t, 5)
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	heads := map[string]*proc{
		"h1": startHead(t, bin, "--port", fmt.Sprint(ports[0]), "--cpus", "0", "--node-id", "h1"),
		"h2": startHead(t, bin, "--port", fmt.Sprint(ports[1]), "--join", addr(0), "--cpus", "0", "--node-id", "h2"),
		"h3": startHead(t, bin, "--port", fmt.Sprint(ports[2]), "--join", addr(0), "--cpus", "0", "--node-id", "h3"),
	}
	startProc(t, bin, "start", "--address", addr(0), "--port", fmt.Sprint(ports[3]), "--cpus", "1", "--node-id", "w1")
	startProc(t, bin, "start", "--address", addr(0), "--port", fmt.Sprint(ports[4]), "--cpus", "1", "--node-id", "w2")
	waitState(t, bin, addr(1), "w2", "alive", 5*time.Second)

	next, wait := runJobAt(t, bin, addr(0)+","+addr(1)+","+addr(2), `
task step(i) {
    time.sleep(0.04)
    return i * i
}
pipeline main(n: int = 80) {
    let total = 0
    for i in range(n) {
        if i == 20 { print("step", i) }
        total += get(step(i))
    }
    print(total)
}`)
	if line := next(); line != "step 20" {
		t.Fatalf("first line %q, want step 20", line)
	}
	leader := gcsLeader(t, bin, addr(0))
	victim := heads[leader]
	if victim == nil {
		t.Fatalf("the GCS leader %q is none of the heads", leader)
	}
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Wait()
	if out, err := wait(); err != nil || !strings.HasSuffix(strings.TrimSpace(out), "\n167480") {
		t.Fatalf("job after the GCS leader %s was killed: %v\n%s", leader, err, out)
	}
	survivor := addr(0)
	if leader == "h1" {
		survivor = addr(1)
	}
	testutil.Eventually(t, 10*time.Second, "every GCS shard led by a surviving head", func() bool {
		st := status(t, bin, survivor)
		for _, sh := range st.GCS {
			if sh.Leader == "" || sh.Leader == leader {
				return false
			}
		}
		return len(st.GCS) > 0
	})
}

// gcsLeader returns the head that leads the GCS (its shard 0), as the
// head at addr reports it in status --json.
func gcsLeader(t *testing.T, bin, addr string) string {
	t.Helper()
	st := status(t, bin, addr)
	if len(st.GCS) == 0 || st.GCS[0].Leader == "" {
		t.Fatalf("status --json names no GCS leader: %+v", st.GCS)
	}
	return st.GCS[0].Leader
}

// testPorts hands out the ports the tests give their processes. They
// come from below the kernel's ephemeral range (32768 and up on Linux),
// where the processes' own listeners on port 0 and other tests' never
// land, and no port is handed out twice in one test binary: the tests
// run in parallel, and a head also takes the ports after its own for its
// GCS replicas, so a port that is free now must not be given to another
// test a moment later.
var testPorts struct {
	sync.Mutex
	next int
}

// freePortRange finds a port p such that p..p+n-1 are free (a head uses
// the ports after its own for its GCS replicas).
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	testPorts.Lock()
	defer testPorts.Unlock()
	const low, high = 20000, 32000
	if testPorts.next == 0 {
		// Test binaries run one after another start apart.
		testPorts.next = low + int(time.Now().UnixNano()%8000)
	}
	for tries := 0; tries < 500; tries++ {
		p := testPorts.next
		testPorts.next += n
		if testPorts.next+n > high {
			testPorts.next = low
		}
		if portsFree(p, n) {
			return p
		}
	}
	t.Fatal("no free port range")
	return 0
}

// portsFree reports whether 127.0.0.1 ports p..p+n-1 can be listened on.
func portsFree(p, n int) bool {
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+i))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// A node whose head cannot be reached says so and exits 1, at once.
func TestStartWithoutHeadFails(t *testing.T) {
	bin := buildCLI(t)
	cmd := exec.Command(bin, "start", "--address", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--port", fmt.Sprint(freePort(t)))
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "cannot join the cluster") {
			t.Fatalf("exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("rayflow start against no head did not exit within 30 s")
	}
}

// Actors a driver created stop when its job ends, giving their node's
// resources back.
func TestActorsStopWhenTheJobEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp := freePortRange(t, 5)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "2", "--node-id", "head")
	prog := writeProgram(t, `
@resources(cpu=1)
actor Cell() { method get() { return 7 } }
pipeline main() {
    let c = Cell()
    print(get(c.get()))
}`)
	if out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "7" {
		t.Fatalf("job: %v\n%s", err, out)
	}
	testutil.Eventually(t, 5*time.Second, "the actor's CPU given back after the job", func() bool {
		st := status(t, bin, head)
		return len(st.Nodes) == 1 && st.Nodes[0].ResourcesAvailable["cpu"] == 2
	})
}
