package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A head creates its token on first start in DATA_DIR/token (mode 0600)
// and keeps it; a command on this machine finds it by itself; a wrong or
// missing token is refused at once on every port — the cluster port
// (a driver, a node, a bare protocol client), the HTTP API — and nothing
// registers or runs.
func TestClusterRefusesStrangers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	dataDir := t.TempDir()
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1", "--data-dir", dataDir)
	fi, err := os.Stat(filepath.Join(dataDir, "token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("DATA_DIR/token: %v (mode %v)", err, fi.Mode())
	}
	token, _ := os.ReadFile(filepath.Join(dataDir, "token"))
	prog := writeProgram(t, "pipeline main() { print(\"job ran\") }\n")

	// On this machine, no flag is needed.
	if out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput(); err != nil || string(out) != "job ran\n" {
		t.Fatalf("run with the token found on this machine: %v\n%s", err, out)
	}
	// A wrong token: refused, with a message that says so, and no run.
	for _, env := range []string{"RAYFLOW_TOKEN=wrong", "XDG_RUNTIME_DIR=" + t.TempDir()} {
		cmd := exec.Command(bin, "run", "--address", head, prog)
		cmd.Env = append(os.Environ(), env)
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "job ran") || !strings.Contains(string(out), "token") {
			t.Fatalf("run with %s: %v\n%s", env, err, out)
		}
	}
	// A node with a wrong token does not join.
	node := exec.Command(bin, "start", "--address", head, "--cpus", "1000", "--node-id", "intruder")
	node.Env = append(os.Environ(), "RAYFLOW_TOKEN=wrong")
	if out, err := node.CombinedOutput(); err == nil || !strings.Contains(string(out), "token") {
		t.Fatalf("a node with a wrong token: %v\n%s", err, out)
	}
	if ids := states(status(t, bin, head)); len(ids) != 1 || ids["intruder"] != "" {
		t.Fatalf("status after the intruder: %v", ids)
	}
	// A bare client of the protocol, without the token, gets nothing
	// registered: its Hello is refused before any request is read.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := transport.Dial(ctx, head, transport.Options{NodeID: "probe"}); err == nil {
		_, err = c.Call(ctx, transport.GCSRequest, append([]byte{wire.GCSRegister}, wire.EncodeRegister("probe", "127.0.0.1:9", map[string]float64{"cpu": 1000}, false)...))
		c.Close()
		t.Fatalf("a client without the token was served (register: %v)", err)
	}
	// The HTTP API: 401 without the token, 200 with it.
	for _, c := range []struct {
		auth string
		want string
	}{{"", "401"}, {"Authorization: Bearer wrong", "401"}, {"Authorization: Bearer " + strings.TrimSpace(string(token)), "200"}} {
		args := []string{"-s", "-o", "/dev/null", "-w", "%{http_code}", fmt.Sprintf("http://127.0.0.1:%d/api/status", web)}
		if c.auth != "" {
			args = append([]string{"-H", c.auth}, args...)
		}
		if out, err := exec.Command("curl", args...).Output(); err != nil || string(out) != c.want {
			t.Errorf("GET /api/status with %q: %s (%v), want %s", c.auth, out, err, c.want)
		}
	}
}

// The GCS's Raft ports take nothing from a stranger: a Raft peer that
// does not know the token gets no answer to a vote request with a huge
// term (which, answered, deposed the leader and failed running jobs), and
// bytes written straight to the port end the connection; the cluster
// goes on serving.
func TestRaftPortClosedToStrangers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp := freePortRange(t, 5)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	raftAddr := fmt.Sprintf("127.0.0.1:%d", hp+1)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1")

	stranger, err := raft.NewTCPTransport("127.0.0.1:0", nil, 1, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	var resp raft.RequestVoteResponse
	err = stranger.RequestVote("stranger", raft.ServerAddress(raftAddr), &raft.RequestVoteRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("stranger"), Addr: []byte(stranger.LocalAddr())},
		Term:      1 << 40, LastLogIndex: 1 << 40, LastLogTerm: 1 << 40}, &resp)
	if err == nil {
		t.Fatalf("the Raft port answered a stranger's vote request: %+v", resp)
	}

	conn, err := net.Dial("tcp", raftAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(append([]byte{0}, []byte("\x87\xa4Term\xcf\xff\xff\xff\xff\xff\xff\xff\xff")...))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	if n, err := conn.Read(buf); err == nil || n != 0 {
		t.Fatalf("the Raft port answered raw bytes with %d bytes: %q", n, buf[:n])
	}
	prog := writeProgram(t, "pipeline main() { print(\"job ran\") }\n")
	if out, err := exec.Command(bin, "run", "--address", head, prog).CombinedOutput(); err != nil || string(out) != "job ran\n" {
		t.Fatalf("run after the stranger: %v\n%s", err, out)
	}
}
