package serve

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

// Options say how to deploy an application.
type Options struct {
	// Params are the NAME=VALUE words of the command line: each served
	// actor is constructed with those of its parameters they name
	// (the others take their defaults).
	Params map[string]string
	// JobID names the application's job on the cluster; its replicas'
	// IDs derive from it. Default "serve".
	JobID string
	// Log, when set, receives one line per replica replaced.
	Log io.Writer
	// Timeout bounds how long a request waits for its method's result
	// (default DefaultTimeout).
	Timeout time.Duration
}

// DefaultTimeout is how long a request waits for its result by default.
const DefaultTimeout = time.Minute

// App is a deployed application: its deployments by route.
type App struct {
	cluster *nodeagent.Cluster
	jobID   string
	log     io.Writer
	timeout time.Duration
	byRoute map[string]*deployment
	routes  []string // sorted, for listings
	threads atomic.Uint64
}

// deployment is one served actor: its class and replicas.
type deployment struct {
	route    string
	spec     *compiler.Serve
	class    *exec.ActorClass
	kwargs   []exec.Kwarg // constructor arguments
	methods  map[string]*batcher
	mu       sync.Mutex // guards replicas and next
	replicas []*replica
	next     int // where the search for the least loaded replica starts
}

// replica is one actor of a deployment.
type replica struct {
	actor       exec.Value // the actor handle
	outstanding atomic.Int64
	lost        atomic.Bool // replaced: no new request goes to it
}

// Deploy creates the replicas of every @serve actor of prog on c. A
// parameter that no served actor takes, or a program with no @serve
// actor, is a *rayflow.UsageError.
func Deploy(c *nodeagent.Cluster, prog *rayflow.Program, opts Options) (*App, error) {
	app := &App{cluster: c, jobID: opts.JobID, log: opts.Log, byRoute: map[string]*deployment{}}
	if app.jobID == "" {
		app.jobID = "serve"
	}
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
		d, err := newDeployment(xp.Class(g.Actor), opts.Params, used)
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
	for _, route := range app.routes {
		if err := app.start(th, app.byRoute[route]); err != nil {
			return nil, err
		}
	}
	return app, nil
}

// newDeployment reads a served actor's constructor arguments from params
// (marking those it uses).
func newDeployment(cls *exec.ActorClass, params map[string]string, used map[string]bool) (*deployment, error) {
	d := &deployment{route: cls.Info.Serve.Route, spec: cls.Info.Serve, class: cls, methods: map[string]*batcher{}}
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
	return d, nil
}

// start creates a deployment's replicas and the batchers of its methods.
func (a *App) start(th *exec.Thread, d *deployment) error {
	for i := 0; i < d.spec.Replicas; i++ {
		r, err := d.newReplica(th)
		if err != nil {
			return fmt.Errorf("route %s: cannot create replica %d of actor %s: %w", d.route, i+1, d.class.Name(), err)
		}
		d.replicas = append(d.replicas, r)
	}
	if d.spec.MaxBatch > 0 {
		for name := range d.class.Methods {
			d.methods[name] = newBatcher(a, d, name)
		}
	}
	return nil
}

// newReplica creates one actor of the deployment's class.
func (d *deployment) newReplica(th *exec.Thread) (*replica, error) {
	v, err := d.class.Call(th, nil, d.kwargs)
	if err != nil {
		return nil, err
	}
	return &replica{actor: v}, nil
}

// thread returns a new thread of the application's job for one request:
// its calls get IDs of their own (JOB.sN.K).
func (a *App) thread() *exec.Thread {
	th := a.cluster.NewThread(a.jobID)
	th.TaskID = a.jobID + ".s" + strconv.FormatUint(a.threads.Add(1), 10)
	return th
}

// pick returns the replica with the fewest outstanding requests, other
// than avoid, and counts one more request on it; nil when there is none.
func (d *deployment) pick(avoid *replica) *replica {
	d.mu.Lock()
	defer d.mu.Unlock()
	var best *replica
	n := len(d.replicas)
	for i := 0; i < n; i++ {
		r := d.replicas[(d.next+i)%n]
		if r == avoid || r.lost.Load() {
			continue
		}
		if best == nil || r.outstanding.Load() < best.outstanding.Load() {
			best = r
		}
	}
	if n > 0 {
		d.next = (d.next + 1) % n
	}
	if best != nil {
		best.outstanding.Add(1)
	}
	return best
}

// replace puts a new replica in the place of a lost one (once: a
// replica already replaced is left alone).
func (a *App) replace(d *deployment, lost *replica) {
	if !lost.lost.CompareAndSwap(false, true) {
		return
	}
	r, err := d.newReplica(a.thread())
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range d.replicas {
		if x != lost {
			continue
		}
		if err != nil {
			if a.log != nil {
				fmt.Fprintf(a.log, "serve: route %s: a replica was lost and could not be replaced: %v\n", d.route, err)
			}
			return // it stays, marked lost: requests go to the others
		}
		d.replicas[i] = r
		if a.log != nil {
			fmt.Fprintf(a.log, "serve: route %s: a lost replica was replaced\n", d.route)
		}
		return
	}
}

// call runs method on the deployment with args, on the least loaded
// replica; a call that fails because its replica was lost (its node
// died) is retried once on another, and the lost replica replaced.
func (a *App) call(d *deployment, method string, args []exec.Value, kw []exec.Kwarg) (exec.Value, error) {
	var avoid *replica
	for attempt := 0; ; attempt++ {
		r := d.pick(avoid)
		if r == nil {
			return exec.None, exec.Errorf(exec.KindLost, "route %s has no live replica", d.route)
		}
		v, err := a.callReplica(r, method, args, kw)
		r.outstanding.Add(-1)
		if err == nil || !isLost(err) {
			return v, err
		}
		go a.replace(d, r)
		if attempt == 1 {
			return v, err
		}
		avoid = r
	}
}

// callReplica calls method on one replica and waits for its result.
func (a *App) callReplica(r *replica, method string, args []exec.Value, kw []exec.Kwarg) (exec.Value, error) {
	th := a.thread()
	m, err := exec.BindMethod(r.actor, method)
	if err != nil {
		return exec.None, err
	}
	fv, err := m.AsCallable().Call(th, args, kw)
	if err != nil {
		return exec.None, err
	}
	fs := []*exec.Future{fv.AsFuture()}
	ready, err := th.Runtime.Wait(th, fs, 1, a.timeout)
	if err != nil {
		return exec.None, err
	}
	if len(ready) == 0 {
		return exec.None, exec.Errorf(exec.KindTimeout, "%s.%s did not answer within %s", r.class(), method, a.timeout)
	}
	vals, err := th.Runtime.Get(th, fs)
	if err != nil {
		return exec.None, err
	}
	return vals[0], nil
}

// isLost reports whether err says the call's actor was lost (its node
// died, or it was stopped) rather than that the method failed.
func isLost(err error) bool {
	var e *exec.Error
	if !errors.As(err, &e) {
		return false
	}
	for ; e != nil; e = e.Cause {
		if e.Kind == exec.KindLost {
			return true
		}
	}
	return false
}

// Routes lists the application's endpoints: "POST /ROUTE/METHOD" for
// each method of each deployment, sorted.
func (a *App) Routes() []string {
	var out []string
	for _, route := range a.routes {
		d := a.byRoute[route]
		names := make([]string, 0, len(d.class.Methods))
		for name := range d.class.Methods {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, route+"/"+name)
		}
	}
	return out
}

// Close stops the batchers. Requests still waiting in them fail.
func (a *App) Close() {
	for _, d := range a.byRoute {
		for _, b := range d.methods {
			b.stop()
		}
	}
}

// class names the replica's actor class.
func (r *replica) class() string { return r.actor.AsActor().Class.Name() }
