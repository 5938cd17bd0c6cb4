package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Every condition a caller decides on crosses a real connection as a code:
// the caller's decision (fail over, register again) follows the code, and
// the message people read is what the handler's error said.
func TestRemoteErrorCodesDecideRetries(t *testing.T) {
	cases := []struct {
		err        error
		code       uint64
		retry      bool
		reregister bool
	}{
		{&gcs.NotLeaderError{Shard: 2}, transport.CodeNotLeader, true, false},
		{fmt.Errorf("put: %w", &gcs.NotLeaderError{Shard: 1, LeaderID: "h2", LeaderAddr: "127.0.0.1:9"}), transport.CodeNotLeader, true, false},
		{errors.Join(errors.New("shard 0: bad"), &gcs.NotLeaderError{Shard: 3}), transport.CodeNotLeader, true, false},
		{errNotHead, transport.CodeNotHead, true, false},
		{fmt.Errorf("%w waiting 5s for a leader of shard 0", gcs.ErrTimeout), transport.CodeTimeout, true, false},
		{gcs.ErrClosed, transport.CodeClosed, true, false},
		{head.ErrStaleEpoch, transport.CodeStaleEpoch, false, true},
		{head.ErrUnknownNode, transport.CodeUnknownNode, false, true},
		{fmt.Errorf("program abc: %w", gcs.ErrNotFound), transport.CodeNotFound, false, false},
		{wire.ErrMalformed, transport.CodeInternal, false, false},
		// A message that merely mentions a condition is not that condition.
		{errors.New("the file was closed, timed out, and not the leader"), transport.CodeInternal, false, false},
	}
	srv, err := transport.Listen("127.0.0.1:0", transport.HandlerFunc(func(_ context.Context, _ *transport.Peer, req *transport.Message) (*transport.Message, error) {
		return nil, withRemoteCode(cases[req.Payload[0]].err)
	}), transport.Options{NodeID: "server"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The caller is node "ghost", which never registered: a node speaks
	// only for itself.
	pool := transport.NewPool(transport.Options{NodeID: "ghost"})
	defer pool.Close()
	for i, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := pool.Call(ctx, srv.Addr(), transport.GCSRequest, []byte{byte(i)})
		cancel()
		if got := transport.Code(err); got != tc.code {
			t.Errorf("%v: code %d, want %d", tc.err, got, tc.code)
		}
		if headclient.Retryable(err) != tc.retry || headclient.MustRegisterAgain(err) != tc.reregister {
			t.Errorf("%v: retryable %v, register again %v", tc.err, headclient.Retryable(err), headclient.MustRegisterAgain(err))
		}
		if want := "remote: " + tc.err.Error(); err == nil || err.Error() != want {
			t.Errorf("error text %v, want %q", err, want)
		}
	}
}

// A running head and node answer with the codes: a node asked for a
// head's service says it is not one, the head does not know a node that
// never registered, and a task row that does not exist is not found.
func TestRemoteCodesFromRunningNodes(t *testing.T) {
	h, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	worker, err := JoinCluster([]string{h.Cluster.Address()}, "127.0.0.1:0", Config{CPUs: 1, NodeID: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Shutdown("test over")
	// The caller is node "ghost", which never registered: a node speaks
	// only for itself.
	pool := transport.NewPool(transport.Options{NodeID: "ghost"})
	defer pool.Close()
	call := func(addr string, typ transport.MsgType, payload []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := pool.Call(ctx, addr, typ, payload)
		return err
	}
	for _, tc := range []struct {
		name    string
		addr    string
		typ     transport.MsgType
		payload []byte
		code    uint64
		text    string
	}{
		{"not a head", worker.Address(), transport.GCSRequest, []byte{wire.GCSNodes}, transport.CodeNotHead, "remote: this node is not the head"},
		{"unknown node", h.Cluster.Address(), transport.Heartbeat, wire.EncodeHeartbeat("ghost", 1, placement.NodeState{}, 0),
			transport.CodeUnknownNode, "remote: " + head.ErrUnknownNode.Error()},
		{"stale epoch", h.Cluster.Address(), transport.GCSRequest, append([]byte{wire.GCSLeave}, wire.EncodeStrings("ghost", "7")...),
			transport.CodeStaleEpoch, "remote: " + head.ErrStaleEpoch.Error()},
		{"no such task", h.Cluster.Address(), transport.GCSRequest, append([]byte{wire.GCSGetTask}, wire.EncodeStrings("job9.1")...),
			transport.CodeNotFound, "remote: gcs: not found"},
	} {
		err := call(tc.addr, tc.typ, tc.payload)
		if transport.Code(err) != tc.code || tc.text != "" && (err == nil || err.Error() != tc.text) {
			t.Errorf("%s: code %d, error %v; want code %d, %q", tc.name, transport.Code(err), err, tc.code, tc.text)
		}
	}
}
