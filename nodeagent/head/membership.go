package head

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Membership is the head's view of the cluster's nodes: who registered,
// their latest heartbeat (free resources, queue length), and who is dead.
// It writes every change to the GCS nodes table, and it is what the
// global scheduler places tasks against: a placement.Planner holds what
// the scheduler knows of each node (its latest heartbeat, less what was
// placed there since), so a placement and its reservation are one step
// under the membership's lock, and two placements never take the same
// free slot.
//
// A node that sends no heartbeat for DeadAfter is marked dead. Each
// registration gets a new epoch; heartbeats carrying an older epoch are
// refused, so a node that was declared dead cannot come back with stale
// state: it must register again, as a new member.
type Membership struct {
	store     *gcs.Store
	deadAfter time.Duration

	mu      sync.Mutex
	members map[string]*member
	// planner is the global scheduler's view of the members: each one's
	// latest report plus the reservations made on it since (placement
	// reserves, a heartbeat releases). Only Register, Heartbeat, Leave,
	// the monitor and the placements touch it, all under mu.
	planner *placement.Planner
	// byAddr maps a process address to the node registered there last, to
	// key argument locations (addresses) by node for the locality score.
	byAddr map[string]string
	// onChange, when set (SetOnChange), is called (on its own goroutine) after a node
	// is declared dead, leaves, or registers again: the head pushes the
	// news to the processes connected to it.
	onChange func()
	epoch    uint64
	stop     chan struct{}
	done     chan struct{}
}

// member is the membership's record of one node; what the global
// scheduler needs of it (free resources, queue, running tasks) is in the
// planner.
type member struct {
	info     gcs.NodeInfo
	total    resources.Resources
	lastSeen time.Time
	deadAt   time.Time // when it was declared dead; zero while alive
	// What the node's latest heartbeat said it holds: its own account,
	// which status shows (the planner's view adds reservations that a
	// spillback round may make and not use).
	actors, queued, running int
}

// state is the member as its latest report describes it.
func (mem *member) state(free resources.Resources, queueLen, running int) placement.NodeState {
	return placement.NodeState{ID: mem.info.ID, Alive: mem.info.State == gcs.NodeAlive,
		Total: mem.total, Available: free, QueueLen: queueLen, Running: running}
}

// DefaultDeadAfter is the silence after which a node is declared dead.
// With heartbeats every 500 ms and the monitor checking every
// DeadAfter/16, a node that stops is marked dead within 5 s.
const DefaultDeadAfter = 4 * time.Second

// DefaultRemoveDeadHeadAfter is how long a head's GCS replica may be
// unreachable before the other heads remove it from the GCS (rayflow
// start --remove-dead-head-after): long enough for a restart, short
// enough that a cluster of three that lost one head soon survives the
// loss of another again once a new head has joined.
const DefaultRemoveDeadHeadAfter = 30 * time.Second

// DeadRetention is how long a dead member stays listed (as dead, in
// status) before the head forgets it, and MaxDeadMembers how many dead
// members it lists at most: past either, the longest dead are forgotten
// (their GCS node rows deleted too), so that members that come and go, or
// a peer registering made-up nodes, cannot grow the table without end. A
// forgotten node that comes back registers again, as after a restart.
const (
	DeadRetention  = 10 * time.Minute
	MaxDeadMembers = 1000
)

// ErrStaleEpoch is returned for a heartbeat from a node's earlier life.
var ErrStaleEpoch = errors.New("stale node epoch: the node was declared dead and must register again")

// ErrUnknownNode is returned for a heartbeat from a node that never
// registered (or was forgotten).
var ErrUnknownNode = errors.New("unknown node: register first")

// NewMembership starts the membership table and its dead-node monitor.
func NewMembership(store *gcs.Store, deadAfter time.Duration) *Membership {
	if deadAfter <= 0 {
		deadAfter = DefaultDeadAfter
	}
	m := &Membership{store: store, deadAfter: deadAfter, members: map[string]*member{},
		planner: placement.NewPlanner(nil), byAddr: map[string]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.monitor()
	return m
}

// DeadAfter is the silence after which a node is declared dead.
func (m *Membership) DeadAfter() time.Duration { return m.deadAfter }

// Close stops the monitor.
func (m *Membership) Close() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
}

// ErrDuplicateNode is returned (wrapped, with the IDs and addresses) when
// a node registers under the ID of another node that is alive.
var ErrDuplicateNode = errors.New("node ID already in use")

// Register adds a node (or re-adds one after a restart) and returns its
// epoch. An ID held by an alive node at another address is refused: the
// newcomer would replace the original in status and scheduling while it
// still runs. A node that restarts at the same address, or after its
// earlier life was declared dead, registers again.
func (m *Membership) Register(id, address string, total map[string]float64, isHead bool) (uint64, error) {
	if err := CheckNodeID(id); err != nil {
		return 0, err
	}
	if err := checkNodeAddress(address); err != nil {
		return 0, fmt.Errorf("node %s: %w", id, err)
	}
	res, err := resources.FromMap(total)
	if err != nil {
		return 0, fmt.Errorf("node %s: %v", id, err)
	}
	m.mu.Lock()
	if old, ok := m.members[id]; ok && old.info.Address != address && m.aliveLocked(old, time.Now()) {
		m.mu.Unlock()
		return 0, fmt.Errorf("%w: node %q is alive at %s; give this node another --node-id (or stop that one first)", ErrDuplicateNode, id, old.info.Address)
	}
	m.epoch++
	epoch := m.epoch
	mem := &member{total: res, lastSeen: time.Now(), info: gcs.NodeInfo{
		ID: id, Address: address, State: gcs.NodeAlive, Epoch: epoch,
		ResourcesTotal: res.Map(), ResourcesAvailable: res.Map(), LastHeartbeat: time.Now().UnixNano()}}
	if isHead {
		mem.info.Labels = map[string]string{"role": "head"}
	}
	_, again := m.members[id]
	m.members[id] = mem
	m.byAddr[address] = id
	m.planner.Report(mem.state(res, 0, 0))
	info := mem.info
	m.mu.Unlock()
	if again {
		m.changed() // a restarted node: what its earlier life held is gone
	}
	// Only the GCS leader writes the row (LeaderOnly: a follower head's
	// table is its own view, filled by the nodes' heartbeats, and is not
	// forwarded).
	m.store.PutNode(info, gcs.LeaderOnly)
	return epoch, nil
}

// CheckNodeID refuses a node ID that is empty, longer than 64 bytes, or
// has characters other than letters, digits, '.', '_' and '-' (an ID is
// shown in tables, logs and error messages, and names directories).
func CheckNodeID(id string) error {
	ok := id != "" && len(id) <= 64 && id[0] != '.' && id[0] != '-'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("node ID %q is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// checkNodeAddress refuses an address other processes could not dial:
// not HOST:PORT, an empty or unspecified host, a port out of range.
func checkNodeAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q is not HOST:PORT", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("address %q has no valid port", addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("address %q names no host others can reach", addr)
	}
	return nil
}

// CheckAddress refuses an address other processes could not dial (see
// checkNodeAddress): a driver's, declared with its job leases.
func CheckAddress(addr string) error { return checkNodeAddress(addr) }

// HasAddress reports whether a member (a node or a head, alive or not yet
// forgotten) was registered at addr: the processes of the cluster dial
// members' addresses (nodeagent's dialpolicy.go).
func (m *Membership) HasAddress(addr string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byAddr[addr]
	return ok
}

// aliveLocked reports whether a member counts as alive now: not
// declared dead, and heard from within the dead timeout.
func (m *Membership) aliveLocked(mem *member, now time.Time) bool {
	return mem.info.State == gcs.NodeAlive && now.Sub(mem.lastSeen) <= m.deadAfter
}

// Heads lists the addresses of the alive heads: those registered here
// and those the GCS nodes table knows.
func (m *Membership) Heads() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n gcs.NodeInfo) {
		if n.Labels["role"] == "head" && n.State == gcs.NodeAlive && !seen[n.Address] {
			seen[n.Address] = true
			out = append(out, n.Address)
		}
	}
	for _, n := range m.Alive() {
		add(n)
	}
	if stored, err := m.store.ListNodes(); err == nil {
		for _, n := range stored {
			add(n)
		}
	}
	return out
}

// AddressOf returns the address of node id as this head knows it (its
// membership, else the GCS nodes table), or "".
func (m *Membership) AddressOf(id string) string {
	m.mu.Lock()
	mem, ok := m.members[id]
	addr := ""
	if ok {
		addr = mem.info.Address
	}
	m.mu.Unlock()
	if ok {
		return addr
	}
	if n, err := m.store.GetNode(id); err == nil {
		return n.Address
	}
	return ""
}

// Heartbeat records a node's latest free resources and load.
func (m *Membership) Heartbeat(id string, epoch uint64, free map[string]float64, queueLen, running, actors int) error {
	// A node can hold more than it has (actors placed on it by two heads'
	// stale views, or an actor recreated where an earlier incarnation
	// still runs), so its free resources can be negative. That is "none
	// free", not a bad heartbeat: refusing it made a busy, healthy node
	// look silent and be declared dead, for good (found by the chaos
	// test: "invalid cpu value -1").
	var clamped map[string]float64
	for name, v := range free {
		if v < 0 {
			if clamped == nil {
				clamped = make(map[string]float64, len(free))
				for k, x := range free {
					clamped[k] = x
				}
			}
			clamped[name] = 0
		}
	}
	if clamped != nil {
		free = clamped
	}
	res, err := resources.FromMap(free)
	if err != nil {
		return err
	}
	m.mu.Lock()
	mem, ok := m.members[id]
	switch {
	case !ok:
		m.mu.Unlock()
		return ErrUnknownNode
	case mem.info.Epoch != epoch || mem.info.State == gcs.NodeDead:
		m.mu.Unlock()
		return ErrStaleEpoch
	}
	mem.actors, mem.queued, mem.running, mem.lastSeen = actors, queueLen, running, time.Now()
	m.planner.Report(mem.state(res, queueLen, running)) // releases what was reserved on it
	mem.info.ResourcesAvailable = res.Map()
	mem.info.QueueLen = queueLen
	mem.info.LastHeartbeat = mem.lastSeen.UnixNano()
	info := mem.info
	m.mu.Unlock()
	m.store.PutNode(info, gcs.LeaderOnly) // asynchronous: status readers see it shortly
	return nil
}

// MakeHead labels member id a head (its GCS replica was found after it
// registered).
func (m *Membership) MakeHead(id string) {
	m.mu.Lock()
	mem, ok := m.members[id]
	if !ok || mem.info.Labels["role"] == "head" {
		m.mu.Unlock()
		return
	}
	mem.info.Labels = map[string]string{"role": "head"}
	info := mem.info
	m.mu.Unlock()
	m.store.PutNode(info, gcs.LeaderOnly)
}

// Leave marks a node dead at once (a clean shutdown).
func (m *Membership) Leave(id string, epoch uint64) error {
	m.mu.Lock()
	mem, ok := m.members[id]
	if !ok || mem.info.Epoch != epoch {
		m.mu.Unlock()
		return ErrStaleEpoch
	}
	m.markDeadLocked(mem)
	info := mem.info
	m.mu.Unlock()
	m.store.PutNode(info, gcs.LeaderOnly)
	m.changed()
	return nil
}

// monitor declares silent nodes dead until Close. A panic in it is
// logged and the monitor started again.
func (m *Membership) monitor() {
	defer safe.Survive("the membership monitor", m.stop, m.monitor, m.done)
	tick := time.NewTicker(m.deadAfter / 16)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-tick.C:
			m.markSilentDead(now)
		}
	}
}

// markSilentDead declares dead every alive node not heard from for
// deadAfter.
func (m *Membership) markSilentDead(now time.Time) {
	dead := m.silentSince(now)
	for _, info := range dead {
		m.store.PutNode(info, gcs.LeaderOnly)
	}
	if len(dead) > 0 {
		m.changed()
	}
	for _, id := range m.forgetDead(now) {
		m.store.DeleteNode(id, gcs.LeaderOnly)
	}
}

// forgetDead removes the members dead for longer than DeadRetention and,
// past MaxDeadMembers dead ones, the longest dead; it returns their IDs.
func (m *Membership) forgetDead(now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dead []*member
	for _, mem := range m.members {
		if mem.info.State == gcs.NodeDead {
			dead = append(dead, mem)
		}
	}
	sort.Slice(dead, func(i, j int) bool { return dead[i].deadAt.Before(dead[j].deadAt) })
	gone := map[string]bool{}
	var ids []string
	for i, mem := range dead {
		if len(dead)-i <= MaxDeadMembers && now.Sub(mem.deadAt) <= DeadRetention {
			break
		}
		id := mem.info.ID
		gone[id] = true
		ids = append(ids, id)
		delete(m.members, id)
		if m.byAddr[mem.info.Address] == id {
			delete(m.byAddr, mem.info.Address)
		}
	}
	if len(gone) > 0 {
		m.planner.Remove(gone)
	}
	return ids
}

// silentSince marks dead the alive members last heard from before
// now-deadAfter and returns them. The lock is released even if it
// panics, so the monitor can be restarted.
func (m *Membership) silentSince(now time.Time) []gcs.NodeInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dead []gcs.NodeInfo
	for _, mem := range m.members {
		if mem.info.State == gcs.NodeAlive && now.Sub(mem.lastSeen) > m.deadAfter {
			m.markDeadLocked(mem)
			dead = append(dead, mem.info)
		}
	}
	return dead
}

// markDeadLocked declares a member dead, here and in the planner, which
// then places nothing on it. A dead node offers nothing and holds
// nothing: its last report (free CPUs, queue, actors) is dropped, so
// status shows it empty rather than as it was.
func (m *Membership) markDeadLocked(mem *member) {
	mem.info.State = gcs.NodeDead
	mem.deadAt = time.Now()
	mem.info.ResourcesAvailable = map[string]float64{}
	mem.info.QueueLen = 0
	mem.actors, mem.queued, mem.running = 0, 0, 0
	if st, ok := m.planner.Node(mem.info.ID); ok {
		st.Alive = false
		st.Available, st.QueueLen, st.Running = resources.Resources{}, 0, 0
		m.planner.Report(st)
	}
}

func (m *Membership) changed() {
	m.mu.Lock()
	f := m.onChange
	m.mu.Unlock()
	if f != nil {
		go func() {
			defer safe.Survive("the membership change callback", nil, nil, nil)
			f()
		}()
	}
}

// Alive lists the alive members, sorted by ID.
func (m *Membership) Alive() []gcs.NodeInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gcs.NodeInfo
	for _, mem := range m.members {
		if mem.info.State == gcs.NodeAlive {
			out = append(out, mem.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// All lists every member the head knows, alive or dead, sorted by ID.
func (m *Membership) All() []gcs.NodeInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]gcs.NodeInfo, 0, len(m.members))
	for _, mem := range m.members {
		out = append(out, mem.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Snapshot is a copy of the global scheduler's view, sorted by node ID:
// every member's latest report, less what was placed on it since.
func (m *Membership) Snapshot() *placement.Snapshot {
	m.mu.Lock()
	nodes := append([]placement.NodeState(nil), m.planner.Snapshot().Nodes...)
	m.mu.Unlock()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	return &placement.Snapshot{Nodes: nodes}
}

// View is the global scheduler's view of the alive nodes with their
// addresses, for the local views of the processes (wire.GCSView): what
// each has, and what the scheduler holds free on it now.
func (m *Membership) View() []wire.ViewNode {
	m.mu.Lock()
	defer m.mu.Unlock()
	nodes := m.planner.Snapshot().Nodes
	out := make([]wire.ViewNode, 0, len(nodes))
	for _, n := range nodes {
		mem := m.members[n.ID]
		if !n.Alive || mem == nil || mem.info.State != gcs.NodeAlive {
			continue
		}
		out = append(out, wire.ViewNode{ID: n.ID, Addr: mem.info.Address, Total: n.Total.Map(),
			Available: n.Available.Map(), QueueLen: n.QueueLen})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Place runs the global scheduler for one request and reserves what it
// placed until the node's next heartbeat replaces the reservation with
// the node's own account, so a burst of spilled tasks is spread rather
// than piled on one node. It returns the decision and the chosen node's
// address.
func (m *Membership) Place(req placement.Request) (placement.Decision, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.placeLocked(req)
}

// PlaceBatch places spilled tasks in order, as one step: no other
// placement or heartbeat comes between them. Their argument locations,
// process addresses, become the planner's bytes by node, and a
// placement hint's preferred address the node registered there (none
// when no node is: the hint is then ignored).
func (m *Membership) PlaceBatch(reqs []wire.PlaceRequest) []wire.PlaceResult {
	out := make([]wire.PlaceResult, len(reqs))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range reqs {
		d, addr, err := m.placeLocked(placement.Request{TaskID: r.Name, Demand: r.Demand, Origin: r.Origin,
			ArgBytes: m.argBytesLocked(r.ArgBytes), Prefer: m.byAddr[r.Prefer], Spread: r.Spread})
		out[i] = wire.PlaceResult{Node: d.Node, Addr: addr, Queued: d.Queued, Err: err}
	}
	return out
}

func (m *Membership) placeLocked(req placement.Request) (placement.Decision, string, error) {
	d, err := m.planner.Place(req)
	if err != nil {
		return d, "", err
	}
	return d, m.members[d.Node].info.Address, nil
}

// argBytesLocked keys argument bytes by the node registered at each
// address; bytes held by a process that is not a node (a driver) are
// left out, as no task can run there.
func (m *Membership) argBytesLocked(held []wire.ArgBytesAt) map[string]int64 {
	if len(held) == 0 {
		return nil
	}
	byNode := make(map[string]int64, len(held))
	for _, h := range held {
		if id, ok := m.byAddr[h.Addr]; ok && h.Bytes > 0 {
			byNode[id] = resources.SatAdd(byNode[id], h.Bytes)
		}
	}
	return byNode
}

// SetOnChange sets the function called after each membership change.
func (m *Membership) SetOnChange(f func()) {
	m.mu.Lock()
	m.onChange = f
	m.mu.Unlock()
}

// Load is what a node's latest heartbeat said it holds; zero for a dead
// node.
type Load struct{ Queued, Running, Actors int }

// Loads reports each member's Load, as status shows it: the nodes' own
// accounts, not the global scheduler's reservations.
func (m *Membership) Loads() map[string]Load {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Load, len(m.members))
	for id, mem := range m.members {
		out[id] = Load{Queued: mem.queued, Running: mem.running, Actors: mem.actors}
	}
	return out
}
