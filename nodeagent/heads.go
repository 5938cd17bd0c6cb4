package nodeagent

import (
	"context"
	"fmt"
	"time"

	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The heads a process talks to are its headclient.Client (nw.hc); this
// file has what the node agent tells them: its registration and its
// heartbeats, and how a head serves its own requests without the network.

// ServeHead serves a head's request from this process itself (the head
// client's Local).
func (nw *network) ServeHead(typ transport.MsgType, payload []byte) (*transport.Message, error) {
	switch typ {
	case transport.Place:
		return nw.handlePlace(payload)
	case transport.GCSRequest:
		return nw.handleGCS(nw.c.Head().ID, payload)
	case transport.Heartbeat:
		return nil, nw.handleHeartbeat(nw.c.Head().ID, payload)
	case transport.Query:
		return nw.handleQuery(context.Background(), payload)
	}
	return nil, fmt.Errorf("message type %s is not served by heads", typ)
}

// registerEverywhere registers this node with every head it knows that
// it is not registered with yet.
func (nw *network) registerEverywhere(ctx context.Context) error {
	n := nw.c.Head()
	return nw.hc.RegisterEverywhere(ctx, headclient.Registration{ID: n.ID, Total: n.sched.Total().Map(), IsHead: nw.isHead()})
}

// heartbeatAll reports to every head; a head that forgot this node (it
// restarted, or declared the node dead while cut off) gets a new
// registration.
func (nw *network) heartbeatAll() {
	if nw.injectPanic.Load() {
		panic("injected fault")
	}
	n := nw.c.Head()
	st := n.state()
	actors := n.actorCount()
	nw.hc.HeartbeatAll(func(epoch uint64) []byte { return wire.EncodeHeartbeat(n.ID, epoch, st, actors) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nw.hc.Discover(ctx)
	nw.registerEverywhere(ctx)
}

// gcsForwarder is a head's gcs.Forwarder: its GCS replica hands the
// writes and membership changes of shards it does not lead to the head
// that does, over the cluster port, so that any head serves drivers and
// nodes. Heads are found by their node ID, which is also their replica's
// raft ID.
type gcsForwarder struct{ nw *network }

// Address is head id's service address, as this head's membership (or
// the GCS nodes table) has it.
func (f gcsForwarder) Address(id string) string {
	return f.nw.cfg.Membership.AddressOf(id)
}

// Forward sends a forwarded GCS request to head id.
func (f gcsForwarder) Forward(ctx context.Context, id string, req []byte) ([]byte, error) {
	addr := f.Address(id)
	if addr == "" {
		return nil, fmt.Errorf("head %s: its address is not known yet", id)
	}
	// Through the head client: a leader just lost is down there, and the
	// attempts that follow, until the new leader is known, are cut short
	// instead of waiting out the pool's redial backoff.
	return f.nw.hc.CallAt(ctx, addr, transport.GCSRequest, append([]byte{wire.GCSForward}, req...))
}

// forwardGCS makes this head's GCS replica forward what it cannot apply
// to the heads that lead the shards.
func (c *Cluster) forwardGCS() {
	if c.net != nil && c.net.isHead() {
		c.net.cfg.Store.SetForwarder(gcsForwarder{c.net})
	}
}
