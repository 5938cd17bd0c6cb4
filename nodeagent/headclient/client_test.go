package headclient

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent/transport"
)

// serveHead starts a transport server on 127.0.0.1 that answers with h.
func serveHead(t *testing.T, h transport.HandlerFunc) string {
	t.Helper()
	s, err := transport.Listen("127.0.0.1:0", h, transport.Options{NodeID: "head"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Addr()
}

// A head that is slow to answer does not hold back the heartbeats of the
// others: the fast head has its heartbeat while the client still waits
// for the slow one (sent one after the other, the fast head's waited
// until the client gave up on the slow one).
func TestHeartbeatsGoToEveryHeadAtOnce(t *testing.T) {
	fastGot := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var slowCtx context.Context // the slow head's request, while it waits
	slowWaiting := make(chan struct{})
	slow := serveHead(t, func(ctx context.Context, _ *transport.Peer, _ *transport.Message) (*transport.Message, error) {
		mu.Lock()
		slowCtx = ctx
		mu.Unlock()
		close(slowWaiting)
		select {
		case <-fastGot:
		case <-ctx.Done():
		}
		return nil, nil
	})
	fastSawSlowWaiting := make(chan bool, 1)
	fast := serveHead(t, func(ctx context.Context, _ *transport.Peer, _ *transport.Message) (*transport.Message, error) {
		select { // sent at once, the two may arrive in any order
		case <-slowWaiting:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		once.Do(func() {
			mu.Lock()
			waiting := slowCtx != nil && slowCtx.Err() == nil
			mu.Unlock()
			fastSawSlowWaiting <- waiting
			close(fastGot)
		})
		return nil, nil
	})
	pool := transport.NewPool(transport.Options{NodeID: "node"})
	defer pool.Close()
	c := New(Options{Pool: pool, Self: "127.0.0.1:1", Heads: []string{slow, fast}})
	c.setEpoch(slow, 1)
	c.setEpoch(fast, 1)
	go c.HeartbeatAll(func(uint64) []byte { return nil })
	select {
	case waiting := <-fastSawSlowWaiting:
		if !waiting {
			t.Fatal("the fast head had its heartbeat only after the client gave up on the slow one")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the fast head had no heartbeat in 20 s")
	}
}

// A call to a head that is down (its last call got no answer) is bounded
// by downWait, not by the transport pool's redial backoff, and the head
// is tried after the others.
func TestCallToADownHeadIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	alive := serveHead(t, func(context.Context, *transport.Peer, *transport.Message) (*transport.Message, error) {
		return transport.Reply([]byte("ok")), nil
	})
	// A pool whose backoff after one failed dial is a minute: a call that
	// waits for it, with no deadline of its own, waits a minute.
	pool := transport.NewPool(transport.Options{NodeID: "node", MinBackoff: time.Minute, MaxBackoff: time.Minute})
	defer pool.Close()
	c := New(Options{Pool: pool, Self: "127.0.0.1:1", Heads: []string{dead, alive}})
	if _, err := c.CallAt(context.Background(), dead, transport.GCSRequest, []byte{1}); err == nil {
		t.Fatal("a call to a closed port succeeded")
	}
	if !c.IsDown(dead) || c.IsDown(alive) {
		t.Fatalf("down: dead %v, alive %v", c.IsDown(dead), c.IsDown(alive))
	}
	if order := c.Order(); order[0] != alive || order[1] != dead {
		t.Fatalf("Order = %v, want the head that is down last", order)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.CallAt(context.Background(), dead, transport.GCSRequest, []byte{1})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the second call to a closed port succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a call to a head that is down waited out the pool's backoff")
	}
	if reply, err := c.CallAt(context.Background(), alive, transport.GCSRequest, []byte{1}); err != nil || string(reply) != "ok" {
		t.Fatalf("call to the live head: %q, %v", reply, err)
	}
}
