package serve

import (
	"encoding/json"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
)

// Autoscaling (@serve(min_replicas=, max_replicas=)): a deployment whose
// bounds differ has a scaler goroutine that looks, every scaleEvery, at
// its requests in flight (queued or running). It wants
// ceil(in flight / target) replicas within the bounds, target being
// targetOngoing requests per replica (times max_batch for a batched
// deployment). It adds replicas at once when it wants more, and removes
// one (the newest, after its requests are answered) when it has wanted
// fewer for scaleDownAfter.
//
// On a cluster, every ingress (heads and nodes) reports its requests in
// flight per route with the versions it routes (ingress.go), and the
// host sets each deployment's remote count from the fresh reports of
// the others; exactly one ingress scales an application: the head of
// least ID among those whose fresh reports say they serve it (host.go,
// scales). Every other ingress's App follows: its scalers do nothing,
// and its replica lists follow the record's Scaled counts, which the
// scaling head writes at each scaling.

const (
	scaleEvery     = 200 * time.Millisecond
	scaleDownAfter = 3 * time.Second
	targetOngoing  = 2
	drainWithin    = time.Minute
)

// scaler is a deployment's autoscaling loop; App.Close stops it.
type scaler struct {
	app  *App
	d    *deployment
	done chan struct{}
	quit chan struct{} // closed when the loop has returned
}

func startScaler(a *App, d *deployment) *scaler {
	s := &scaler{app: a, d: d, done: make(chan struct{}), quit: make(chan struct{})}
	go s.loop()
	return s
}

func (s *scaler) stop() {
	close(s.done)
	<-s.quit
}

func (s *scaler) loop() {
	defer close(s.quit)
	tick := time.NewTicker(scaleEvery)
	defer tick.Stop()
	var lowSince time.Time
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		if s.app.follows.Load() {
			lowSince = time.Time{}
			continue
		}
		want, have := s.wanted(), s.d.count()
		switch {
		case want > have:
			lowSince = time.Time{}
			s.grow(want)
		case want < have && lowSince.IsZero():
			lowSince = time.Now()
		case want < have && time.Since(lowSince) >= scaleDownAfter:
			lowSince = time.Now() // one at a time, scaleDownAfter apart
			s.shrink()
		case want >= have:
			lowSince = time.Time{}
		}
	}
}

// wanted is how many replicas the requests in flight call for.
func (s *scaler) wanted() int {
	spec := s.d.spec
	target := int64(targetOngoing * max(spec.MaxBatch, 1))
	n := int((s.d.load() + target - 1) / target)
	return min(max(n, spec.MinReplicas), spec.MaxReplicas)
}

// grow adds replicas up to want, each made (or found by its name) before
// it takes requests.
func (s *scaler) grow(want int) {
	for have := s.d.count(); have < want; have++ {
		r := &replica{name: ReplicaName(s.app.name, s.app.version, s.d.route, have+1)}
		if _, err := s.app.handle(s.d, r); err != nil {
			s.app.logf("serve: %s: cannot add replica %s: %v", s.d.route, r.name, err)
			return
		}
		s.d.mu.Lock()
		s.d.replicas = append(s.d.replicas, r)
		s.d.mu.Unlock()
		s.app.logf("serve: %s: scaled up to %d replicas (%d requests in flight)", s.d.route, have+1, s.d.load())
		s.app.recordScale()
	}
}

// shrink removes the newest replica: it takes no more requests, and is
// stopped once those it took are answered.
func (s *scaler) shrink() {
	s.d.mu.Lock()
	n := len(s.d.replicas)
	r := s.d.replicas[n-1]
	s.d.replicas = s.d.replicas[:n-1]
	s.d.mu.Unlock()
	s.app.logf("serve: %s: scaled down to %d replicas (%d requests in flight)", s.d.route, n-1, s.d.load())
	s.app.recordScale()
	// The other ingresses drop it when they read the record: it is
	// stopped no sooner than retireGrace after.
	deadline, grace := time.Now().Add(drainWithin), time.Now().Add(retireGrace)
	for (r.outstanding.Load() > 0 || time.Now().Before(grace)) && time.Now().Before(deadline) {
		select {
		case <-s.done:
			return
		case <-time.After(scaleEvery / 4):
		}
	}
	s.app.stopReplica(r)
}

// load is the deployment's requests in flight: here and at the other
// ingresses.
func (d *deployment) load() int64 { return d.inFlight.Load() + d.remote.Load() }

// load is, by route, the application's requests in flight at this
// ingress, those not zero: what its host reports.
func (a *App) load() map[string]int64 {
	out := map[string]int64{}
	for route, d := range a.byRoute {
		if n := d.inFlight.Load(); n > 0 {
			out[route] = n
		}
	}
	return out
}

// recordScale writes the deployments' replica counts into the
// application's record (Record.Scaled), at the same version: the other
// ingresses route to the replicas it added and leave those it removed.
// A redeploy since (a newer record) leaves it be.
func (a *App) recordScale() {
	r, err := readRows(a.cluster)
	if err != nil {
		a.logf("serve: application %s: cannot record its scaling: %v", a.name, err)
		return
	}
	rec, ok := r.apps[a.name]
	if !ok || rec.Deployed != a.stamp {
		return // embedded, deleted or redeployed
	}
	rec.Scaled = map[string]int{}
	for route, d := range a.byRoute {
		rec.Scaled[route] = d.count()
	}
	blob, err := json.Marshal(rec)
	if err != nil {
		return
	}
	v := r.versions[a.name]
	if _, err := a.cluster.PutServeApp(gcs.ServeApp{Name: a.name, Version: v, Record: blob}, v); err != nil {
		a.logf("serve: application %s: cannot record its scaling: %v", a.name, err)
	}
}

// followScale makes the deployments' replica lists what rec's Scaled
// counts say (the first replicas where it says nothing): replicas added
// are looked up by name at once (a node's ingress sends requests to
// its own replicas first: it must know which they are), those removed
// take no more requests (the scaling head stops them).
func (a *App) followScale(rec Record) {
	added := false
	for _, dr := range rec.Deployments {
		d := a.byRoute[dr.Route]
		if d == nil {
			continue
		}
		n, ok := rec.Scaled[dr.Route]
		if !ok {
			n = len(dr.Replicas)
		}
		n = min(max(n, 1), max(d.spec.MaxReplicas, len(dr.Replicas)))
		d.mu.Lock()
		for i := len(d.replicas) + 1; i <= n; i++ {
			d.replicas = append(d.replicas, &replica{name: ReplicaName(a.name, a.version, d.route, i)})
			added = true
		}
		if len(d.replicas) > n {
			d.replicas = d.replicas[:n]
		}
		d.next %= len(d.replicas)
		d.mu.Unlock()
	}
	if added {
		a.resolve()
	}
}

// stopReplica kills a replica's actor: the one it has, or the live
// actor of its name.
func (a *App) stopReplica(r *replica) {
	r.mu.Lock()
	actor := r.actor
	r.actor = exec.None
	r.mu.Unlock()
	th := a.thread()
	reg, err := th.Registry("serve")
	if err != nil {
		return
	}
	h := (*exec.ActorHandle)(nil)
	if !actor.IsNone() {
		h = actor.AsActor()
	} else if h, err = reg.LookupActor(th, Namespace, r.name); err != nil {
		return
	}
	_ = reg.KillActor(th, h)
}

// stopReplicas kills the application's replicas but for those keep
// names.
func (a *App) stopReplicas(keep map[string]bool) {
	for _, d := range a.byRoute {
		d.mu.Lock()
		reps := append([]*replica(nil), d.replicas...)
		d.mu.Unlock()
		for _, r := range reps {
			if !keep[r.name] {
				a.stopReplica(r)
			}
		}
	}
}

// count is how many replicas the deployment has.
func (d *deployment) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.replicas)
}
