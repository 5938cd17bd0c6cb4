package serve

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/valyala/fasthttp"
)

// A head serves the applications deployed on its cluster: RunHost reads
// their records from the GCS (every hostPoll), mounts each on a Mux on
// its port (listening when the first application of a port comes, closing
// when the last goes), and mounts a redeployed application in the place
// of its older version. The replicas are the detached named actors the
// deploy made; the head looks them up by name when a request first needs
// one, and makes one again when it was lost. A node does the same for
// the applications one of whose replicas it holds (or for every one, on
// the port --serve-port names).

// hostPoll is how often a head reads the applications' records.
const hostPoll = 500 * time.Millisecond

// How often a node looks whether it holds a replica of an application it
// does not serve yet (the first time holdsEvery after it first saw it),
// and how often an ingress tries again a port that was taken.
const (
	holdsEvery = reportEvery
	portRetry  = 5 * time.Second
)

// refreshWithin bounds how long a request waits for its host to read the
// records again (Mux.refresh).
const refreshWithin = 5 * time.Second

// HostOptions say how a process serves the recorded applications.
type HostOptions struct {
	// ID names the ingress in its reports (ingress.go): its node's ID.
	ID string
	// Node is set for the ingress of a node that is no head: it serves
	// the applications one of whose replicas it holds (every one with
	// Port) and reports the versions it routes, and leaves the stopping
	// of an older version's replicas to the heads.
	Node bool
	// Port, when positive, is the port the ingress serves every
	// application on, in the place of the recorded one.
	Port int
	// Poll is how often it reads the records (default hostPoll).
	Poll time.Duration
}

// host is what RunHost keeps. Its goroutine owns the maps and the
// report state; kick and the sync signal are shared with requests.
type host struct {
	c       *nodeagent.Cluster
	log     io.Writer
	opts    HostOptions
	self    string              // the host of this process's cluster address ("" embedded)
	mounted map[string]*mounted // by application name
	ports   map[string]*port    // by HOST:PORT
	// checked is when a node last looked whether it holds a replica of
	// an application it does not serve, by name.
	checked map[string]time.Time
	// taken lists the addresses whose listen failed, logged once.
	taken map[string]bool
	// failed holds, by name, the version (Deployed) of an application
	// that could not be built, logged once.
	failed map[string]int64
	// retiring counts the older versions being stopped (retire) and
	// the listeners being closed (unmountFrom).
	retiring sync.WaitGroup
	report   reporter // ingress.go
	synced   syncSignal
}

// mounted is an application a host serves, or tries to: served is false
// while its port is taken.
type mounted struct {
	rec     Record
	addr    string // HOST:PORT it listens on
	app     *App
	served  bool
	lastTry time.Time // the last listen, when not served
	// since is when it began to serve: a head scales it no sooner than
	// reportEvery after, once it has heard every other head serving it.
	since time.Time
}

// port is one HTTP listener of a head and the applications on it.
type port struct {
	mux    *Mux
	srv    *fasthttp.Server
	ln     net.Listener  // closed with srv: Shutdown misses a Serve not yet begun
	served chan struct{} // closed when Serve returns
}

// syncSignal lets a request ask the host's goroutine to sync now and wait
// until a sync that started after the request has finished.
type syncSignal struct {
	kick chan struct{} // capacity 1: a sync is wanted
	mu   sync.Mutex
	next chan struct{} // closed when the next sync to start has finished
}

// await asks for a sync and waits for one that starts after the call,
// at most within.
func (s *syncSignal) await(within time.Duration) {
	s.mu.Lock()
	done := s.next
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}

// starting is called by the host's goroutine as a sync starts: it
// returns what to call when it has finished.
func (s *syncSignal) starting() (finished func()) {
	s.mu.Lock()
	cur := s.next
	s.next = make(chan struct{})
	s.mu.Unlock()
	return func() { close(cur) }
}

// RunHost serves the cluster's applications until ctx is done, then
// stops its listeners.
func RunHost(ctx context.Context, c *nodeagent.Cluster, log io.Writer) {
	RunHostWith(ctx, c, log, HostOptions{ID: c.Head().ID})
}

// RunHostWith is RunHost as opts say: on a node that is no head, or on
// a port of its own.
func RunHostWith(ctx context.Context, c *nodeagent.Cluster, log io.Writer, opts HostOptions) {
	h := newHost(c, log, opts)
	defer h.closeAll()
	tick := time.NewTicker(h.opts.Poll)
	defer tick.Stop()
	asked := false
	for {
		finished := h.synced.starting()
		h.sync(ctx, asked)
		finished()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			asked = false
		case <-h.synced.kick:
			asked = true
		}
	}
}

// newHost is a host that serves nothing yet.
func newHost(c *nodeagent.Cluster, log io.Writer, opts HostOptions) *host {
	if opts.Poll <= 0 {
		opts.Poll = hostPoll
	}
	self, _, _ := net.SplitHostPort(c.Address())
	return &host{c: c, log: log, opts: opts, self: self, mounted: map[string]*mounted{}, ports: map[string]*port{},
		checked: map[string]time.Time{}, taken: map[string]bool{}, failed: map[string]int64{},
		synced: syncSignal{kick: make(chan struct{}, 1), next: make(chan struct{})}}
}

// sync makes what the host serves agree with the records: as a head has
// applied them, or, when a request asked for it (its replica was
// stopped: a newer record must be seen), linearizably.
func (h *host) sync(ctx context.Context, linearizable bool) {
	rows, err := readRowsAs(ctx, h.c, !linearizable)
	if err != nil {
		return // the GCS may be electing a leader: the next tick tries again
	}
	recs := rows.apps
	defer h.reportRouted(rows) // ingress.go
	for name, m := range h.mounted {
		if _, ok := recs[name]; !ok {
			h.unmount(name, m)
		}
	}
	maps.DeleteFunc(h.checked, func(name string, _ time.Time) bool { _, ok := recs[name]; return !ok })
	maps.DeleteFunc(h.failed, func(name string, _ int64) bool { _, ok := recs[name]; return !ok })
	for _, name := range SortedNames(recs) {
		rec := recs[name]
		m := h.mounted[name]
		switch {
		case m != nil && m.rec.Deployed == rec.Deployed:
			m.rec = rec // its Scaled counts may have changed
			if !m.served && time.Since(m.lastTry) >= portRetry {
				h.listen(m)
			}
		case m != nil || h.wants(rec):
			h.mount(rec)
		}
	}
	h.steerScaling(rows)
}

// steerScaling says which of the applications the host serves it
// scales (scales), gives each deployment the load the other ingresses
// reported, and makes the replica lists of the others follow their
// records (scale.go).
func (h *host) steerScaling(r rows) {
	fresh := time.Now().Add(-ingressStale).UnixNano()
	for name, m := range h.mounted {
		scales := m.served && time.Since(m.since) >= reportEvery && h.scales(name, r, fresh)
		m.app.follows.Store(!scales)
		if !scales {
			m.app.followScale(m.rec)
		}
		for route, d := range m.app.byRoute {
			var remote int64
			for id, rep := range r.ingresses {
				if id != h.opts.ID && rep.At >= fresh && rep.Routes[name] == m.rec.Deployed {
					remote += rep.Load[name][route]
				}
			}
			d.remote.Store(remote)
		}
	}
}

// scales reports whether this host scales the application named name:
// it is a head, and no other head of lesser ID reported within
// ingressStale that it serves it. (Its caller waits reportEvery after
// it began to serve, by when every other head serving it has reported
// so: two heads never scale at once.)
func (h *host) scales(name string, r rows, fresh int64) bool {
	if h.opts.Node {
		return false
	}
	for id, rep := range r.ingresses {
		if id < h.opts.ID && rep.Head && rep.At >= fresh {
			if _, ok := rep.Routes[name]; ok {
				return false
			}
		}
	}
	return true
}

// wants reports whether the host serves rec, which it does not serve
// yet: a head serves every application, a node one of whose replicas it
// holds (every one on the port of --serve-port).
func (h *host) wants(rec Record) bool {
	if !h.opts.Node || h.opts.Port > 0 {
		return true
	}
	last, seen := h.checked[rec.Name]
	if !seen || time.Since(last) < holdsEvery {
		if !seen {
			// Not at first sight: a head on this machine, which serves
			// at once, takes the port first.
			h.checked[rec.Name] = time.Now()
		}
		return false
	}
	h.checked[rec.Name] = time.Now()
	return h.holdsReplica(rec)
}

// holdsReplica reports whether a replica of rec lives on this node: one
// of the first replicas, or of those autoscaling added (up to the first
// name no actor has).
func (h *host) holdsReplica(rec Record) bool {
	if h.self == "" {
		return false
	}
	th := h.c.RequestThread("serve-" + rec.Name + ".holds") // notes no job
	for _, d := range rec.Deployments {
		for i, name := range d.names(rec.Name, rec.Version) {
			a, err := h.c.LookupActor(th, Namespace, name)
			if err == nil && h.c.LivesHere(a) {
				return true
			}
			if err != nil && i >= len(d.Replicas) {
				break
			}
		}
	}
	return false
}

// mount serves rec, in the place of an older version of it: on the same
// port when it is the same, else on its own (listen).
func (h *host) mount(rec Record) {
	addr := h.bindAddr(rec)
	old := h.mounted[rec.Name]
	app, err := attach(h.c, rec, h.log)
	if err != nil {
		// The version before, if any, goes on serving; the next sync
		// tries again (sending the program may fail for a moment).
		if h.failed[rec.Name] != rec.Deployed {
			h.failed[rec.Name] = rec.Deployed
			fmt.Fprintf(h.log, "serve: cannot serve application %s version %d yet: %v\n", rec.Name, rec.Version, err)
		}
		return
	}
	delete(h.failed, rec.Name)
	app.follows.Store(true) // until steerScaling says it scales
	app.followScale(rec)    // the replicas scaling made so far
	app.resolve()           // which replicas are local, before the first request
	m := &mounted{rec: rec, addr: addr, app: app}
	h.mounted[rec.Name] = m
	var prev *App
	if old != nil {
		prev = old.app
		prev.superseded.Store(true)
	}
	switch {
	case old != nil && old.served && old.addr == addr:
		h.serveOn(h.ports[addr], m)
	default:
		if old != nil && old.served {
			h.unmountFrom(old.addr, rec.Name)
		}
		h.listen(m)
	}
	if old != nil {
		h.retire(prev, old.rec, rec)
	}
}

// listen puts m's application on the listener of its address, listening
// now if it does not yet. When the address is taken (another process of
// the cluster on this machine serves the port, or another program) it
// says so once and leaves it: the host goes on, and tries again every
// portRetry.
func (h *host) listen(m *mounted) {
	m.lastTry = time.Now()
	p, err := h.port(m.addr)
	if err != nil {
		if !h.taken[m.addr] {
			h.taken[m.addr] = true
			fmt.Fprintf(h.log, "serve: application %s is not served by this process on %s: %v (another process serves that port on this machine, as a head or another node of the cluster does; the application's other ingresses serve it; tried again every %s)\n",
				m.rec.Name, m.addr, err, portRetry)
		}
		return
	}
	delete(h.taken, m.addr)
	h.serveOn(p, m)
}

// serveOn mounts m's application on p's mux and starts its scaling: it
// serves from now on.
func (h *host) serveOn(p *port, m *mounted) {
	p.mux.Mount(m.app)
	h.startScaling(m.app)
	m.served, m.since = true, time.Now()
	fmt.Fprintf(h.log, "serve: application %s version %d serves http://%s\n", m.rec.Name, m.rec.Version, m.addr)
}

// startScaling starts the application's autoscaling once it serves, on
// a head only: one head scales each application, on the load of every
// ingress (steerScaling), and a node's ingress follows.
func (h *host) startScaling(app *App) {
	if !h.opts.Node {
		app.startScaling()
	}
}

// bindAddr is the address the host serves rec on: its port (or the
// host's own), on its --http-host when that is a loopback address, every
// interface or an address of this machine, else on this process's own
// cluster host (the recorded host is another machine's).
func (h *host) bindAddr(rec Record) string {
	port := rec.HTTPPort
	if h.opts.Port > 0 {
		port = h.opts.Port
	}
	host := rec.HTTPHost
	if !localHost(host) && h.self != "" {
		host = h.self
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// localHost reports whether this machine can listen on host: a loopback
// or unspecified address, a name of this machine, or one of its
// interfaces' addresses.
func localHost(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return true // a name: let the listen say
	}
	own, err := nodeagent.OwnIP(ip)
	return own || err != nil // interfaces unknown: let the listen say
}

// retire stops, in the background, an older version of an application
// once the new one serves: when the requests it has taken are answered
// (or after retireWithin), its batchers stop and, on a head, once every
// ingress routes the new version (within the same bound), the replicas
// the new version does not have are killed. A request that found the old
// version just before it was replaced still finds its replicas for
// retireGrace.
func (h *host) retire(prev *App, old, now Record) {
	h.retiring.Add(1)
	go func() {
		defer h.retiring.Done()
		timer := time.NewTimer(retireGrace)
		defer timer.Stop()
		<-timer.C
		deadline := time.Now().Add(retireWithin)
		for prev.outstanding() > 0 && time.Now().Before(deadline) {
			timer.Reset(hostPoll / 5)
			<-timer.C
		}
		prev.Close()
		if h.opts.Node {
			return // the heads stop the replicas
		}
		// Every ingress must route the new version first (ingress.go).
		h.waitSwitched(now, deadline)
		keep := now.replicaNames()
		prev.stopReplicas(keep)
		StopReplicas(h.c, old, keep) // those another head made, and this one never looked up
	}()
}

// How long an older version is kept after a newer one serves: at least
// retireGrace, at most retireWithin while requests it took are running.
const (
	retireGrace  = time.Second
	retireWithin = time.Minute
)

// attach builds the application of rec on c, its replicas found by name
// when first needed.
func attach(c *nodeagent.Cluster, rec Record, log io.Writer) (*App, error) {
	prog, err := rayflow.Compile(rec.File, rec.Source, nil)
	if err != nil {
		return nil, err
	}
	app, err := newApp(c, prog, Options{Name: rec.Name, Version: rec.Version, Deployed: rec.Deployed, Params: rec.Params, Log: log})
	if err != nil {
		return nil, err
	}
	app.startBatchers() // its scalers once it takes requests (startScaling)
	return app, nil
}

func (h *host) unmount(name string, m *mounted) {
	delete(h.mounted, name)
	if m.served {
		h.unmountFrom(m.addr, name)
	}
	m.app.superseded.Store(true)
	m.app.Close()
	fmt.Fprintf(h.log, "serve: application %s is no longer served\n", name)
}

// unmountFrom takes the application named name off the port at addr and
// closes the port when it serves nothing more (RunHost waits for it
// before it returns).
func (h *host) unmountFrom(addr, name string) {
	p := h.ports[addr]
	if p == nil {
		return
	}
	if _, left := p.mux.Unmount(name); left == 0 {
		// In the background: Shutdown waits for the requests running,
		// and one may be waiting for this goroutine's sync (refresh).
		delete(h.ports, addr)
		h.retiring.Add(1)
		go func() {
			defer h.retiring.Done()
			_ = p.srv.Shutdown()
			_ = p.ln.Close() // if Serve had not begun, Shutdown left ln open
			<-p.served
		}()
	}
}

// port returns the listener at addr, listening now if it does not yet.
func (h *host) port(addr string) (*port, error) {
	if p := h.ports[addr]; p != nil {
		return p, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := NewMux()
	mux.refreshHost = func() { h.synced.await(refreshWithin) }
	p := &port{mux: mux, srv: mux.Server(), ln: ln, served: make(chan struct{})}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	h.ports[addr] = p
	return p, nil
}

func (h *host) closeAll() {
	for name, m := range h.mounted {
		h.unmount(name, m)
	}
	h.retiring.Wait()
	if !h.report.routed {
		return // it said nothing, or that it routes nothing
	}
	if r, err := readRows(h.c); err == nil {
		h.report.failed = true // say at once that it routes nothing now
		h.reportRouted(r)
	}
}
