package nodeagent

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/bytesize"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
)

// The memory monitor: a process that runs out of memory stops work
// instead of dying.
//
// Go cannot tell how much memory one goroutine, hence one task, holds.
// What it can tell cheaply is the process's heap (runtime/metrics), and
// what the process can attribute is each job's bytes in its nodes'
// object stores (objstore.Store.JobBytes). So, after Ray's memory
// monitor, a goroutine samples the Go heap every monitorEvery, off the
// task path. When the heap passes monitorFraction of the process's limit
// (Config.MemoryLimit: start --memory-limit, default 90% of the
// machine's memory), it collects garbage and looks again; if the live
// heap is still past it, it stops the running work here of one job: the
// job that holds the most in the object stores of this process's nodes,
// or when none holds anything there, the job whose work started last.
// Its running tasks stop at their next check with a "memory" error that
// says why (or, when none runs here, its driver thread, if it runs in
// this process: an embedded run, a head's HTTP job); the interpreter
// checks on every loop back-edge and call, so a loop that builds an
// ever-growing list stops within a step. Then the monitor waits monitorCooldown for the
// stopped work to unwind and its memory to be collected before it looks
// again.
//
// The process's Go soft memory limit (runtime/debug.SetMemoryLimit) is
// lowered to monitorFraction of the limit while the monitor runs, unless
// it is lower already, so that garbage is collected before the heap
// reaches that point: past it, the live heap is near it. The monitor
// collects garbage itself at most every monitorGCEvery.
//
// What the monitor does not do: it does not see memory outside the Go
// heap, it does not stop actors (their method threads run on), and one
// allocation between two samples can still be large (a value may take
// up to exec.MaxValueBytes, 1 GiB): leave that much headroom.

const (
	monitorEvery    = 100 * time.Millisecond
	monitorCooldown = time.Second
	// monitorGCEvery bounds how often the monitor collects garbage to
	// look at the live heap: a heap that stays near the limit with
	// nothing to stop costs one collection per period, not ten.
	monitorGCEvery = 500 * time.Millisecond
	// monitorFraction is the share of the limit (in percent) the live
	// heap may take before work is stopped: the Go runtime and the
	// object store's bookkeeping need the rest.
	monitorFraction = 90
)

// memMonitor is the process's memory monitor: one for all the clusters
// of the process (a head runs its own and one driver per HTTP job), as
// they share one heap. It acts on the smallest of their limits. mu
// guards the clusters and the goroutine's lifecycle; the goroutine owns
// the sample.
type memMonitor struct {
	mu       sync.Mutex
	clusters map[*Cluster]int64 // -> its memory limit
	limit    int64              // the smallest of them
	restore  int64              // the soft memory limit to put back; 0: none changed
	set      int64              // the soft memory limit the monitor set
	stop     chan struct{}      // nil while no goroutine runs
	done     chan struct{}

	sample []metrics.Sample
	stops  atomic.Int64 // tasks and drivers stopped, ever
}

// procMonitor is this process's memory monitor.
var procMonitor = &memMonitor{clusters: map[*Cluster]int64{},
	sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}

// drivers are the driver threads a cluster runs in this process, by job
// ID, held weakly: the monitor must not keep a finished run's thread
// alive. Its own lock: NewThread adds, the monitor reads.
type drivers struct {
	mu   sync.Mutex
	byID map[string]driverRef
}

type driverRef struct {
	th      weak.Pointer[exec.Thread]
	started time.Time
}

// started records a driver thread of job, to stop it when its job is the
// one to stop.
func (d *drivers) started(job string, th *exec.Thread) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]driverRef{}
	}
	for j, r := range d.byID { // finished runs' threads, collected
		if r.th.Value() == nil {
			delete(d.byID, j)
		}
	}
	d.byID[job] = driverRef{th: weak.Make(th), started: time.Now()}
}

// add watches c, whose limit is limit bytes (none when not positive),
// starting the monitor with the first cluster.
func (m *memMonitor) add(c *Cluster, limit int64) {
	if limit <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clusters[c] = limit
	m.setLimitLocked()
	if m.stop == nil {
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.loop(m.stop, m.done)
	}
}

// remove stops watching c, and stops the monitor with the last cluster.
func (m *memMonitor) remove(c *Cluster) {
	m.mu.Lock()
	if _, ok := m.clusters[c]; !ok {
		m.mu.Unlock()
		return
	}
	delete(m.clusters, c)
	m.setLimitLocked()
	var stop, done chan struct{}
	if len(m.clusters) == 0 && m.stop != nil {
		stop, done, m.stop, m.done = m.stop, m.done, nil, nil
	}
	m.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// setLimitLocked makes limit the smallest cluster's, and the process's
// Go soft memory limit no higher than monitorFraction of it, so that
// garbage is collected before the heap reaches the point where work is
// stopped; with no cluster left, puts back the soft limit it
// lowered if no one changed it since.
func (m *memMonitor) setLimitLocked() {
	m.limit = 0
	for _, l := range m.clusters {
		if m.limit == 0 || l < m.limit {
			m.limit = l
		}
	}
	soft := m.limit / 100 * monitorFraction
	cur := debug.SetMemoryLimit(-1)
	switch {
	case m.limit == 0:
		if m.restore != 0 && cur == m.set {
			debug.SetMemoryLimit(m.restore)
		}
		m.restore, m.set = 0, 0
	case cur > soft || cur == m.set:
		if m.restore == 0 {
			m.restore = cur
		}
		debug.SetMemoryLimit(soft)
		m.set = soft
	}
}

// watched returns the clusters watched and the limit.
func (m *memMonitor) watched() ([]*Cluster, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Cluster, 0, len(m.clusters))
	for c := range m.clusters {
		out = append(out, c)
	}
	return out, m.limit
}

// heap is the bytes of the Go heap's objects now: live ones and garbage
// not yet swept.
func (m *memMonitor) heap() int64 {
	metrics.Read(m.sample)
	if m.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	v := m.sample[0].Value.Uint64()
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func (m *memMonitor) loop(stop, done chan struct{}) {
	defer safe.Survive("the memory monitor", stop, func() { m.loop(stop, done) }, done)
	tick := time.NewTicker(monitorEvery)
	defer tick.Stop()
	var lastGC time.Time
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		clusters, limit := m.watched()
		trigger := limit / 100 * monitorFraction
		if limit <= 0 || m.heap() <= trigger || time.Since(lastGC) < monitorGCEvery {
			continue
		}
		runtime.GC() // only garbage, perhaps
		lastGC = time.Now()
		live := m.heap()
		if live <= trigger || !m.relieve(clusters, live, limit) {
			continue
		}
		select {
		case <-stop:
			return
		case <-time.After(monitorCooldown):
		}
	}
}

// jobLoad is what the monitor sees of one job in this process.
type jobLoad struct {
	stored  int64     // bytes in the object stores of this process's nodes
	latest  time.Time // when its most recent running work started
	tasks   []*task   // its running tasks
	drivers []*exec.Thread
	node    string // a node of this process it runs on, for messages
}

// relieve stops the running work of the job to stop (see the top of the
// file); false when nothing runs here.
func (m *memMonitor) relieve(clusters []*Cluster, live, limit int64) bool {
	jobs := loads(clusters)
	var victim string
	var pick *jobLoad
	for j, l := range jobs {
		if len(l.tasks) == 0 && len(l.drivers) == 0 {
			continue
		}
		if pick == nil || l.stored > pick.stored || l.stored == pick.stored && l.latest.After(pick.latest) {
			victim, pick = j, l
		}
	}
	if pick == nil {
		return false
	}
	why := fmt.Sprintf("node %s is out of memory: its live heap is %s, past %d%% of its memory limit of %s (--memory-limit); job %s, which holds %s in the node's object store, was stopped so that the node survives",
		pick.node, bytesize.Format(live), monitorFraction, bytesize.Format(limit), victim, bytesize.Format(pick.stored))
	for _, t := range pick.tasks {
		t.stopWith(exec.KindMemory, fmt.Sprintf("%s was stopped: %s", t.obj.Name(), why))
	}
	if len(pick.tasks) > 0 {
		// The job's driver, when it runs here, learns it from the tasks'
		// errors, as it does when it runs elsewhere.
		pick.drivers = nil
	}
	for _, th := range pick.drivers {
		th.Stop(exec.KindMemory, why)
	}
	m.stops.Add(int64(len(pick.tasks) + len(pick.drivers)))
	fmt.Fprintf(os.Stderr, "rayflow: %s (%d task(s), %d driver(s))\n", why, len(pick.tasks), len(pick.drivers))
	return true
}

// loads gathers, by job, its bytes in the object stores of the
// clusters' nodes and its running tasks and driver threads.
func loads(clusters []*Cluster) map[string]*jobLoad {
	jobs := map[string]*jobLoad{}
	of := func(j, node string) *jobLoad {
		l := jobs[j]
		if l == nil {
			l = &jobLoad{node: node}
			jobs[j] = l
		}
		return l
	}
	for _, c := range clusters {
		for _, n := range c.nodes {
			for j, b := range n.store.JobBytes() {
				of(j, n.ID).stored += b
			}
			for _, t := range n.tasksWhere(func(*task) bool { return true }) {
				started, running := t.runningSince()
				if !running {
					continue
				}
				l := of(jobOf(t.call.ID), n.ID)
				l.tasks = append(l.tasks, t)
				if started.After(l.latest) {
					l.latest = started
				}
			}
		}
		c.drivers.each(func(job string, th *exec.Thread, started time.Time) {
			l := of(job, c.Head().ID)
			l.drivers = append(l.drivers, th)
			if started.After(l.latest) {
				l.latest = started
			}
		})
	}
	return jobs
}

// each calls f with each driver thread that runs and was not stopped.
func (d *drivers) each(f func(job string, th *exec.Thread, started time.Time)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for j, r := range d.byID {
		th := r.th.Value()
		if th == nil {
			continue
		}
		if _, stopped := th.Cancelled(); stopped {
			continue
		}
		f(j, th, r.started)
	}
}

// MemoryStops is how many tasks and driver threads the process's memory
// monitor stopped, ever.
func MemoryStops() int64 { return procMonitor.stops.Load() }
