package nodeagent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The network half of a node agent.
//
// Every rayflow process in a cluster (the head, each node, each driver)
// runs one transport server and one connection pool. A task placed on
// another node is sent there with SubmitTask; the node runs it and sends
// TaskDone back to the task's owner (the process that called it): the
// value inline when it is small, otherwise where to fetch it. Objects
// move only when someone needs them, fetched with FetchObject from the
// node that holds them, as a stream. The head also answers Place (the
// global scheduler), Heartbeat, and GCSRequest (membership, programs,
// status), backed by its Membership and GCS.

// NetConfig says how this process joins a cluster.
type NetConfig struct {
	Listen string   // address to serve on; "127.0.0.1:0" picks a port
	Heads  []string // addresses of heads to join; more are learnt from them
	// Store and Membership are the head's; nil elsewhere.
	Store      *gcs.Store
	Membership *head.Membership
	// Driver marks a process that runs a pipeline's driver but offers no
	// resources: it does not register as a node.
	Driver bool
	// FixedHeads keeps to the heads given: the addresses the heads report
	// for each other are not used (for a node that reaches the heads
	// through a proxy or a NAT, where those addresses do not work).
	FixedHeads bool
	// HeartbeatEvery is how often a node reports to the head (500 ms).
	HeartbeatEvery time.Duration
}

// network is a process's connection to the cluster.
type network struct {
	c *Cluster
	// home is the driver's home node (homeNode), found once.
	home struct {
		once sync.Once
		id   string
	}
	cfg    NetConfig
	server *transport.Server
	pool   *transport.Pool
	addr   string
	hc     *headclient.Client // the heads, and this node's registration with them

	programs programCache        // the programs this process compiled, by hash
	workdirs workDirs            // the jobs' working directories, shared or fetched (workdir.go)
	hosted   *actorhost.Registry // actors living here that other processes call
	names    netNames            // named actors: a head's table, the handles held (named_net.go)

	mu     sync.Mutex
	served map[string]*objstore.Object // objects other processes may fetch from here
	jobs   map[string]bool             // jobs this process drives, released when it leaves (net_release.go)
	leases jobLeases                   // on a head: the leases of the jobs drivers renew here (net_jobs.go)
	dials  dialPolicy                  // the addresses the heads vouched for, refusals (dialpolicy.go)

	// borrows are the futures lent to this process's tasks (borrow.go),
	// guarded by their own lock.
	borrows borrows

	view      localView // the cluster as a head last reported it, for bottom-up placement (view.go)
	spillCh   chan spillItem
	spillDone chan struct{}
	cuts      sync.Map             // *exec.TaskCall (a unit's first call) -> *unitCut (place_units.go)
	ow        *owner.Owner         // what this process owns as the caller of work elsewhere
	live      *headclient.Liveness // which nodes the heads hold dead
	watchDone chan struct{}
	svc       *head.Service // the head's services; nil on other processes
	// events is, on a head, the task events the processes reported
	// (events.go); nil elsewhere.
	events *taskevents.Table
	// reporting is set while a report of this process's events is under
	// way (reportTick).
	reporting atomic.Bool
	peersMu   sync.Mutex
	peers     map[*transport.Peer]bool // processes connected here, told of membership changes
	poke      chan struct{}            // wakes the dead-node watcher
	fetches   atomic.Int64             // objects this process fetched from others
	groupsIn  atomic.Int64             // groups of calls other processes sent here
	// groupMsgs counts the groups that came whole in one message
	// (wire.GroupSubmit, group_submit.go).
	groupMsgs atomic.Int64
	// looseTasks counts the tasks that came in loose frames (wire.GroupSubmit
	// with Loose, group_submit.go).
	looseTasks atomic.Int64
	// fusedRuns counts the groups run here as one task (group_fused.go).
	fusedRuns atomic.Int64
	// doneLists counts the TaskDoneList messages received: the results
	// of groups this process sent elsewhere.
	doneLists atomic.Int64
	// injectPanic makes the heartbeat loop and the dead-node watcher
	// panic at their next turn while set: the fault tests of their
	// recovery (safe.Survive) set it.
	injectPanic atomic.Bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (c *Cluster) startNetwork(cfg NetConfig) error {
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = 500 * time.Millisecond
	}
	nw := &network{c: c, cfg: cfg,
		served: map[string]*objstore.Object{}, hosted: actorhost.NewRegistry(),
		spillCh: make(chan spillItem, maxSpillBatch), spillDone: make(chan struct{}),
		live: headclient.NewLiveness(), watchDone: make(chan struct{}),
		peers: map[*transport.Peer]bool{}, poke: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	nw.ow = owner.New(ownerNet{nw})
	if c.cfg.KeepResults {
		nw.ow.KeepResults()
	}
	if cfg.Membership != nil {
		nw.svc = head.NewService(cfg.Store, cfg.Membership)
		nw.events = taskevents.NewTable(jobEventLimit())
	}
	opts := transport.Options{NodeID: c.Head().ID, OnPush: nw.onPush, Token: c.cfg.Token, TLS: c.cfg.TLS}
	srvOpts := opts
	opts.MayDial = nw.mayDial // only member addresses are dialled (dialpolicy.go)
	if nw.isHead() {
		srvOpts.OnHello = nw.rememberPeer // only heads push membership changes
	}
	srv, err := transport.Listen(cfg.Listen, transport.HandlerFunc(nw.serveCoded), srvOpts)
	if err != nil {
		return err
	}
	nw.server, nw.addr, nw.pool = srv, advertised(srv.Addr(), cfg.Heads), transport.NewPool(opts)
	hcOpts := headclient.Options{Pool: nw.pool, Self: nw.addr, Heads: cfg.Heads, Fixed: cfg.FixedHeads}
	if nw.isHead() {
		hcOpts.Local = nw
		cfg.Membership.SetOnChange(nw.pushMembershipChange)
	}
	nw.hc = headclient.New(hcOpts)
	nw.workdirs.init(nw.pool, nodeDataDir(c.cfg.DataDir, c.Head().ID))
	c.net, c.scope = nw, nw
	if err := nw.join(); err != nil {
		// The loops have not started: stop only what has.
		nw.server.Close()
		nw.pool.Close()
		c.net, c.scope = nil, localScope{c}
		return err
	}
	nw.refreshView()
	go nw.heartbeatLoop()
	go nw.spillLoop()
	go nw.watchLoop()
	go nw.spillbackLoop()
	return nil
}

// Address is where this process serves the cluster protocol.
func (c *Cluster) Address() string { return c.scope.address() }

func (nw *network) address() string { return nw.addr }

func (nw *network) isHead() bool { return nw.svc != nil }

// join registers this process's node with the heads; a driver, which is
// no node, only checks that a head answers it.
func (nw *network) join() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if nw.cfg.Driver {
		// A driver registers nothing, but finds out now, not at its
		// first task, that no head answers or that they refuse it.
		if _, err := nw.hc.GCS(ctx, wire.GCSNodes, nil); err != nil {
			return fmt.Errorf("cannot reach the cluster at %s: %w", strings.Join(nw.cfg.Heads, ","), transport.Plain(err))
		}
		return nil
	}
	nw.hc.Discover(ctx)
	if err := nw.registerEverywhere(ctx); err != nil {
		return fmt.Errorf("cannot join the cluster at %s: %w", strings.Join(nw.cfg.Heads, ","), err)
	}
	return nil
}

// heartbeatLoop reports this node's free resources and load to the
// heads, renews the leases of the jobs this process drives, and, on a
// head, ends the jobs whose driver stopped renewing them and deletes the
// programs no job has used for head.ProgramRetention.
// A panic in it is logged and the loop started again.
func (nw *network) heartbeatLoop() {
	defer safe.Survive("the heartbeat loop", nw.stop, nw.heartbeatLoop, nw.done)
	tick := time.NewTicker(nw.cfg.HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-nw.stop:
			return
		case <-nw.c.events.HalfFull():
			nw.reportTick() // events.go: early, rather than drop
		case <-tick.C:
			if !nw.cfg.Driver { // a driver is no node
				nw.heartbeatAll()
			}
			nw.refreshView()                         // view.go
			nw.renewJobLeases(nw.cfg.HeartbeatEvery) // net_jobs.go
			nw.reportTick()                          // events.go
			nw.endSilentJobs()
			nw.c.marks.prune(time.Now()) // cancel.go
			if nw.svc != nil {
				nw.useDetachedPrograms()         // named_net.go
				nw.svc.SweepPrograms(time.Now()) // programs no job used for a while
			}
		}
	}
}

// close leaves the cluster and stops serving. A second call waits until
// the first is over: a driver stopped by a signal leaves from the
// signal's goroutine while its main goroutine returns, and the process
// must not exit before its jobs are released.
func (nw *network) close() { nw.closeOnce.Do(nw.leave) }

// leave is close, once.
func (nw *network) leave() {
	close(nw.stop)
	<-nw.done
	<-nw.spillDone
	<-nw.watchDone
	// The jobs first: an actor stopped before them gave its resources
	// back to their queued tasks, which started.
	nw.releaseJobs(append(nw.takeJobs(), nw.c.reuse.earlier()...))
	nw.ow.StopCreatedActors()
	nw.workdirs.close()
	if !nw.cfg.Driver {
		nw.leaveAll()
	}
	nw.server.Close()
	nw.pool.Close()
}

// leaveAll tells every head this node is leaving, so it is marked dead at
// once rather than after its heartbeats stop: all at once, for a second
// at most (a head that is down, a quarter of one).
func (nw *network) leaveAll() {
	id := nw.c.Head().ID
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	nw.hc.Broadcast(ctx, transport.GCSRequest, func(addr string) []byte {
		return append([]byte{wire.GCSLeave}, wire.EncodeStrings(id, fmt.Sprint(nw.hc.Epoch(addr)))...)
	}, func(addr string) bool { return nw.hc.Epoch(addr) == 0 || addr == nw.addr })
}

// serve dispatches one incoming message.
func (nw *network) serve(ctx context.Context, peer *transport.Peer, req *transport.Message) (*transport.Message, error) {
	switch req.Type {
	case transport.SubmitTask:
		return nil, nw.handleSubmitBatch(req.Payload)
	case transport.TaskDone:
		return nil, nw.ow.HandleDone(req.Payload)
	case transport.TaskDoneList:
		nw.doneLists.Add(1)
		return nil, nw.ow.HandleDoneList(req.Payload)
	case transport.FetchObject:
		return nw.handleFetch(ctx, req.Payload)
	case transport.Cancel:
		return nil, nw.handleCancel(req.Payload)
	case transport.Place:
		return nw.handlePlace(req.Payload)
	case transport.Heartbeat:
		return nil, nw.handleHeartbeat(peer.NodeID, req.Payload)
	case transport.GCSRequest:
		return nw.handleGCS(peer.NodeID, req.Payload)
	case transport.Query:
		return nw.handleQuery(ctx, req.Payload)
	case transport.Output:
		line := string(req.Payload)
		if nw.c.cfg.SafeOutput {
			line = stripControls(line)
		}
		nw.c.print(nil, line)
		return nil, nil
	}
	return nil, fmt.Errorf("message type %s is not served here", req.Type)
}

// rememberPeer keeps each process that connects, to tell it when the
// cluster's membership changes, until its connection ends.
func (nw *network) rememberPeer(p *transport.Peer) error {
	nw.peersMu.Lock()
	nw.peers[p] = true
	nw.peersMu.Unlock()
	go func() {
		select {
		case <-p.Done():
		case <-nw.stop:
		}
		nw.peersMu.Lock()
		delete(nw.peers, p)
		nw.peersMu.Unlock()
	}()
	return nil
}

// pushMembershipChange tells every connected process that a node died,
// left or came back, so that it recovers at once instead of waiting for
// its next look at the heads.
func (nw *network) pushMembershipChange() {
	nw.peersMu.Lock()
	peers := make([]*transport.Peer, 0, len(nw.peers))
	for p := range nw.peers {
		peers = append(peers, p)
	}
	nw.peersMu.Unlock()
	for _, p := range peers {
		if err := p.Send(transport.Heartbeat, nil); err != nil {
			nw.peersMu.Lock()
			delete(nw.peers, p)
			nw.peersMu.Unlock()
		}
	}
	nw.pokeWatcher() // this process, too
}

// onPush receives what a head pushes: a membership change.
func (nw *network) onPush(msg *transport.Message) {
	if msg.Type == transport.Heartbeat {
		nw.pokeWatcher()
	}
}

func (nw *network) pokeWatcher() {
	select {
	case nw.poke <- struct{}{}:
	default:
	}
}
