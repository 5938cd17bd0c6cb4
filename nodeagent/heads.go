package nodeagent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The heads a process talks to.
//
// A cluster has one head or several (three for a replicated GCS). Every
// head runs the membership table and the global scheduler over its GCS
// replica, so any of them can place a task. Nodes register with, and
// send heartbeats to, every head they know; they learn of heads from the
// heads themselves (heads are nodes labelled role=head in the GCS nodes
// table). A request for a head goes to the one that last answered and,
// when it fails, to the next, with bounded backoff: losing a head costs a
// retry, not the job.

// headSet is the list of heads and which one answered last.
type headSet struct {
	mu     sync.Mutex
	addrs  []string
	cur    int
	epochs map[string]uint64 // this node's epoch at each head
}

func newHeadSet(addrs []string) *headSet {
	hs := &headSet{epochs: map[string]uint64{}}
	for _, a := range addrs {
		hs.add(a)
	}
	return hs
}

func (hs *headSet) add(addr string) {
	if addr == "" {
		return
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, a := range hs.addrs {
		if a == addr {
			return
		}
	}
	hs.addrs = append(hs.addrs, addr)
}

// order lists the heads starting with the one that answered last.
func (hs *headSet) order() []string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	out := make([]string, 0, len(hs.addrs))
	for i := range hs.addrs {
		out = append(out, hs.addrs[(hs.cur+i)%len(hs.addrs)])
	}
	return out
}

func (hs *headSet) answered(addr string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for i, a := range hs.addrs {
		if a == addr {
			hs.cur = i
		}
	}
}

func (hs *headSet) epoch(addr string) uint64 {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.epochs[addr]
}

func (hs *headSet) setEpoch(addr string, e uint64) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.epochs[addr] = e
}

// headCall sends a request to a head, trying the others (for a few
// rounds, with backoff) when it fails. Requests for this process's own
// head are served without the network.
func (nw *network) headCall(ctx context.Context, typ transport.MsgType, payload []byte) ([]byte, error) {
	var lastErr error
	backoff := 50 * time.Millisecond
	for round := 0; round < 4; round++ {
		for _, addr := range nw.heads.order() {
			reply, err := nw.callHead(ctx, addr, typ, payload)
			if err == nil {
				nw.heads.answered(addr)
				return reply, nil
			}
			lastErr = err
			if !retryable(err) {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
	return nil, lastErr
}

// callHead sends one request to the head at addr.
func (nw *network) callHead(ctx context.Context, addr string, typ transport.MsgType, payload []byte) ([]byte, error) {
	if addr == nw.addr && nw.isHead() {
		msg, err := nw.serveLocal(ctx, typ, payload)
		if err != nil || msg == nil {
			return nil, err
		}
		return msg.Payload, nil
	}
	msg, err := nw.pool.Call(ctx, addr, typ, payload)
	if err != nil {
		return nil, err
	}
	return msg.Payload, nil
}

func (nw *network) serveLocal(ctx context.Context, typ transport.MsgType, payload []byte) (*transport.Message, error) {
	switch typ {
	case transport.Place:
		return nw.handlePlace(payload)
	case transport.GCSRequest:
		return nw.handleGCS(payload)
	case transport.Heartbeat:
		return nil, nw.handleHeartbeat(payload)
	}
	return nil, fmt.Errorf("message type %s is not served by heads", typ)
}

// registerEverywhere registers this node with every head it knows that
// it is not registered with yet.
func (nw *network) registerEverywhere(ctx context.Context) error {
	n := nw.c.Head()
	body := append([]byte{wire.GCSRegister}, wire.EncodeRegister(n.ID, nw.addr, n.total.Map(), nw.isHead())...)
	var firstErr error
	registered := 0
	for _, addr := range nw.heads.order() {
		if nw.heads.epoch(addr) != 0 {
			registered++
			continue
		}
		reply, err := nw.callHead(ctx, addr, transport.GCSRequest, body)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("head %s: %w", addr, cleanRemote(err))
			}
			continue
		}
		r := codec.NewDecoder(reply)
		nw.heads.setEpoch(addr, r.Uvarint())
		registered++
	}
	if registered == 0 {
		return firstErr
	}
	return nil
}

// heartbeatAll reports to every head; a head that forgot this node (it
// restarted, or declared the node dead while cut off) gets a new
// registration.
func (nw *network) heartbeatAll() {
	n := nw.c.Head()
	st := n.state()
	for _, addr := range nw.heads.order() {
		epoch := nw.heads.epoch(addr)
		if epoch == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := nw.callHead(ctx, addr, transport.Heartbeat, wire.EncodeHeartbeat(n.ID, epoch, st, n.actorCount()))
		cancel()
		if mustRegisterAgain(err) {
			nw.heads.setEpoch(addr, 0)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nw.discoverHeads(ctx)
	nw.registerEverywhere(ctx)
}

// discoverHeads adds the heads the cluster knows to this process's list.
func (nw *network) discoverHeads(ctx context.Context) {
	if nw.cfg.FixedHeads {
		return
	}
	reply, err := nw.headCall(ctx, transport.GCSRequest, []byte{wire.GCSHeads})
	if err != nil {
		return
	}
	addrs, _ := wire.DecodeStrings(reply)
	for _, a := range addrs {
		nw.heads.add(a)
	}
}
