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
)

// The head's services: membership, the global scheduler, programs and
// status, reached with GCSRequest, Place and Heartbeat messages.

// GCS request operations: the first byte of a GCSRequest payload.
const (
	gcsRegister byte = iota + 1
	gcsLeave
	gcsNodes
	gcsPutProgram
	gcsGetProgram
	gcsStatus
	gcsJoin
	gcsHeads
	gcsNodeStates
	gcsPutTasks
	gcsGetTask
	gcsDeleteJobTasks // a finished job's rows of the tasks table (heads)
)

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
		return nil, errMalformed
	}
	m, store := nw.cfg.Membership, nw.cfg.Store
	body := payload[1:]
	switch payload[0] {
	case gcsRegister:
		id, addr, total, isHead, err := decodeRegister(body)
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
	case gcsLeave:
		ss, err := decodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, errMalformed
		}
		epoch, _ := strconv.ParseUint(ss[1], 10, 64)
		return nil, m.Leave(ss[0], epoch)
	case gcsNodes:
		var ids []string
		for _, n := range m.Alive() {
			ids = append(ids, n.ID)
		}
		return reply(encodeStrings(ids...)), nil
	case gcsPutProgram:
		hash, f := store.PutProgram(body)
		if err := f.ErrorTimeout(5 * time.Second); err != nil {
			return nil, err
		}
		return reply([]byte(hash)), nil
	case gcsGetProgram:
		ss, err := decodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, errMalformed
		}
		src, err := store.GetProgram(ss[0])
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", shortHash(ss[0]), err)
		}
		return reply(src), nil
	case gcsPutTasks:
		recs, err := decodeRecords(body)
		if err != nil {
			return nil, err
		}
		return nil, store.PutTasks(recs).ErrorTimeout(10 * time.Second)
	case gcsGetTask:
		ss, err := decodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, errMalformed
		}
		rec, err := store.GetTask(ss[0])
		if err != nil {
			return nil, err
		}
		return reply(encodeRecords([]gcs.TaskRecord{rec})), nil
	case gcsDeleteJobTasks:
		return nil, deleteJobTasks(store, body)
	case gcsNodeStates:
		var ss []string
		for _, n := range m.All() {
			ss = append(ss, n.ID, n.Address, n.State, strconv.FormatUint(n.Epoch, 10))
		}
		return reply(encodeStrings(ss...)), nil
	case gcsHeads:
		return reply(encodeStrings(m.Heads()...)), nil
	case gcsJoin:
		ss, err := decodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, errMalformed
		}
		return nil, store.Join(ss[0], ss[1])
	case gcsStatus:
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

func encodeRegister(id, addr string, total map[string]float64, isHead bool) []byte {
	w := &codec.Encoder{}
	w.String(id)
	w.String(addr)
	w.FloatMap(total)
	w.Bool(isHead)
	return w.Bytes()
}

func decodeRegister(b []byte) (string, string, map[string]float64, bool, error) {
	r := codec.NewDecoder(b)
	id, addr, total, isHead := r.String(), r.String(), readResources(r), r.Bool()
	return id, addr, total, isHead, wireErr(r)
}

func encodeHeartbeat(id string, epoch uint64, st placement.NodeState, actors int) []byte {
	w := &codec.Encoder{}
	w.String(id)
	w.Uvarint(epoch)
	w.FloatMap(st.Available.Map())
	w.Uvarint(uint64(st.QueueLen))
	w.Uvarint(uint64(st.Running))
	w.Uvarint(uint64(actors))
	return w.Bytes()
}

func (nw *network) handleHeartbeat(payload []byte) error {
	if !nw.isHead() {
		return errNotHead
	}
	r := codec.NewDecoder(payload)
	id, epoch, free, queue, running, actors := r.String(), r.Uvarint(), readResources(r), r.Uvarint(), r.Uvarint(), r.Uvarint()
	if r.Err() != nil {
		return wireErr(r)
	}
	return nw.cfg.Membership.Heartbeat(id, epoch, free, int(queue), int(running), int(actors))
}

// placeRequest is one task or actor the global scheduler is asked to
// place; placeResult is its answer.
type placeRequest struct {
	Name   string
	Demand resources.Resources
	Origin string
	// ArgBytes says where the task's arguments live, for the locality
	// score: bytes by the address of the process holding them.
	ArgBytes []argBytesAt
}

// argBytesAt is how many bytes of a task's arguments the process at Addr
// holds.
type argBytesAt struct {
	Addr  string
	Bytes int64
}

// maxArgBytes bounds one argument size a Place message may carry (1 EiB):
// larger is malformed, and sums of sizes stay far from overflow.
const maxArgBytes = 1 << 60

type placeResult struct {
	Node, Addr string
	Queued     bool // no node has room now: the task waits in Node's queue
	Err        error
}

// placeBatch asks the global scheduler (on the head) where spilled tasks
// should run, all in one message.
func (nw *network) placeBatch(ctx context.Context, reqs []placeRequest) ([]placeResult, error) {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(reqs)))
	for _, r := range reqs {
		w.String(r.Name)
		w.FloatMap(r.Demand.Map())
		w.String(r.Origin)
		writeArgBytes(w, r.ArgBytes)
	}
	payload, err := nw.headCall(ctx, transport.Place, w.Bytes())
	if err != nil {
		return nil, err
	}
	r := codec.NewDecoder(payload)
	n := r.Count(3)
	if n != len(reqs) {
		return nil, errMalformed
	}
	out := make([]placeResult, n)
	for i := range out {
		out[i].Node, out[i].Addr, out[i].Queued = r.String(), r.String(), r.Bool()
		if e := r.String(); e != "" {
			out[i].Err = fmt.Errorf("%s", e)
		}
	}
	return out, wireErr(r)
}

// place asks for one placement.
func (nw *network) place(ctx context.Context, name string, demand resources.Resources, origin string) (string, string, error) {
	res, err := nw.placeBatch(ctx, []placeRequest{{Name: name, Demand: demand, Origin: origin}})
	if err != nil {
		return "", "", err
	}
	return res[0].Node, res[0].Addr, res[0].Err
}

// writeArgBytes writes where a task's arguments live: a count, then each
// address and its bytes.
func writeArgBytes(w *codec.Encoder, held []argBytesAt) {
	w.Uvarint(uint64(len(held)))
	for _, h := range held {
		w.String(h.Addr)
		w.Uvarint(uint64(h.Bytes))
	}
}

// readArgBytes reads what writeArgBytes wrote; a size above maxArgBytes
// makes the message malformed.
func readArgBytes(r *codec.Decoder) []argBytesAt {
	n := r.Count(2)
	if n == 0 {
		return nil
	}
	held := make([]argBytesAt, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		addr, size := r.String(), r.Uvarint()
		if size > maxArgBytes {
			r.Fail("an argument size over the bound")
			return nil
		}
		held = append(held, argBytesAt{Addr: addr, Bytes: int64(size)})
	}
	return held
}

func (nw *network) handlePlace(payload []byte) (*transport.Message, error) {
	if !nw.isHead() {
		return nil, errNotHead
	}
	r := codec.NewDecoder(payload)
	n := r.Count(4)
	reqs := make([]placeRequest, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		name := r.String()
		demand, err := nw.readDemand(r)
		if err != nil {
			return nil, err
		}
		origin := r.String()
		reqs = append(reqs, placeRequest{Name: name, Demand: demand, Origin: origin, ArgBytes: readArgBytes(r)})
	}
	if r.Err() != nil {
		return nil, wireErr(r)
	}
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(reqs)))
	for _, res := range nw.cfg.Membership.placeBatch(reqs) {
		w.String(res.Node)
		w.String(res.Addr)
		w.Bool(res.Queued)
		if res.Err != nil {
			w.String(res.Err.Error())
		} else {
			w.String("")
		}
	}
	return reply(w.Bytes()), nil
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
	msg, err := pool.Call(ctx, addr, transport.GCSRequest, []byte{gcsStatus})
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
	reply, err := nw.gcsCall(ctx, gcsNodes, nil)
	if err != nil {
		return []string{nw.c.Head().ID}
	}
	ids, _ := decodeStrings(reply)
	return ids
}

// readDemand reads a resource map, parsing each distinct encoding once:
// a cluster sees few distinct demands and very many requests.
func (nw *network) readDemand(r *codec.Decoder) (resources.Resources, error) {
	from := r.Offset()
	m := readResources(r)
	if r.Err() != nil {
		return resources.Resources{}, wireErr(r)
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
