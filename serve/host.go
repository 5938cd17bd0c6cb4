package serve

import (
	"context"
	"fmt"
	"io"
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
// one, and makes one again when it was lost.

// hostPoll is how often a head reads the applications' records.
const hostPoll = 500 * time.Millisecond

// HostOptions say how a process serves the recorded applications.
type HostOptions struct {
	// ID names the ingress in its reports (ingress.go): its node's ID.
	ID string
	// Node is set for the ingress of a node that is no head: it serves
	// the applications and reports the versions it routes, and leaves
	// the stopping of an older version's replicas to the heads.
	Node bool
	// Port, when positive, is the port the ingress serves every
	// application on, in the place of the recorded one.
	Port int
	// Poll is how often it reads the records (default hostPoll).
	Poll time.Duration
}

// host is what RunHost keeps. Its goroutine owns both maps and the
// report state.
type host struct {
	c       *nodeagent.Cluster
	log     io.Writer
	opts    HostOptions
	mounted map[string]*mounted // by application name
	ports   map[string]*port    // by HOST:PORT
	// retiring counts the older versions being stopped (retire).
	retiring sync.WaitGroup
	report   reporter // ingress.go
}

// mounted is an application a head serves, or failed to (app nil).
type mounted struct {
	rec  Record
	addr string
	app  *App
}

// port is one HTTP listener of a head and the applications on it.
type port struct {
	mux    *Mux
	srv    *fasthttp.Server
	served chan struct{} // closed when Serve returns
}

// RunHost serves the cluster's applications until ctx is done, then
// stops its listeners.
func RunHost(ctx context.Context, c *nodeagent.Cluster, log io.Writer) {
	RunHostWith(ctx, c, log, HostOptions{ID: c.Head().ID})
}

// RunHostWith is RunHost as opts say: on a node that is no head, or on
// a port of its own.
func RunHostWith(ctx context.Context, c *nodeagent.Cluster, log io.Writer, opts HostOptions) {
	if opts.Poll <= 0 {
		opts.Poll = hostPoll
	}
	h := &host{c: c, log: log, opts: opts, mounted: map[string]*mounted{}, ports: map[string]*port{}}
	defer h.closeAll()
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		h.sync()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sync makes what the head serves agree with the records.
func (h *host) sync() {
	rows, err := readRows(h.c)
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
	for _, name := range SortedNames(recs) {
		rec := recs[name]
		if m := h.mounted[name]; m != nil && m.rec.Deployed == rec.Deployed {
			continue
		}
		h.mount(rec)
	}
}

// mount serves rec, in the place of an older version of it.
func (h *host) mount(rec Record) {
	port := rec.HTTPPort
	if h.opts.Port > 0 {
		port = h.opts.Port
	}
	addr := net.JoinHostPort(rec.HTTPHost, strconv.Itoa(port))
	old := h.mounted[rec.Name]
	h.mounted[rec.Name] = &mounted{rec: rec, addr: addr}
	app, err := attach(h.c, rec, h.log)
	if err != nil {
		fmt.Fprintf(h.log, "serve: cannot serve application %s: %v\n", rec.Name, err)
		return
	}
	p, err := h.port(addr)
	if err != nil {
		app.Close()
		fmt.Fprintf(h.log, "serve: cannot serve application %s on %s: %v\n", rec.Name, addr, err)
		return
	}
	h.mounted[rec.Name].app = app
	prev := p.mux.Mount(app)
	if old != nil && old.app != nil && old.addr != addr {
		prev, _ = h.unmountFrom(old.addr, rec.Name)
	}
	if prev != nil {
		h.retire(prev, old.rec, rec)
	}
	fmt.Fprintf(h.log, "serve: application %s version %d serves http://%s\n", rec.Name, rec.Version, addr)
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
	app.start()
	return app, nil
}

func (h *host) unmount(name string, m *mounted) {
	delete(h.mounted, name)
	if m.app == nil {
		return
	}
	if app, _ := h.unmountFrom(m.addr, name); app != nil {
		app.Close()
	}
	fmt.Fprintf(h.log, "serve: application %s is no longer served\n", name)
}

// unmountFrom takes the application off the port at addr and returns it
// (nil if it was not there) and closes the port when it serves nothing
// more.
func (h *host) unmountFrom(addr, name string) (*App, bool) {
	p := h.ports[addr]
	if p == nil {
		return nil, false
	}
	app, left := p.mux.Unmount(name)
	if left == 0 {
		delete(h.ports, addr)
		_ = p.srv.Shutdown()
		<-p.served
	}
	return app, left == 0
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
	p := &port{mux: mux, srv: mux.Server(), served: make(chan struct{})}
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
	if r, err := readRows(h.c); err == nil {
		h.report.failed = true // say at once that it routes nothing now
		h.reportRouted(r)
	}
}
