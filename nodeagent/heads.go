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
