package nodeagent

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The liveness of jobs: a job ends when its driver stops.
//
// A driver that stops cleanly (its pipeline returned, or SIGINT or
// SIGTERM) releases its jobs itself as it leaves (net_release.go). One
// that dies cannot, so every process that drives jobs renews a lease on
// them with every head, at each heartbeat period, in a Query of kind
// wire.QueryJobAlive, which also names the driver's address (the
// processes of the cluster dial it while the lease holds: dialpolicy.go).
// A head that has not heard of a job for its dead timeout (--dead-after,
// the timeout after which it declares a silent node dead) releases the
// job as its driver would have: every live process drops its queued
// tasks, cancels its running ones, stops its actors and releases its
// objects; the heads delete its lineage. A job of the Jobs API that has
// not ended (another head will run it again) keeps its objects and its
// lineage, for the run again to reuse (reuse.go). Each head tracks the leases it
// receives on its own, as it tracks the nodes' heartbeats; a release
// from several heads is the same release.

// jobLeases are the leases of the jobs drivers renew with this head, by
// job ID: when each was last renewed. Its own lock; renewed by
// connection goroutines, expired by the heartbeat loop, dropped by job
// release.
type jobLeases struct {
	mu   sync.Mutex
	last map[string]time.Time
	// drivers are the addresses of the jobs' drivers, as their lease
	// renewals declare them: the processes dial them (dialpolicy.go).
	drivers map[string]string
}

// renew records that the jobs' driver, at addr ("" when it did not say),
// is alive now.
func (l *jobLeases) renew(jobs []string, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last, l.drivers = map[string]time.Time{}, map[string]string{}
	}
	for _, j := range jobs {
		l.last[j] = now
		if addr != "" {
			l.drivers[j] = addr
		}
	}
}

// drop forgets the leases of jobs that ended.
func (l *jobLeases) drop(jobs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range jobs {
		delete(l.last, j)
		delete(l.drivers, j)
	}
}

// holder reports whether a driver at addr holds a lease here. It runs
// when a process asks whether it may dial an address it has not dialled
// (dialpolicy.go), never per task: a scan of the leases is cheap enough.
func (l *jobLeases) holder(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.drivers {
		if a == addr {
			return true
		}
	}
	return false
}

// expired removes and returns the jobs not renewed for longer than after.
func (l *jobLeases) expired(now time.Time, after time.Duration) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for j, at := range l.last {
		if now.Sub(at) > after {
			out = append(out, j)
			delete(l.last, j)
			delete(l.drivers, j)
		}
	}
	return out
}

// handleJobAlive serves wire.QueryJobAlive on a head: the jobs named are
// driven by a live process. A job already ended here is not revived: the
// answer lists it, and its driver ends it too (it was not heard from in
// time, or a partition hid it).
func (nw *network) handleJobAlive(body []byte) (ended []string, err error) {
	if nw.svc == nil {
		return nil, errNotHead
	}
	jobs, err := wire.DecodeStrings(body)
	if err != nil {
		return nil, wire.ErrMalformed
	}
	// After the jobs, past an empty string, the programs they run (they
	// stay in the GCS while their jobs do), and past another, the
	// driver's address, which the processes of the cluster may dial
	// while it holds the lease (dialpolicy.go).
	driver := ""
	if i := slices.Index(jobs, ""); i >= 0 {
		programs := jobs[i+1:]
		jobs = jobs[:i]
		if k := slices.Index(programs, ""); k >= 0 {
			if rest := programs[k+1:]; len(rest) == 1 && head.CheckAddress(rest[0]) == nil {
				driver = rest[0]
			}
			programs = programs[:k]
		}
		nw.svc.UsePrograms(programs)
	}
	live := jobs[:0:0]
	for _, j := range jobs {
		switch {
		case !validJobID(j):
		case nw.c.marks.jobEnded(j):
			ended = append(ended, j)
		default:
			live = append(live, j)
		}
	}
	nw.leases.renew(live, driver, time.Now())
	return ended, nil
}

// renewJobLeases tells every head that the jobs this process drives are
// alive, and that the programs it stored for them are in use, waiting at
// most wait for their answers (a head that does not answer in time hears
// at the next heartbeat). A job a head says it ended
// is ended here too: nothing of it runs on the cluster any more, and
// whoever waits for its results gets an error instead of waiting for
// ever.
func (nw *network) renewJobLeases(wait time.Duration) {
	jobs := nw.drivenJobs()
	if len(jobs) == 0 {
		return
	}
	body := wire.EncodeStrings(append(append(append(jobs, ""), nw.programs.shippedHashes()...), "", nw.addr)...)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	msg := append([]byte{wire.QueryJobAlive}, body...)
	var ended []string
	nw.askEach(ctx, nw.hc.Order(), msg, func(_ string, payload []byte) {
		e, _ := wire.DecodeStrings(payload)
		ended = append(ended, e...)
	})
	for _, addr := range nw.hc.Order() {
		if addr == nw.addr { // this process is a head: asked in place
			e, _ := nw.handleJobAlive(body)
			ended = append(ended, e...)
		}
	}
	if ended = nw.drivenOf(ended); len(ended) > 0 {
		nw.releaseHere(ended)
	}
}

// drivenOf keeps, of jobs, those this process still drives, once each.
func (nw *network) drivenOf(jobs []string) []string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []string
	for _, j := range jobs {
		if nw.jobs[j] && !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out
}

// endSilentJobs releases, on a head, the jobs whose driver stopped
// renewing their leases for longer than the head's dead timeout. The
// release runs on its own goroutine, bounded by releaseTimeout.
func (nw *network) endSilentJobs() {
	if nw.svc == nil {
		return
	}
	if jobs := nw.leases.expired(time.Now(), nw.cfg.Membership.DeadAfter()); len(jobs) > 0 {
		go nw.releaseSilent(jobs) // reuse.go
	}
}

// drivenJobs lists the jobs this process drives (as a driver).
func (nw *network) drivenJobs() []string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	jobs := make([]string, 0, len(nw.jobs))
	for j := range nw.jobs {
		jobs = append(jobs, j)
	}
	return jobs
}
