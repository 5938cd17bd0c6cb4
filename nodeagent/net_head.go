package nodeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The head's services: membership, the global scheduler, programs and
// status, reached with GCSRequest, Place and Heartbeat messages.

// gcsCall sends a GCS request to a head (this process's own, if it is
// one), failing over to the others.
func (nw *network) gcsCall(ctx context.Context, op byte, body []byte) ([]byte, error) {
	return nw.headCall(ctx, transport.GCSRequest, append([]byte{op}, body...))
}

func (nw *network) handleGCS(ctx context.Context, payload []byte) (*transport.Message, error) {
	if !nw.isHead() {
		return nil, errNotHead
	}
	if len(payload) == 0 {
		return nil, wire.ErrMalformed
	}
	m, store := nw.cfg.Membership, nw.cfg.Store
	body := payload[1:]
	switch payload[0] {
	case wire.GCSRegister:
		id, addr, total, isHead, err := wire.DecodeRegister(body)
		if err != nil {
			return nil, err
		}
		epoch, err := m.Register(id, addr, total, isHead)
		if err != nil {
			return nil, err
		}
		w := &codec.Encoder{}
		w.Uvarint(epoch)
		return reply(w.Bytes()), nil
	case wire.GCSLeave:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, wire.ErrMalformed
		}
		epoch, _ := strconv.ParseUint(ss[1], 10, 64)
		return nil, m.Leave(ss[0], epoch)
	case wire.GCSNodes:
		var ids []string
		for _, n := range m.Alive() {
			ids = append(ids, n.ID)
		}
		return reply(wire.EncodeStrings(ids...)), nil
	case wire.GCSPutProgram:
		hash, f := store.PutProgram(body)
		if err := f.ErrorTimeout(5 * time.Second); err != nil {
			return nil, err
		}
		return reply([]byte(hash)), nil
	case wire.GCSGetProgram:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, wire.ErrMalformed
		}
		src, err := store.GetProgram(ss[0])
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", shortHash(ss[0]), err)
		}
		return reply(src), nil
	case wire.GCSPutTasks:
		recs, err := wire.DecodeRecords(body)
		if err != nil {
			return nil, err
		}
		return nil, store.PutTasks(recs).ErrorTimeout(10 * time.Second)
	case wire.GCSGetTask:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, wire.ErrMalformed
		}
		rec, err := store.GetTask(ss[0])
		if err != nil {
			return nil, err
		}
		return reply(wire.EncodeRecords([]gcs.TaskRecord{rec})), nil
	case wire.GCSDeleteJobTasks:
		return nil, deleteJobTasks(store, body)
	case wire.GCSNodeStates:
		var ss []string
		for _, n := range m.All() {
			ss = append(ss, n.ID, n.Address, n.State, strconv.FormatUint(n.Epoch, 10))
		}
		return reply(wire.EncodeStrings(ss...)), nil
	case wire.GCSHeads:
		return reply(wire.EncodeStrings(m.Heads()...)), nil
	case wire.GCSJoin:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, wire.ErrMalformed
		}
		return nil, store.Join(ss[0], ss[1])
	case wire.GCSStatus:
		data, err := json.Marshal(nw.status())
		if err != nil {
			return nil, err
		}
		return reply(data), nil
	}
	return nil, fmt.Errorf("unknown GCS request %d", payload[0])
}

func reply(payload []byte) *transport.Message {
	return &transport.Message{Type: transport.Ack, Payload: payload}
}

func (nw *network) handleHeartbeat(payload []byte) error {
	if !nw.isHead() {
		return errNotHead
	}
	hb, err := wire.DecodeHeartbeat(payload)
	if err != nil {
		return err
	}
	return nw.cfg.Membership.Heartbeat(hb.ID, hb.Epoch, hb.Free, hb.QueueLen, hb.Running, hb.Actors)
}

// placeBatch asks the global scheduler (on the head) where spilled tasks
// should run, all in one message.
func (nw *network) placeBatch(ctx context.Context, reqs []wire.PlaceRequest) ([]wire.PlaceResult, error) {
	payload, err := nw.headCall(ctx, transport.Place, wire.EncodePlaceRequests(reqs))
	if err != nil {
		return nil, err
	}
	return wire.DecodePlaceResults(payload, len(reqs))
}

// place asks for one placement.
func (nw *network) place(ctx context.Context, name string, demand resources.Resources, origin string) (string, string, error) {
	res, err := nw.placeBatch(ctx, []wire.PlaceRequest{{Name: name, Demand: demand, Origin: origin}})
	if err != nil {
		return "", "", err
	}
	return res[0].Node, res[0].Addr, res[0].Err
}

func (nw *network) handlePlace(payload []byte) (*transport.Message, error) {
	if !nw.isHead() {
		return nil, errNotHead
	}
	reqs, err := wire.DecodePlaceRequests(payload, nw.readDemand)
	if err != nil {
		return nil, err
	}
	return reply(wire.EncodePlaceResults(nw.cfg.Membership.placeBatch(reqs))), nil
}

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
}

// ShardStatus is one GCS shard in Status.
type ShardStatus struct {
	Shard    int      `json:"shard"`
	Leader   string   `json:"leader"`
	Replicas []string `json:"replicas"`
}

func (nw *network) status() Status {
	var st Status
	// Queue and running counts are the global scheduler's: the latest
	// heartbeat's plus what was placed since.
	snap := nw.cfg.Membership.Snapshot()
	load := map[string]placement.NodeState{}
	for _, n := range snap.Nodes {
		load[n.ID] = n
	}
	actors := nw.cfg.Membership.Actors()
	for _, n := range nw.cfg.Membership.All() {
		st.Nodes = append(st.Nodes, NodeStatus{ID: n.ID, Address: n.Address, State: n.State,
			ResourcesTotal: n.ResourcesTotal, ResourcesAvailable: n.ResourcesAvailable,
			QueueLen: load[n.ID].QueueLen, Running: load[n.ID].Running, Actors: actors[n.ID],
			LastHeartbeat: time.Unix(0, n.LastHeartbeat).UTC().Format(time.RFC3339Nano)})
	}
	store := nw.cfg.Store
	servers, _ := store.Servers()
	for i := 0; i < store.Shards(); i++ {
		leader, _ := store.Leader(i)
		st.GCS = append(st.GCS, ShardStatus{Shard: i, Leader: leader, Replicas: servers})
	}
	return st
}

// FetchStatus asks the head at addr for the cluster's status.
func FetchStatus(ctx context.Context, addr string) (*Status, error) {
	pool := transport.NewPool(transport.Options{NodeID: "status"})
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

// nodeIDs lists the alive node IDs of the cluster.
func (nw *network) nodeIDs() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := nw.gcsCall(ctx, wire.GCSNodes, nil)
	if err != nil {
		return []string{nw.c.Head().ID}
	}
	ids, _ := wire.DecodeStrings(reply)
	return ids
}

// readDemand reads a resource map, parsing each distinct encoding once:
// a cluster sees few distinct demands and very many requests.
func (nw *network) readDemand(r *codec.Decoder) (resources.Resources, error) {
	from := r.Offset()
	m := wire.ReadResources(r)
	if r.Err() != nil {
		return resources.Resources{}, wire.Err(r)
	}
	key := string(r.Span(from))
	if d, ok := nw.demands.Load(key); ok {
		return d.(resources.Resources), nil
	}
	d, err := resources.FromMap(m)
	if err != nil {
		return d, err
	}
	nw.demands.Store(key, d)
	return d, nil
}

// checkFeasible leaves feasibility to the head's global scheduler, which
// sees every node when the task spills.
func (nw *network) checkFeasible(string, resources.Resources) error { return nil }
