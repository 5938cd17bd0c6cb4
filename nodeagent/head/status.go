package head

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Status is what `rayflow status` shows: the nodes and the GCS shards.
type Status struct {
	Nodes []NodeStatus  `json:"nodes"`
	GCS   []ShardStatus `json:"gcs_shards"`
}

// NodeStatus is one node in Status. Field names are the contract of
// `rayflow status --json`.
type NodeStatus struct {
	ID                 string             `json:"id"`
	Address            string             `json:"address"`
	State              string             `json:"state"`
	ResourcesTotal     map[string]float64 `json:"resources_total"`
	ResourcesAvailable map[string]float64 `json:"resources_available"`
	QueueLen           int                `json:"tasks_queued"`
	Running            int                `json:"tasks_running"`
	Actors             int                `json:"actors"`
	LastHeartbeat      string             `json:"last_heartbeat"`
	IsHead             bool               `json:"is_head"`
}

// ShardStatus is one GCS shard in Status.
type ShardStatus struct {
	Shard    int      `json:"shard"`
	Leader   string   `json:"leader"`
	Replicas []string `json:"replicas"`
}

// nodeStatuses is every member as status shows it. Queue, running and
// actor counts are what each node's latest heartbeat said (at most a
// heartbeat period old), not the global scheduler's view, which adds
// the placements made since (some of them never used: a spillback round
// places the tasks it asks about whether or not they move). A dead node
// shows nothing free and nothing held.
func nodeStatuses(m *Membership) []NodeStatus {
	loads := m.Loads()
	var out []NodeStatus
	for _, n := range m.All() {
		l := loads[n.ID]
		out = append(out, NodeStatus{ID: n.ID, Address: n.Address, State: n.State,
			ResourcesTotal: n.ResourcesTotal, ResourcesAvailable: n.ResourcesAvailable,
			QueueLen: l.Queued, Running: l.Running, Actors: l.Actors,
			LastHeartbeat: time.Unix(0, n.LastHeartbeat).UTC().Format(time.RFC3339Nano),
			IsHead:        n.Labels["role"] == "head"})
	}
	return out
}

// FetchStatus asks the head at addr for the cluster's status, proving
// the cluster token (none: a cluster without one), over TLS with tlsCfg
// when it is set.
func FetchStatus(ctx context.Context, addr string, token []byte, tlsCfg *tls.Config) (*Status, error) {
	pool := transport.NewPool(transport.Options{NodeID: "status", Token: token, TLS: tlsCfg})
	defer pool.Close()
	msg, err := pool.Call(ctx, addr, transport.GCSRequest, []byte{wire.GCSStatus})
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(msg.Payload, &st); err != nil {
		return nil, fmt.Errorf("bad status reply: %w", err)
	}
	return &st, nil
}
