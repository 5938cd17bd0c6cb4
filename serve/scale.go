package serve

import (
	"time"

	"github.com/rayflow/rayflow/exec"
)

// Autoscaling (@serve(min_replicas=, max_replicas=)): a deployment whose
// bounds differ has a scaler goroutine that looks, every scaleEvery, at
// its requests in flight (queued or running). It wants
// ceil(in flight / target) replicas within the bounds, target being
// targetOngoing requests per replica (times max_batch for a batched
// deployment). It adds replicas at once when it wants more, and removes
// one (the newest, after its requests are answered) when it has wanted
// fewer for scaleDownAfter.

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
	n := int((s.d.inFlight.Load() + target - 1) / target)
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
		s.app.logf("serve: %s: scaled up to %d replicas (%d requests in flight)", s.d.route, have+1, s.d.inFlight.Load())
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
	s.app.logf("serve: %s: scaled down to %d replicas (%d requests in flight)", s.d.route, n-1, s.d.inFlight.Load())
	deadline := time.Now().Add(drainWithin)
	for r.outstanding.Load() > 0 && time.Now().Before(deadline) {
		select {
		case <-s.done:
			return
		case <-time.After(scaleEvery / 4):
		}
	}
	s.app.stopReplica(r)
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
