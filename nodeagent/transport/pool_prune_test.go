package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// waitLen waits until the pool keeps state for want addresses.
func waitLen(t *testing.T, p *Pool, want int, within time.Duration) {
	t.Helper()
	testutil.Eventually(t, within, fmt.Sprintf("the pool keeping %d entries", want), func() bool { return p.Len() == want })
}

// A long-lived pool that talked to many short-lived servers forgets each
// one once its connection dies, instead of keeping an entry per address
// it ever used.
func TestPoolDropsDeadConnections(t *testing.T) {
	const servers = 60
	p := NewPool(Options{})
	defer p.Close()
	for i := range servers {
		s, err := Listen("127.0.0.1:0", newTestHandler(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Call(ctxT(t, 5*time.Second), s.Addr(), SubmitTask, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	waitLen(t, p, 0, 5*time.Second)
}

// A live connection stays in the pool, and one that died is replaced by a
// fresh dial on the next call, entry dropped or not.
func TestPoolKeepsLiveConnections(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{})
	p := NewPool(Options{})
	defer p.Close()
	c1, err := p.Get(ctxT(t, 5*time.Second), s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// No event says "not pruned": give a wrong prune, which follows a
	// connection's death at once, a moment to happen.
	time.Sleep(50 * time.Millisecond)
	if p.Len() != 1 {
		t.Fatalf("pool keeps %d entries with one live connection", p.Len())
	}
	c1.Close()
	waitLen(t, p, 0, 5*time.Second)
	c2, err := p.Get(ctxT(t, 5*time.Second), s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if c1 == c2 || c2.Err() != nil {
		t.Fatal("the pool did not redial after its connection died")
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Addresses whose dials failed are remembered while their backoff is
// useful, then forgotten: a pool asked once for each of many dead
// addresses does not keep them all.
func TestPoolForgetsFailedAddresses(t *testing.T) {
	const dead = 40
	opts := Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	p := NewPool(opts)
	defer p.Close()
	// Distinct dead addresses, none the server's below: one free port on
	// other loopback addresses (a free port asked for again and again
	// may come back, and the server's may be one of them: then its Get
	// made no new entry and swept nothing).
	_, port, _ := net.SplitHostPort(freeAddr(t))
	for i := range dead {
		addr := net.JoinHostPort(fmt.Sprintf("127.0.1.%d", i+1), port)
		if _, err := p.Call(ctxT(t, 2*time.Second), addr, SubmitTask, nil); err == nil {
			t.Fatal("call to a dead address succeeded")
		}
	}
	if p.Len() == 0 {
		t.Fatal("failed dials left no backoff state")
	}
	// Their backoff runs out and MaxBackoff more passes: the entries'
	// clock is moved back rather than slept on (a sleep here failed under
	// load), and the next new address's Get sweeps as it would then.
	p.mu.Lock()
	for _, e := range p.peers {
		e.next = e.next.Add(-3 * opts.MaxBackoff)
	}
	p.lastSweep = p.lastSweep.Add(-3 * opts.MaxBackoff)
	p.mu.Unlock()
	s := startServer(t, newTestHandler(), Options{})
	if _, err := p.Call(ctxT(t, 5*time.Second), s.Addr(), SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
	if n := p.Len(); n != 1 {
		t.Fatalf("pool keeps %d entries after the failed addresses' backoff ran out, want 1", n)
	}
}

// A caller that gives up before its dial ends leaves no entry behind.
func TestPoolForgetsAbandonedDials(t *testing.T) {
	p := NewPool(Options{})
	defer p.Close()
	ctx := ctxT(t, time.Second)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Get(cctx, freeAddr(t)); err == nil {
		t.Fatal("dial with a cancelled context succeeded")
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("pool keeps %d entries after an abandoned dial", n)
	}
	p.Close()
	if _, err := p.Get(ctx, freeAddr(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on a closed pool: %v", err)
	}
}

// Peer.Done is closed when a server's peer goes away, so whoever kept the
// peer (from OnHello) can forget it.
func TestPeerDoneWhenConnectionEnds(t *testing.T) {
	peers := make(chan *Peer, 4)
	s := startServer(t, newTestHandler(), Options{OnHello: func(p *Peer) error {
		peers <- p
		if p.NodeID == "refused" {
			return errors.New("no")
		}
		return nil
	}})
	c := dial(t, s.Addr(), Options{NodeID: "client"})
	peer := <-peers
	select {
	case <-peer.Done():
		t.Fatal("Done closed while the connection is open")
	case <-time.After(50 * time.Millisecond):
	}
	c.Close()
	select {
	case <-peer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the client left")
	}
	if _, err := Dial(ctxT(t, 5*time.Second), s.Addr(), Options{NodeID: "refused"}); err == nil {
		t.Fatal("refused peer connected")
	}
	select {
	case <-(<-peers).Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed for a refused peer")
	}
}
