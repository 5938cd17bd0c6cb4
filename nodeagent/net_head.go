package nodeagent

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// placeBatch asks the global scheduler (on the head) where spilled tasks
// should run, all in one message.
func (nw *network) placeBatch(ctx context.Context, reqs []wire.PlaceRequest) ([]wire.PlaceResult, error) {
	payload, err := nw.hc.Call(ctx, transport.Place, wire.EncodePlaceRequests(reqs))
	if err != nil {
		return nil, err
	}
	return wire.DecodePlaceResults(payload, len(reqs))
}

// place asks for one placement.
func (nw *network) place(ctx context.Context, name string, demand resources.Resources, origin, spread string) (string, string, error) {
	res, err := nw.placeBatch(ctx, []wire.PlaceRequest{{Name: name, Demand: demand, Origin: origin, Spread: spread}})
	if err != nil {
		return "", "", err
	}
	return res[0].Node, res[0].Addr, res[0].Err
}

// nodeIDs lists the alive node IDs of the cluster.
func (nw *network) nodeIDs() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := nw.hc.GCS(ctx, wire.GCSNodes, nil)
	if err != nil {
		return []string{nw.c.Head().ID}
	}
	ids, _ := wire.DecodeStrings(reply)
	return ids
}

// checkFeasible leaves feasibility to the head's global scheduler, which
// sees every node when the task spills.
func (nw *network) checkFeasible(string, resources.Resources) error { return nil }

// handleGCS, handleHeartbeat and handlePlace serve a head's requests
// with its head.Service; other processes refuse them. from is the node
// ID the sender proved the cluster token under at Hello (this process's
// own for its calls to itself): a node registers, heartbeats and leaves
// only for itself.
func (nw *network) handleGCS(from string, payload []byte) (*transport.Message, error) {
	if nw.svc == nil {
		return nil, errNotHead
	}
	if len(payload) > 0 && payload[0] == wire.GCSPutTaskBatch {
		if hold := holdGCSBatch.Load(); hold != nil {
			(*hold)(from)
		}
	}
	return nw.svc.HandleGCS(from, payload)
}

// holdGCSBatch, set by tests only, runs on a head before it handles a
// lineage stash's batch write (wire.GCSPutTaskBatch) from the process
// with node ID from: a test holds the write there to show what does not
// wait for it. Each request of a connection is handled on a goroutine of its own
// (transport: at most Options.MaxConcurrent per connection), so a held
// write delays no frame behind it on the connection.
var holdGCSBatch atomic.Pointer[func(from string)]

func (nw *network) handleHeartbeat(from string, payload []byte) error {
	if nw.svc == nil {
		return errNotHead
	}
	return nw.svc.HandleHeartbeat(from, payload)
}

func (nw *network) handlePlace(payload []byte) (*transport.Message, error) {
	if nw.svc == nil {
		return nil, errNotHead
	}
	return nw.svc.HandlePlace(payload)
}
