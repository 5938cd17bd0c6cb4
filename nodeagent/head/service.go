package head

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// MaxProgramBytes bounds a program a head stores for its nodes (its
// source with its plan): 16 MiB.
const MaxProgramBytes = 16 << 20

// Service is a head's services over its GCS replica and its membership
// table: the GCS requests (membership, programs, task rows, status),
// the global scheduler's Place, and heartbeats.
type Service struct {
	store    *gcs.Store
	members  *Membership
	demands  demandCache  // parsed resource maps, for Place
	placed   atomic.Int64 // placements answered (Placed)
	programs programUse   // when each program was last used (programs.go)

	replicasMu sync.Mutex
	replicas   map[string]bool // the GCS voters last read (isReplica)
	claims     map[string]bool // nodes that said they are heads, not yet found among the voters
}

// NewService serves requests from store and members.
func NewService(store *gcs.Store, members *Membership) *Service {
	return &Service{store: store, members: members}
}

// ErrNotSender is returned (wrapped) for a membership message about
// another node than the one whose connection carried it.
var ErrNotSender = errors.New("a node speaks only for itself")

// checkSender refuses a registration, heartbeat or leave about node id
// that came from another process: from is the node ID the sender's
// authenticated connection gave at Hello (a head's own calls to itself
// carry its own ID).
func checkSender(from, id string) error {
	if from != id {
		return fmt.Errorf("%w: a message about node %q came from %q", ErrNotSender, id, from)
	}
	return nil
}

// HandleGCS serves one GCS request from the process whose authenticated
// connection gave node ID from at Hello.
func (s *Service) HandleGCS(from string, payload []byte) (*transport.Message, error) {
	if len(payload) == 0 {
		return nil, wire.ErrMalformed
	}
	m, store := s.members, s.store
	body := payload[1:]
	switch payload[0] {
	case wire.GCSRegister:
		id, addr, total, isHead, err := wire.DecodeRegister(body)
		if err != nil {
			return nil, err
		}
		if err := checkSender(from, id); err != nil {
			return nil, err
		}
		// A process is a head only if it holds a replica of the GCS:
		// anyone else saying so is registered as a plain node (and made
		// a head at a later heartbeat if its replica joins after all).
		verified := isHead && s.isReplica(id)
		epoch, err := m.Register(id, addr, total, verified)
		if err == nil {
			s.claimHead(id, isHead && !verified)
		}
		if err != nil {
			return nil, err
		}
		w := &codec.Encoder{}
		w.Uvarint(epoch)
		return transport.Reply(w.Bytes()), nil
	case wire.GCSLeave:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, wire.ErrMalformed
		}
		if err := checkSender(from, ss[0]); err != nil {
			return nil, err
		}
		epoch, _ := strconv.ParseUint(ss[1], 10, 64)
		return nil, m.Leave(ss[0], epoch)
	case wire.GCSNodes:
		var ids []string
		for _, n := range m.Alive() {
			ids = append(ids, n.ID)
		}
		return transport.Reply(wire.EncodeStrings(ids...)), nil
	case wire.GCSPutProgram:
		if len(body) > MaxProgramBytes {
			return nil, fmt.Errorf("the program is %d bytes, more than the %d a cluster stores", len(body), MaxProgramBytes)
		}
		hash, f := store.PutProgram(body)
		if err := f.ErrorTimeout(5 * time.Second); err != nil {
			return nil, err
		}
		s.UsePrograms([]string{hash})
		return transport.Reply([]byte(hash)), nil
	case wire.GCSGetProgram:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, wire.ErrMalformed
		}
		src, err := store.GetProgram(ss[0])
		if errors.Is(err, gcs.ErrNotFound) {
			// Stored through another head a moment ago, perhaps, and not
			// yet applied by this head's replica: read what the leader has.
			src, err = store.GetProgram(ss[0], gcs.Linearizable)
		}
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", gcs.ShortHash(ss[0]), err)
		}
		s.UsePrograms(ss[:1])
		return transport.Reply(src), nil
	case wire.GCSPutStats:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, wire.ErrMalformed
		}
		return nil, store.PutStats(ss[0], []byte(ss[1])).ErrorTimeout(5 * time.Second)
	case wire.GCSGetStats:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, wire.ErrMalformed
		}
		stats, err := store.GetStats(ss[0])
		if errors.Is(err, gcs.ErrNotFound) {
			return transport.Reply(nil), nil
		}
		if err != nil {
			return nil, err
		}
		return transport.Reply(stats), nil
	case wire.GCSServeApps, wire.GCSPutServeApp, wire.GCSDeleteServeApp:
		return serveAppsRequest(store, payload[0], body) // serveapps.go
	case wire.GCSPutTasks:
		recs, err := wire.DecodeRecords(body)
		if err != nil {
			return nil, err
		}
		return nil, store.PutTasks(recs).ErrorTimeout(10 * time.Second)
	case wire.GCSPutTaskBatch:
		// The store may keep the bytes: the payload is this handler's to
		// give (a request's payload belongs to its receiver, and a head's
		// own calls pass a buffer made for the call), and nothing writes
		// to it afterwards, so it needs no copy.
		return nil, store.PutTaskBatch(body).ErrorTimeout(10 * time.Second)
	case wire.GCSGetTask:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 1 {
			return nil, wire.ErrMalformed
		}
		rec, err := store.GetTask(ss[0])
		if errors.Is(err, gcs.ErrNotFound) {
			rec, err = store.GetTask(ss[0], gcs.Linearizable) // as for programs
		}
		if err != nil {
			return nil, err
		}
		return transport.Reply(wire.EncodeRecords([]gcs.TaskRecord{rec})), nil
	case wire.GCSDeleteJobTasks:
		return nil, deleteJobTasks(store, body)
	case wire.GCSDeleteTasks:
		return nil, deleteTasks(store, body)
	case wire.GCSNodeStates:
		var ss []string
		for _, n := range m.All() {
			ss = append(ss, n.ID, n.Address, n.State, strconv.FormatUint(n.Epoch, 10))
		}
		return transport.Reply(wire.EncodeStrings(ss...)), nil
	case wire.GCSView:
		return transport.Reply(wire.EncodeView(m.View())), nil
	case wire.GCSHeads:
		return transport.Reply(wire.EncodeStrings(m.Heads()...)), nil
	case wire.GCSForward:
		// Only another replica hands this one its writes: they are Raft
		// commands, which nothing else may make.
		if !s.isReplica(from) {
			return nil, fmt.Errorf("GCS forwarding from %q, which holds no GCS replica", from)
		}
		return transport.Reply(store.ServeForwarded(body)), nil
	case wire.GCSJoin:
		ss, err := wire.DecodeStrings(body)
		if err != nil || len(ss) != 2 {
			return nil, wire.ErrMalformed
		}
		return nil, store.Join(ss[0], ss[1])
	case wire.GCSStatus:
		data, err := json.Marshal(s.Status())
		if err != nil {
			return nil, err
		}
		return transport.Reply(data), nil
	}
	return nil, fmt.Errorf("unknown GCS request %d", payload[0])
}

// HandleHeartbeat records the heartbeat of node from (the node ID its
// authenticated connection gave at Hello), which must be about itself.
func (s *Service) HandleHeartbeat(from string, payload []byte) error {
	hb, err := wire.DecodeHeartbeat(payload)
	if err != nil {
		return err
	}
	if err := checkSender(from, hb.ID); err != nil {
		return err
	}
	if err := s.members.Heartbeat(hb.ID, hb.Epoch, hb.Free, hb.QueueLen, hb.Running, hb.Actors); err != nil {
		return err
	}
	if s.claimsHead(hb.ID) && s.isReplica(hb.ID) {
		s.members.MakeHead(hb.ID)
		s.claimHead(hb.ID, false)
	}
	return nil
}

// claimHead records whether node id said it is a head without holding
// a GCS replica yet (a head whose join the configuration this head read
// did not show yet).
func (s *Service) claimHead(id string, unverified bool) {
	s.replicasMu.Lock()
	defer s.replicasMu.Unlock()
	if !unverified {
		delete(s.claims, id)
		return
	}
	if s.claims == nil {
		s.claims = map[string]bool{}
	}
	s.claims[id] = true
}

// claimsHead reports whether node id said it is a head and was not
// found to hold a replica yet.
func (s *Service) claimsHead(id string) bool {
	s.replicasMu.Lock()
	defer s.replicasMu.Unlock()
	return s.claims[id]
}

// Placed is how many placements (Place requests, one per task or group)
// the service has answered.
func (s *Service) Placed() int64 { return s.placed.Load() }

func (s *Service) HandlePlace(payload []byte) (*transport.Message, error) {
	reqs, err := wire.DecodePlaceRequests(payload, s.readDemand)
	if err != nil {
		return nil, err
	}
	s.placed.Add(int64(len(reqs)))
	return transport.Reply(wire.EncodePlaceResults(s.members.PlaceBatch(reqs))), nil
}

func (s *Service) Status() Status {
	var st Status
	st.Nodes = nodeStatuses(s.members)
	store := s.store
	for i := 0; i < store.Shards(); i++ {
		leader, _ := store.Leader(i)
		servers, _ := store.ShardServers(i) // each shard its own: they change apart
		st.GCS = append(st.GCS, ShardStatus{Shard: i, Leader: leader, Replicas: servers})
	}
	return st
}

// readDemand reads a resource map, parsing each distinct encoding once:
// a cluster sees few distinct demands and very many requests.
func (s *Service) readDemand(r *codec.Decoder) (resources.Resources, error) {
	from := r.Offset()
	m := wire.ReadResources(r)
	if r.Err() != nil {
		return resources.Resources{}, wire.Err(r)
	}
	key := r.Span(from)
	if d, ok := s.demands.get(key); ok {
		return d, nil
	}
	d, err := resources.FromMap(m)
	if err != nil {
		return d, err
	}
	s.demands.put(key, d)
	return d, nil
}

// isReplica reports whether node id holds a replica of this head's GCS
// (is a voter of its shards): what makes a process a head.
func (s *Service) isReplica(id string) bool {
	if id == "" {
		return false
	}
	s.replicasMu.Lock()
	defer s.replicasMu.Unlock()
	if s.replicas[id] {
		return true // a replica removed since is still a head that holds the token
	}
	// Not known: read the configuration again (a head that joined since).
	servers, err := s.store.Servers()
	if err != nil {
		return false
	}
	s.replicas = make(map[string]bool, len(servers))
	for _, srv := range servers {
		s.replicas[srv] = true
	}
	return s.replicas[id]
}

// deleteJobTasks serves wire.GCSDeleteJobTasks on a head: it deletes the named
// jobs' task rows on every GCS shard (through the shards' leaders when
// this head forwards writes; else on the shards it leads).
func deleteJobTasks(store *gcs.Store, body []byte) error {
	jobs, err := wire.DecodeStrings(body)
	if err != nil {
		return wire.ErrMalformed
	}
	futures := make([]*gcs.Future, 0, len(jobs))
	for _, j := range jobs {
		futures = append(futures, store.DeleteJobTasks(j))
	}
	var errs []error
	for _, f := range futures {
		// Shards another head leads refuse: that head deletes there. The
		// wait stays within the driver's releaseTimeout.
		if err := f.ErrorTimeout(2 * time.Second); err != nil && !errors.Is(err, gcs.ErrNotLeader) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteTasks serves wire.GCSDeleteTasks on a head: it deletes the named
// tasks' rows on the GCS shards it leads (or through their leaders when
// this head forwards writes); every head is asked, so together they
// cover all shards.
func deleteTasks(store *gcs.Store, body []byte) error {
	ids, err := wire.DecodeStrings(body)
	if err != nil {
		return wire.ErrMalformed
	}
	if err := store.DeleteTasks(ids).ErrorTimeout(2 * time.Second); err != nil && !errors.Is(err, gcs.ErrNotLeader) {
		return err
	}
	return nil
}
