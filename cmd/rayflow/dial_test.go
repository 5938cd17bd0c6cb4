package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Only member addresses are dialled: a member of the cluster (it holds
// the token) that sends a head and a node a task naming an arbitrary
// address as its owner and output cannot make them connect there; each
// refuses the dial and says so. A driver's job, whose address its job
// lease declares, runs as before.
func TestOnlyMemberAddressesDialled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, wp := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	tokenFile := writeTokenFile(t, "dial-token")
	headProc := startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--token-file", tokenFile)
	worker := startWorker(t, bin, head, "w1", wp, "--cpus", "1", "--token-file", tokenFile)
	waitState(t, bin, head, "w1", "alive", 10*time.Second)

	// The address the probe names: a listener that records connections.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	connected := make(chan string, 16)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			connected <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	target := lis.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token := []byte("dial-token")
	probe, err := transport.Dial(ctx, head, transport.Options{NodeID: "probe", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	blob := "probe.rayflow\x00\x00task f() {\n    print(\"hello\")\n    return 1\n}\npipeline main() { }\n"
	reply, err := probe.Call(ctx, transport.GCSRequest, append([]byte{wire.GCSPutProgram}, blob...))
	if err != nil {
		t.Fatal(err)
	}
	hash := string(reply.Payload)
	for i, at := range []string{head, fmt.Sprintf("127.0.0.1:%d", wp)} {
		c, err := transport.Dial(ctx, at, transport.Options{NodeID: "probe", Token: token})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m := &wire.Submit{Kind: wire.SubmitTask, ID: fmt.Sprintf("probejob%d.1", i), Owner: target, Output: target,
			ProgramHash: hash, Function: "f", Resources: map[string]float64{"cpu": 1}}
		if _, err := c.Call(ctx, transport.SubmitTask, wire.One(m)); err != nil {
			t.Fatalf("submit to %s: %v", at, err)
		}
	}
	refusal := "refused to dial " + target + ": not a member of the cluster"
	for name, p := range map[string]*proc{"head": headProc, "w1": worker} {
		stderr := p.cmd.Stderr.(*testutil.Buffer)
		testutil.Eventually(t, 20*time.Second, name+" refusing to dial "+target, func() bool {
			select {
			case from := <-connected:
				t.Fatalf("a process dialled the probe's address (from %s)", from)
			default:
			}
			return strings.Contains(stderr.String(), refusal)
		})
	}
	select {
	case from := <-connected:
		t.Fatalf("a process dialled the probe's address (from %s)", from)
	default:
	}

	// A driver's job still runs: its nodes dial it, its lease vouching
	// for its address.
	prog := writeProgram(t, "task f(i) { print(\"task\", i)\n return i * 2 }\npipeline main() { print(sum(get([f(i) for i in range(6)]))) }\n")
	cmd := exec.Command(bin, "run", "--address", head, "--token-file", tokenFile, prog)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "30\n") || strings.Count(string(out), "task") != 6 {
		t.Fatalf("a driver's job: %v\n%s", err, out)
	}
}
