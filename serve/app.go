package serve

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

// Namespace is the namespace of the replicas' names.
const Namespace = "serve"

// Options say how to deploy an application.
type Options struct {
	// Name names the application; its replicas' names derive from it.
	// Default "app".
	Name string
	// Version is the application's version on its cluster: 1 for its
	// first deploy, one more for each redeploy. Its replicas' names hold
	// it, so that a new version's replicas start beside the old ones.
	// Default 1.
	Version int
	// Deployed stamps the version's record (Record.Deployed); the
	// ingress sends it on each answer (X-Rayflow-Deployed) so that a
	// deploy sees when it is served. 0 on no cluster.
	Deployed int64
	// Params are the NAME=VALUE words of the command line: each served
	// actor is constructed with those of its parameters they name
	// (the others take their defaults).
	Params map[string]string
	// Log, when set, receives one line per replica replaced.
	Log io.Writer
	// Timeout bounds how long a request waits for its method's result
	// (default DefaultTimeout).
	Timeout time.Duration
}

// DefaultTimeout is how long a request waits for its result by default.
const DefaultTimeout = time.Minute

// App is an application: its deployments by route.
type App struct {
	cluster   *nodeagent.Cluster
	name      string
	version   int
	stamp     int64  // Options.Deployed
	stampText string // stamp in decimal, as each answer sends it
	file      string
	source    string
	params    map[string]string
	jobID     string
	log       io.Writer
	timeout   time.Duration
	byRoute   map[string]*deployment
	routes    []string // sorted, for listings
	threads   atomic.Uint64
	// closed is set by Close: an application replaced or deleted makes
	// no replica again (it would outlive it).
	closed atomic.Bool
	// superseded is set when a Mux puts a newer version in its place or
	// takes it off: it makes no replica again either, and a request that
	// meets a stopped replica is retried on the mux's current version.
	superseded atomic.Bool
	// scaling starts the scalers once (startScaling); Close reads them
	// after it.
	scaling sync.Once
	// mux is the Mux it is mounted on, if any (set by Mount): where a
	// request whose replica was stopped looks for the current version.
	mux atomic.Pointer[Mux]
	// follows is set while another process scales the application
	// (scale.go): this one's scalers, if any, do nothing, and its
	// replica lists follow the record (followScale).
	follows atomic.Bool
	// self is the cluster address of this process when it is a node of
	// a cluster ("" embedded): replicas living there are local, and
	// requests go to them first (pick).
	self string
}

// deployment is one served actor: its class and replicas.
type deployment struct {
	app      *App
	route    string
	spec     *compiler.Serve
	class    *exec.ActorClass
	kwargs   []exec.Kwarg // constructor arguments
	methods  map[string]*batcher
	mu       sync.Mutex // guards replicas (the scaler changes them) and next
	replicas []*replica
	next     int // where the search for the least loaded replica starts
	// inFlight counts the requests to the deployment not yet answered,
	// for the scaler.
	inFlight atomic.Int64
	// remote is the requests in flight at the application's other
	// ingresses, as they last reported them (set by the host).
	remote atomic.Int64
	scaler *scaler // nil unless min_replicas < max_replicas
}

// replica is one actor of a deployment, known by its name (a detached
// named actor in namespace "serve", spec/serving.md).
type replica struct {
	name        string
	mu          sync.Mutex // guards actor; held while it is looked up or made
	actor       exec.Value // the handle; None until looked up or made
	lost        exec.Value // a lost actor not yet replaced (markLost); guarded by mu
	outstanding atomic.Int64
	renewing    atomic.Bool // a lost actor is being replaced: requests go to others if they can
	// local is set while the replica's actor lives in this process's
	// node (App.self): requests go to local replicas first.
	local atomic.Bool
}

// Deploy creates the replicas of every @serve actor of prog on c. A
// parameter that no served actor takes, or a program with no @serve
// actor, is a *rayflow.UsageError.
func Deploy(c *nodeagent.Cluster, prog *rayflow.Program, opts Options) (*App, error) {
	app, err := newApp(c, prog, opts)
	if err != nil {
		return nil, err
	}
	th := app.thread()
	for _, route := range app.routes {
		d := app.byRoute[route]
		for i, r := range d.replicas {
			v, err := d.newActor(th, r.name)
			if err != nil {
				app.stopReplicas(nil) // those made so far
				return nil, fmt.Errorf("route %s: cannot create replica %d of actor %s: %s", d.route, i+1, d.class.Name(), errorMessage(err))
			}
			app.setActorLocked(r, v) // no request yet: r.mu is not needed
		}
	}
	app.start()
	return app, nil
}

// newApp loads prog on c and lays out its deployments, without creating
// any replica.
func newApp(c *nodeagent.Cluster, prog *rayflow.Program, opts Options) (*App, error) {
	app := &App{cluster: c, self: c.Address(), name: opts.Name, file: prog.File, source: prog.Source, params: opts.Params, log: opts.Log, byRoute: map[string]*deployment{}}
	if app.name == "" {
		app.name = "app"
	}
	if app.version, app.stamp = max(opts.Version, 1), opts.Deployed; app.stamp == 0 {
		app.stamp = time.Now().UnixNano()
	}
	app.stampText = strconv.FormatInt(app.stamp, 10)
	if !validName(app.name) {
		return nil, &rayflow.UsageError{Msg: fmt.Sprintf("application name %q: use letters, digits, '_' and '-'", app.name)}
	}
	// A job of its own per process: call IDs are never those of another
	// process, or of this head before it restarted.
	app.jobID = "serve-" + app.name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if app.timeout = opts.Timeout; app.timeout <= 0 {
		app.timeout = DefaultTimeout
	}
	th := c.NewThread(app.jobID)
	xp, err := prog.Load(th)
	if err != nil {
		return nil, err
	}
	if err := c.RegisterProgram(xp, prog.Source); err != nil {
		return nil, fmt.Errorf("cannot send the program to the cluster: %w", err)
	}
	used := map[string]bool{}
	for _, g := range prog.Compiled.Globals {
		if g.Kind != compiler.GlobalActor || g.Actor.Serve == nil {
			continue
		}
		d, err := app.newDeployment(xp.Class(g.Actor), opts.Params, used)
		if err != nil {
			return nil, err
		}
		app.byRoute[d.route] = d
		app.routes = append(app.routes, d.route)
	}
	if len(app.routes) == 0 {
		return nil, &rayflow.UsageError{Msg: "the program declares no actor with @serve: nothing to serve (add @serve(route=\"/NAME\") to an actor)"}
	}
	for name := range opts.Params {
		if !used[name] {
			return nil, &rayflow.UsageError{Msg: fmt.Sprintf("no served actor takes a parameter '%s'", name)}
		}
	}
	sort.Strings(app.routes)
	return app, nil
}

// validName reports whether s can name an application: what a replica's
// name may hold.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// newDeployment reads a served actor's constructor arguments from params
// (marking those it uses) and names its replicas.
func (a *App) newDeployment(cls *exec.ActorClass, params map[string]string, used map[string]bool) (*deployment, error) {
	spec := cls.Info.Serve
	d := &deployment{app: a, route: spec.Route, spec: spec, class: cls, methods: map[string]*batcher{}}
	for _, p := range cls.Info.Params {
		text, ok := params[p.Name]
		if !ok {
			continue
		}
		typ := ""
		if p.Type != nil {
			typ = p.Type.Name
		}
		v, err := rayflow.ParseParam(text, typ)
		if err != nil {
			return nil, &rayflow.UsageError{Msg: fmt.Sprintf("parameter '%s' of actor %s: %v", p.Name, cls.Name(), err)}
		}
		used[p.Name] = true
		d.kwargs = append(d.kwargs, exec.Kwarg{Name: p.Name, Value: v})
	}
	for i := 1; i <= spec.Replicas; i++ {
		d.replicas = append(d.replicas, &replica{name: ReplicaName(a.name, a.version, spec.Route, i)})
	}
	return d, nil
}

// start starts the batchers of the batched deployments and the
// autoscaling of those whose replica bounds differ, once their first
// replicas are made or attached. Close stops them.
func (a *App) start() {
	a.startBatchers()
	a.startScaling()
}

// startBatchers starts the batchers of the batched deployments.
func (a *App) startBatchers() {
	for _, d := range a.byRoute {
		if d.spec.MaxBatch > 0 {
			for name := range d.class.Methods {
				d.methods[name] = newBatcher(a, d, name)
			}
		}
	}
}

// startScaling starts the autoscaling of the deployments whose replica
// bounds differ, once: a host does when the application takes requests
// (an ingress whose port is taken sees no load, and would scale the
// replicas the others use down).
func (a *App) startScaling() {
	a.scaling.Do(func() {
		for _, d := range a.byRoute {
			if d.spec.MinReplicas < d.spec.MaxReplicas {
				d.scaler = startScaler(a, d)
			}
		}
	})
}

// ReplicaName is the name of replica i (from 1) of the deployment at
// route of version v of application app: "APP-ROUTE-vV-i", the route's
// '/' as '_'.
func ReplicaName(app string, v int, route string, i int) string {
	return app + "-" + strings.ReplaceAll(strings.TrimPrefix(route, "/"), "/", "_") + "-v" + strconv.Itoa(v) + "-" + strconv.Itoa(i)
}

// newActor creates the replica named name: an actor of the deployment's
// class, detached and named in namespace "serve", so that on a cluster
// a head owns it (and restarts it as @restarts says).
func (d *deployment) newActor(th *exec.Thread, name string) (exec.Value, error) {
	info := *d.class.Info
	info.ActorName, info.Namespace, info.Detached = name, Namespace, true
	cls := *d.class
	cls.Info = &info
	return cls.Call(th, nil, d.kwargs)
}

// thread returns a new thread of the application's job for one request:
// its calls get IDs of their own (JOB.sN.K).
func (a *App) thread() *exec.Thread {
	var buf [128]byte // the ID is built here, then copied once into its string
	id := strconv.AppendUint(append(append(buf[:0], a.jobID...), ".s"...), a.threads.Add(1), 10)
	return a.cluster.RequestThread(string(id))
}

// localQueue is how many requests a local replica may have outstanding
// before requests go to other nodes' replicas too: a small queue per
// call the replica runs at once (@concurrency).
func (d *deployment) localQueue() int64 {
	return int64(2 * max(d.class.Info.Concurrency, 1))
}

// pick returns the replica to send a request to, other than avoid, and
// counts one more request on it: the local replica with the fewest
// outstanding requests while it has fewer than localQueue, else the
// replica with the fewest outstanding requests anywhere; a replica whose
// lost actor is being replaced only when no other can take the request
// (it waits for the new actor); nil when there is none.
func (d *deployment) pick(avoid *replica) *replica {
	d.mu.Lock()
	defer d.mu.Unlock()
	best := d.leastLoaded(avoid, false, true)
	if best == nil || best.outstanding.Load() >= d.localQueue() {
		best = d.leastLoaded(avoid, false, false)
	}
	if best == nil {
		best = d.leastLoaded(avoid, true, false) // one being replaced, when no other can take it
	}
	if n := len(d.replicas); n > 0 {
		d.next = (d.next + 1) % n
	}
	if best != nil {
		best.outstanding.Add(1)
	}
	return best
}

// leastLoaded returns, d.mu held, the replica with the fewest
// outstanding requests among those other than avoid that are being
// replaced or not as renewing says, and local if onlyLocal; nil when
// there is none.
func (d *deployment) leastLoaded(avoid *replica, renewing, onlyLocal bool) *replica {
	var best *replica
	n := len(d.replicas)
	for i := 0; i < n; i++ {
		r := d.replicas[(d.next+i)%n]
		if r == avoid || r.renewing.Load() != renewing || onlyLocal && !r.local.Load() {
			continue
		}
		if best == nil || r.outstanding.Load() < best.outstanding.Load() {
			best = r
		}
	}
	return best
}

// handle returns the replica's actor: the one it has, else the live
// actor of its name, else a new one.
func (a *App) handle(d *deployment, r *replica) (exec.Value, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.renewLocked(d, r) // a lost actor is replaced before anything else
	if !r.actor.IsNone() {
		return r.actor, nil
	}
	th := a.thread()
	if a.lookupLocked(th, r) {
		return r.actor, nil
	}
	if a.retired() {
		return exec.None, exec.Errorf(exec.KindLost, "replica %s is gone and application %s is no longer served here", r.name, a.name)
	}
	v, err := d.newActor(th, r.name)
	if err != nil {
		return exec.None, err
	}
	a.setActorLocked(r, v)
	return v, nil
}

// lookupLocked looks the replica's actor up by name, r.mu held, and
// keeps it; it reports whether it found one.
func (a *App) lookupLocked(th *exec.Thread, r *replica) bool {
	reg, err := th.Registry("serve")
	if err != nil {
		return false
	}
	h, err := reg.LookupActor(th, Namespace, r.name)
	if err != nil {
		return false
	}
	a.setActorLocked(r, exec.ActorValue(h))
	return true
}

// setActorLocked keeps v as the replica's actor, r.mu held, and notes
// whether it lives on this process's node.
func (a *App) setActorLocked(r *replica, v exec.Value) {
	r.actor = v
	r.local.Store(a.self != "" && a.cluster.LivesHere(v.AsActor()))
}

// resolve looks up the actors of the replicas it has none for yet, so
// that the first requests know which replicas are local.
func (a *App) resolve() {
	th := a.thread()
	for _, route := range a.routes {
		d := a.byRoute[route]
		d.mu.Lock()
		reps := append([]*replica(nil), d.replicas...)
		d.mu.Unlock()
		for _, r := range reps {
			r.mu.Lock()
			if r.actor.IsNone() && r.lost.IsNone() {
				a.lookupLocked(th, r)
			}
			r.mu.Unlock()
		}
	}
}

// retired reports whether the application makes no replica again: it
// was closed, or a newer version (or none) serves in its place.
func (a *App) retired() bool { return a.closed.Load() || a.superseded.Load() }

// markLost notes that a call to the replica's actor found it lost: the
// replica stops handing it out at once, and a new actor is made in the
// background (or by the next request that needs the replica, whichever
// comes first: renewLocked). A replica already renewed since is left
// alone.
func (a *App) markLost(d *deployment, r *replica, lost exec.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actor.IsNone() || r.actor.AsActor() != lost.AsActor() {
		return
	}
	r.actor, r.lost = exec.None, lost
	r.local.Store(false)
	r.renewing.Store(true)
	go func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		a.renewLocked(d, r)
	}()
}

// renewLocked replaces a lost actor, r.mu held: the lost actor is killed
// (its name freed; it is gone already) and a new one made.
func (a *App) renewLocked(d *deployment, r *replica) {
	if r.lost.IsNone() {
		return
	}
	defer r.renewing.Store(false)
	th := a.thread()
	if reg, err := th.Registry("serve"); err == nil {
		_ = reg.KillActor(th, r.lost.AsActor())
	}
	r.lost = exec.None
	if a.retired() {
		return
	}
	v, err := d.newActor(th, r.name)
	if err != nil {
		a.logf("serve: %s: replica %s was lost and could not be made again yet: %v", d.route, r.name, errorMessage(err))
		return // the next request that needs it looks it up or makes it again
	}
	a.setActorLocked(r, v)
	a.logf("serve: %s: replica %s was lost and was made again", d.route, r.name)
}

func (a *App) logf(format string, args ...any) {
	if a.log != nil {
		fmt.Fprintf(a.log, format+"\n", args...)
	}
}

// call runs method on the deployment with args, on the replica pick
// chooses. A call that fails because its replica is gone (its node died,
// or it was stopped: by a rolling update, a delete, `rayflow actor
// stop`) is retried once: on the route's deployment in the version now
// served (retryTarget), on another replica when that is still this one,
// whose lost replica is then made again.
func (a *App) call(d *deployment, method string, args []exec.Value, kw []exec.Kwarg) (exec.Value, error) {
	var avoid *replica
	for attempt := 0; ; attempt++ {
		r := d.pick(avoid)
		if r == nil && avoid != nil {
			r = d.pick(nil) // a single replica: try it again, once it is made again
		}
		if r == nil {
			return exec.None, exec.Errorf(exec.KindLost, "route %s has no live replica", d.route)
		}
		actor, v, err := d.app.callReplica(d, r, method, args, kw)
		r.outstanding.Add(-1)
		if err == nil || !isLost(err) {
			return v, err
		}
		if attempt == 1 {
			if !d.app.retired() && !actor.IsNone() {
				d.app.markLost(d, r, actor)
			}
			return v, err
		}
		next := d.app.retryTarget(d)
		if next == d && !actor.IsNone() {
			d.app.markLost(d, r, actor)
		}
		if next == nil {
			return exec.None, exec.Errorf(exec.KindLost, "application %s is no longer served (%s)", d.app.name, errorMessage(err))
		}
		if next != d {
			d, avoid = next, nil
			continue
		}
		avoid = r
	}
}

// retryTarget is the deployment a request retries on after d's replica
// was found gone: the route's deployment in the version of the
// application its mux serves now, once the mux's host has read the
// records again (a rolling update or a delete stops the replicas of
// the version it replaces); d itself when that is still d's
// application, or it is on no mux that a host keeps; nil when the
// application, or the route, is no longer served.
func (a *App) retryTarget(d *deployment) *deployment {
	m := a.mux.Load()
	if m == nil {
		return d
	}
	m.refresh()
	now := m.app(a.name)
	switch {
	case now == a:
		return d
	case now == nil:
		return nil
	}
	return now.byRoute[d.route]
}

// callReplica calls method on one replica and waits for its result; it
// returns the actor it called too.
func (a *App) callReplica(d *deployment, r *replica, method string, args []exec.Value, kw []exec.Kwarg) (actor, result exec.Value, err error) {
	actor, err = a.handle(d, r)
	if err != nil {
		return exec.None, exec.None, err
	}
	th := a.thread()
	m, err := exec.BindMethod(actor, method)
	if err != nil {
		return actor, exec.None, err
	}
	fv, err := m.AsCallable().Call(th, args, kw)
	if err != nil {
		return actor, exec.None, err
	}
	f := fv.AsFuture()
	if !nodeagent.AwaitResult(f, a.timeout) { // no Wait: it would log an outcome per request
		return actor, exec.None, exec.Errorf(exec.KindTimeout, "%s.%s did not answer within %s", d.class.Name(), method, a.timeout)
	}
	v, err := a.cluster.GetOne(th, f) // no slices, as Get of one future would take
	if err != nil {
		return actor, exec.None, err
	}
	a.cluster.ReleaseRequestThread(th) // its call is answered
	return actor, v, nil
}

// isLost reports whether err says the call's actor is gone rather than
// that the method failed: its node died (kind "lost" anywhere in the
// chain), or it was stopped (kind "cancelled" anywhere in the chain: a
// kill by a rolling update, a delete or `rayflow actor stop`, which
// fails the calls it was running and had queued; a method cannot raise
// that kind itself).
func isLost(err error) bool {
	var e *exec.Error
	if !errors.As(err, &e) {
		return false
	}
	for ; e != nil; e = e.Cause {
		if e.Kind == exec.KindLost || e.Kind == exec.KindCancelled {
			return true
		}
	}
	return false
}

// Name is the application's name.
func (a *App) Name() string { return a.name }

// Routes lists the application's endpoints: "/ROUTE/METHOD" for each
// method of each deployment, sorted.
func (a *App) Routes() []string {
	var out []string
	for _, route := range a.routes {
		d := a.byRoute[route]
		for _, name := range methodNames(d.class) {
			out = append(out, route+"/"+name)
		}
	}
	return out
}

func methodNames(cls *exec.ActorClass) []string {
	names := make([]string, 0, len(cls.Methods))
	for name := range cls.Methods {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// outstanding counts the requests the application's replicas are
// answering.
func (a *App) outstanding() int64 {
	var n int64
	for _, d := range a.byRoute {
		d.mu.Lock()
		for _, r := range d.replicas {
			n += r.outstanding.Load()
		}
		d.mu.Unlock()
	}
	return n
}

// Close stops the scalers and the batchers. Requests still waiting in
// the batchers fail.
func (a *App) Close() {
	a.closed.Store(true)
	a.scaling.Do(func() {}) // no scaler starts after
	for _, d := range a.byRoute {
		if d.scaler != nil {
			d.scaler.stop()
		}
		for _, b := range d.methods {
			b.stop()
		}
	}
}
