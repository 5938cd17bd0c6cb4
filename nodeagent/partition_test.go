package nodeagent_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// cutProxy forwards TCP connections to a target until it is cut: then it
// closes every connection it carries and refuses new ones, as a network
// partition would, until it is healed.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// setCut cuts (true) or heals (false) the link.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func memberState(h *nodeagent.Head, id string) (gcs.NodeInfo, bool) {
	for _, n := range h.Membership.All() {
		if n.ID == id {
			return n, true
		}
	}
	return gcs.NodeInfo{}, false
}

// A node cut off from the head longer than the dead timeout is declared
// dead; a job running meanwhile still finishes; when the cut heals, the
// node's heartbeats from its old life are refused (stale epoch) and it
// rejoins as a new member, which new jobs use.
func TestPartitionedNodeRejoinsAsNewMember(t *testing.T) {
	var proxy *cutProxy
	head := startPartitionCluster(t, func(target string) string {
		proxy = newCutProxy(t, target)
		return proxy.addr()
	})
	out := &testutil.Buffer{}
	driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	before, _ := memberState(head, "cut")

	// A job is running when the cut comes.
	done := make(chan error, 1)
	go func() {
		done <- runOn(t, driver, `
task slow(i) {
    print("running", i, "on", sys.node())
    time.sleep(0.3)
    return i
}
pipeline main() {
    let total = 0
    for r in get([slow(i) for i in range(12)]) { total += r }
    if total != 66 { fail("wrong total") }
}`)
	}()
	testutil.Eventually(t, 5*time.Second, "the job running", func() bool { return strings.Contains(out.String(), "running") })
	proxy.setCut(true)
	testutil.Eventually(t, 5*time.Second, "the cut node declared dead", func() bool {
		n, _ := memberState(head, "cut")
		return n.State == gcs.NodeDead
	})
	if err := <-done; err != nil {
		t.Fatalf("job during the cut: %v", err)
	}

	proxy.setCut(false)
	testutil.Eventually(t, 5*time.Second, "the healed node alive again", func() bool {
		n, _ := memberState(head, "cut")
		return n.State == gcs.NodeAlive
	})
	after, _ := memberState(head, "cut")
	if after.Epoch <= before.Epoch {
		t.Fatalf("rejoined with epoch %d, had %d: want a new member", after.Epoch, before.Epoch)
	}
	if err := head.Membership.Heartbeat("cut", before.Epoch, map[string]float64{"cpu": 2}, 0, 0, 0); err == nil ||
		!strings.Contains(err.Error(), "stale") {
		t.Fatalf("heartbeat from the old epoch: %v, want refused as stale", err)
	}

	// A job after the heal uses the node again.
	checkJobUsesNode(t, head, "cut")
}

// checkJobUsesNode runs a job of 16 short tasks from a new driver and
// checks that some of them ran on node.
func checkJobUsesNode(t *testing.T, head *nodeagent.Head, node string) {
	t.Helper()
	out := &testutil.Buffer{}
	driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	err = runOn(t, driver, `
task where(i) {
    time.sleep(0.1)
    return sys.node()
}
pipeline main() {
    let seen = {}
    for n in get([where(i) for i in range(16)]) { seen[n] = true }
    print(sorted(keys(seen)))
}`)
	if err != nil || !strings.Contains(out.String(), `"`+node+`"`) {
		t.Fatalf("job after the heal: %v; printed %q, want tasks on %q", err, out.String(), node)
	}
}

// startPartitionCluster starts a head without CPUs, a node "cut" that
// reaches the head only through the proxy made by via(head address), and
// a node "other" that reaches it directly.
func startPartitionCluster(t *testing.T, via func(target string) string) *nodeagent.Head {
	t.Helper()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", DeadAfter: 800 * time.Millisecond,
		Node: nodeagent.Config{CPUs: -1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	cut, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2, NodeID: "cut", Net: &nodeagent.NetConfig{
		Listen: "127.0.0.1:0", Heads: []string{via(head.Cluster.Address())}, FixedHeads: true, HeartbeatEvery: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cut.Shutdown("test over") })
	other, err := nodeagent.JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", nodeagent.Config{CPUs: 2, NodeID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Shutdown("test over") })
	return head
}
