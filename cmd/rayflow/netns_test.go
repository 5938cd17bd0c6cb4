//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// netnsLab is a set of network namespaces, one per "machine", each
// with its own address on one bridge (in a namespace of its own, so the
// host's network is not touched): as separate machines on a LAN. Their
// loopback interfaces are up, as on a real machine, but each is its own:
// 127.0.0.1 in one namespace reaches nothing in another.
type netnsLab struct {
	t      *testing.T
	prefix string
	names  []string
}

// newNetnsLab makes the bridge namespace, or skips the test, saying why,
// when this process may not (it needs root and iproute2).
func newNetnsLab(t *testing.T) *netnsLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces (ip netns add); run the tests as root to include it")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to make network namespaces")
	}
	lab := &netnsLab{t: t, prefix: fmt.Sprintf("rf%d-", os.Getpid())}
	t.Cleanup(lab.remove)
	sw := lab.prefix + "sw"
	if out, err := exec.Command("ip", "netns", "add", sw).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	lab.names = append(lab.names, sw)
	lab.ip("-n", sw, "link", "add", "br0", "type", "bridge")
	lab.ip("-n", sw, "link", "set", "br0", "up")
	return lab
}

func (lab *netnsLab) ip(args ...string) {
	lab.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		lab.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// machine adds a namespace with address addr/24 on the bridge and
// returns its name.
func (lab *netnsLab) machine(name, addr string) string {
	lab.t.Helper()
	ns, sw := lab.prefix+name, lab.prefix+"sw"
	lab.ip("netns", "add", ns)
	lab.names = append(lab.names, ns)
	lab.ip("-n", sw, "link", "add", "p"+name, "type", "veth", "peer", "name", "eth0", "netns", ns)
	lab.ip("-n", sw, "link", "set", "p"+name, "master", "br0", "up")
	lab.ip("-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
	lab.ip("-n", ns, "link", "set", "eth0", "up")
	lab.ip("-n", ns, "link", "set", "lo", "up")
	return ns
}

// remove deletes the namespaces (their interfaces go with them). The
// processes in them were killed by the tests' cleanups, which run first.
func (lab *netnsLab) remove() {
	for i := len(lab.names) - 1; i >= 0; i-- {
		exec.Command("ip", "netns", "del", lab.names[i]).Run()
	}
}

// in is the command line that runs rayflow in namespace ns.
func in(ns, bin string, args ...string) []string {
	return append([]string{"netns", "exec", ns, bin}, args...)
}

// Nothing relies on loopback: two heads, two nodes and a driver, each in
// a network namespace of its own with its own address (as five machines
// would be). The heads and nodes bind 0.0.0.0 and advertise their own
// address (status shows it, never 0.0.0.0 or 127.0.0.1), the second
// head's GCS replica joins over the LAN, and a job whose tasks spread
// over the three nodes with CPUs, return large results, print, and use an
// actor, runs from the driver with --bind 0.0.0.0 and with the default
// (the interface towards the heads). A driver listened on 127.0.0.1
// only, so the nodes could not send it results.
func TestClusterAcrossNetworkNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	lab := newNetnsLab(t)
	bin := buildCLI(t)
	// The machines share this file system but no address: each process
	// is given the cluster token as another machine's would be.
	t.Setenv(tokenEnv, "netns-test-token")
	hostOf := map[string]string{"head": "10.77.0.1", "h2": "10.77.0.2", "n1": "10.77.0.3", "n2": "10.77.0.4"}
	ns := map[string]string{}
	for _, name := range []string{"head", "h2", "n1", "n2"} {
		ns[name] = lab.machine(name, hostOf[name])
	}
	driver := lab.machine("drv", "10.77.0.9")
	head := "10.77.0.1:7000"
	startProc(t, "ip", in(ns["head"], bin, "start", "--head", "--bind", "0.0.0.0", "--port", "7000", "--cpus", "1",
		"--node-id", "head", "--dead-after", testDeadAfter.String())...)
	startProc(t, "ip", in(ns["h2"], bin, "start", "--head", "--join", head, "--bind", "0.0.0.0", "--port", "7000", "--cpus", "0",
		"--node-id", "h2", "--dead-after", testDeadAfter.String())...)
	for _, n := range []string{"n1", "n2"} {
		startProc(t, "ip", in(ns[n], bin, "start", "--address", head, "--bind", "0.0.0.0", "--port", "7100", "--cpus", "1", "--node-id", n)...)
	}

	out, err := exec.Command("ip", in(driver, bin, "status", "--address", head, "--json")...).Output()
	if err != nil {
		t.Fatalf("status from the driver's machine: %v", err)
	}
	var st struct {
		Nodes []struct{ ID, Address, State string } `json:"nodes"`
		GCS   []struct{ Replicas []string }         `json:"gcs_shards"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(st.Nodes) != 4 || len(st.GCS) == 0 || len(st.GCS[0].Replicas) != 2 {
		t.Fatalf("status: want 4 nodes and 2 GCS replicas:\n%s", out)
	}
	for _, n := range st.Nodes {
		if !strings.HasPrefix(n.Address, hostOf[n.ID]+":") || n.State != "alive" {
			t.Fatalf("node %s advertises %s (%s), want its own address %s:\n%s", n.ID, n.Address, n.State, hostOf[n.ID], out)
		}
	}

	prog := writeProgram(t, `
task where(i) {
    let s = 0
    for k in range(200000) { s += k }
    if i == 0 { print("from a task") }
    return [sys.node(), "x" * 300000]
}
actor Cell() { method node() { return sys.node() } }
pipeline main() {
    let seen = {}
    for r in get([where(i) for i in range(12)]) { seen[r[0]] = len(r[1]) }
    print(sorted(keys(seen)), sorted(values(seen))[0])
    let c = Cell()
    print(get(c.node()) != "")
}`)
	want := "from a task\n[\"head\", \"n1\", \"n2\"] 300000\ntrue"
	for _, bind := range [][]string{{"--bind", "0.0.0.0"}, nil} {
		args := append(append([]string{"run", "--address", head}, bind...), prog)
		cmd := exec.Command("ip", in(driver, bin, args...)...)
		cmd.SysProcAttr = childAttr()
		done := make(chan error, 1)
		var got []byte
		stderr := &testutil.Buffer{} // --bind 0.0.0.0 without TLS warns there
		cmd.Stderr = stderr
		go func() {
			var err error
			got, err = cmd.Output()
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil || strings.TrimSpace(string(got)) != want {
				t.Fatalf("rayflow %s from its own machine: %v\n%s%s", strings.Join(args, " "), err, got, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("rayflow %s from its own machine did not finish in 20 s (results cannot reach it?):\n%s", strings.Join(args, " "), got)
		}
	}
}
