package nodeagent_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// blackholeProxy forwards TCP connections to a target. Cut, it stops
// moving bytes, both ways, but keeps every connection open, as a network
// that silently drops packets would: what the node sends meanwhile
// (heartbeats of its old life, requests) waits in the buffers and
// arrives, stale, when the cut heals.
type blackholeProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	open   *sync.Cond // signalled when the cut heals or the proxy closes
	cut    bool
	closed bool
	conns  []net.Conn
}

func newBlackholeProxy(t *testing.T, target string) *blackholeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{ln: ln, target: target}
	p.open = sync.NewCond(&p.mu)
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *blackholeProxy) addr() string { return p.ln.Addr().String() }

func (p *blackholeProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pump(up, c)
		go p.pump(c, up)
	}
}

// pump copies src to dst, holding what it read while the link is cut.
func (p *blackholeProxy) pump(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.cut && !p.closed {
				p.open.Wait()
			}
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *blackholeProxy) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	p.open.Broadcast()
	p.mu.Unlock()
}

func (p *blackholeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.open.Broadcast()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// A node whose link to the head silently drops everything for longer
// than the dead timeout: the head declares it dead; the tasks it was
// running are run again on the other node (the job's results all come
// from there, though the cut node started some of them); when the link
// heals, the heartbeats of its old life held in the network arrive and
// are refused, it never comes back under its old epoch, and it rejoins
// as a new member that the next job uses.
func TestBlackholedNodeRejoinsAsNewMember(t *testing.T) {
	var proxy *blackholeProxy
	head := startPartitionCluster(t, func(target string) string {
		proxy = newBlackholeProxy(t, target)
		return proxy.addr()
	})
	out := &testutil.Buffer{}
	driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	before, _ := memberState(head, "cut")

	// On the cut node a task takes 8 s, elsewhere 0.2 s: the job is done
	// in time only if what the cut node started runs again elsewhere.
	started := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- runOn(t, driver, `
task work(i) {
    print("start", i, "on", sys.node())
    if sys.node() == "cut" { time.sleep(8) } else { time.sleep(0.2) }
    return [i, sys.node()]
}
pipeline main() {
    let total = 0
    let nodes = {}
    for r in get([work(i) for i in range(4)]) {
        total += r[0]
        nodes[r[1]] = true
    }
    print("result", total, sorted(keys(nodes)))
}`)
	}()
	testutil.Eventually(t, 5*time.Second, "a task started on the node to be cut", func() bool { return strings.Contains(out.String(), "on cut") })
	proxy.setCut(true)
	testutil.Eventually(t, 5*time.Second, "the cut node declared dead", func() bool {
		n, _ := memberState(head, "cut")
		return n.State == gcs.NodeDead
	})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("job during the cut: %v\n%s", err, out.String())
		}
	case <-time.After(7 * time.Second):
		t.Fatalf("job during the cut still running after %s:\n%s", time.Since(started), out.String())
	}
	if !strings.Contains(out.String(), `result 6 ["other"]`) {
		t.Fatalf("job during the cut printed:\n%s\nwant its results all from the other node", out.String())
	}

	// Heal: the held heartbeats of the old life arrive first. The node
	// must never be alive again under its old epoch.
	proxy.setCut(false)
	testutil.Eventually(t, 5*time.Second, "the healed node rejoined", func() bool {
		n, _ := memberState(head, "cut")
		if n.State == gcs.NodeAlive && n.Epoch <= before.Epoch {
			t.Fatalf("the healed node is alive under its old epoch %d", n.Epoch)
		}
		return n.State == gcs.NodeAlive
	})

	// The next job uses it, once its old tasks (8 s) have let go of its
	// CPUs. (The old life goes on with the work its owner has since had
	// done elsewhere: nobody cancels it.)
	testutil.Eventually(t, 10*time.Second, "the rejoined node's CPUs free", func() bool {
		n, _ := memberState(head, "cut")
		return n.State == gcs.NodeAlive && n.ResourcesAvailable["cpu"] == 2
	})
	checkJobUsesNode(t, head, "cut")
}
