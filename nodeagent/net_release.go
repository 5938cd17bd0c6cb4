package nodeagent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/localsched"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Releasing what a finished job leaves behind.
//
// A process keeps the large results it made for other processes (served),
// the results it awaits from others (awaited), and the lineage
// of tasks whose values live elsewhere; the GCS keeps every task's row.
// None of it is needed once the job is over, and nothing else says when
// that is, so a long-lived cluster grew with every job. A driver
// therefore tells every live node, when it leaves (or when endJob says a
// job is over), which jobs it ran, in a Query of kind wire.QueryRelease;
// each process drops what belongs to them (object and task IDs start with
// the job ID and a dot). It also asks every head to delete the jobs' rows
// from the tasks table. Both are best effort and bounded in time: a
// process that misses the message keeps the entries, as before.

// releaseTimeout bounds the time a driver spends releasing its jobs.
const releaseTimeout = 3 * time.Second

// firstLeaseWait bounds the wait for the heads to hold a new job's lease.
const firstLeaseWait = 200 * time.Millisecond

// noteJob records that this process drives a job, to release it when the
// process leaves.
func (c *Cluster) noteJob(jobID string) { c.scope.noteJob(jobID) }

func (nw *network) noteJob(jobID string) {
	if !validJobID(jobID) {
		return
	}
	nw.mu.Lock()
	if nw.jobs == nil {
		nw.jobs = map[string]bool{}
	}
	nw.jobs[jobID] = true
	nw.mu.Unlock()
	// The heads hold the job's lease before any of its work is sent: a
	// driver killed at once still has its job ended (net_jobs.go). A
	// head slow to answer is not waited for long: it hears at the next
	// heartbeat.
	nw.renewJobLeases(firstLeaseWait)
}

// endJob tells the cluster that a job this process drove is over: every
// live node drops the objects it keeps for the job, and the heads delete
// its lineage from the GCS. It waits at most a few seconds. A driver
// that leaves ends its jobs itself; endJob is for one that stays (a REPL).
func (c *Cluster) endJob(jobID string) { c.scope.endJob(jobID) }

func (nw *network) endJob(jobID string) {
	if !validJobID(jobID) {
		return
	}
	nw.mu.Lock()
	delete(nw.jobs, jobID)
	nw.mu.Unlock()
	nw.releaseJobs([]string{jobID})
}

// validJobID reports whether id can name a job: not empty, and no dot,
// so that id+"." is the prefix of its tasks and of nothing else.
func validJobID(id string) bool {
	return id != "" && !strings.Contains(id, ".")
}

// ofJobsPicker returns a function that picks the task and object IDs of
// the jobs (those that start with a job's ID and a dot).
func ofJobsPicker(jobs []string) func(id string) bool {
	prefixes := make([]string, len(jobs))
	for i, j := range jobs {
		prefixes[i] = j + "."
	}
	return func(id string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(id, p) {
				return true
			}
		}
		return false
	}
}

// takeJobs returns the jobs this process drove and not yet released.
func (nw *network) takeJobs() []string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	jobs := make([]string, 0, len(nw.jobs))
	for j := range nw.jobs {
		jobs = append(jobs, j)
	}
	nw.jobs = nil
	return jobs
}

// releaseJobs tells every live process and every head that jobs are over,
// all at once, and waits (at most releaseTimeout) for their answers.
func (nw *network) releaseJobs(jobs []string) { nw.releaseJobsAs(jobs, false) }

// releaseJobsAs is releaseJobs; with keep (jobs that will be run again,
// reuse.go), the processes keep the results they serve and the heads the
// jobs' lineage.
func (nw *network) releaseJobsAs(jobs []string, keep bool) {
	if len(jobs) == 0 {
		return
	}
	nw.releaseHereAs(jobs, keep)
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	kind := wire.QueryRelease
	if keep {
		kind = wire.QueryReleaseKeep
	}
	release := append([]byte{kind}, wire.EncodeStrings(jobs...)...)
	var wg sync.WaitGroup
	for _, addr := range nw.liveAddrs(ctx) {
		if addr != nw.addr {
			wg.Go(func() { nw.pool.Call(ctx, addr, transport.Query, release) })
		}
	}
	if !keep {
		// Every head deletes on the GCS shards it leads; together they
		// cover all of them.
		deleteRows := append([]byte{wire.GCSDeleteJobTasks}, wire.EncodeStrings(jobs...)...)
		for _, addr := range nw.hc.Order() {
			wg.Go(func() { nw.hc.CallAt(ctx, addr, transport.GCSRequest, deleteRows) })
		}
	}
	wg.Wait()
}

// handleRelease serves wire.QueryRelease (and, with keep,
// wire.QueryReleaseKeep): the jobs named are over.
func (nw *network) handleRelease(body []byte, keep bool) error {
	jobs, err := wire.DecodeStrings(body)
	if err != nil {
		return wire.ErrMalformed
	}
	for _, j := range jobs {
		if !validJobID(j) {
			return fmt.Errorf("cannot release %q: not a job ID", j)
		}
	}
	nw.releaseHereAs(jobs, keep)
	return nil
}

// releaseHere drops what this process keeps for the jobs: the objects it
// serves, the results it awaits (whoever waits for one gets an error),
// and the lineage of tasks it sent away.
func (nw *network) releaseHere(jobs []string) { nw.releaseHereAs(jobs, false) }

// releaseHereAs is releaseHere; with keep, the objects served here stay
// (a re-run of the jobs may reuse them: reuse.go).
func (nw *network) releaseHereAs(jobs []string, keep bool) {
	ofJobs := ofJobsPicker(jobs)
	// Marked first: a task of the jobs that arrives or becomes ready from
	// now on never starts (cancel.go); their task marks are covered.
	for _, j := range jobs {
		nw.c.marks.endJob(j)
	}
	nw.c.marks.forgetJobs(ofJobs)
	nw.leases.drop(jobs)
	nw.c.caps.forget(jobs)
	nw.mu.Lock()
	for id := range nw.served {
		if ofJobs(id) && !keep {
			delete(nw.served, id)
		}
	}
	for _, j := range jobs {
		delete(nw.jobs, j)
	}
	nw.mu.Unlock()
	awaited := nw.ow.ReleaseJobs(ofJobs)
	for _, o := range awaited {
		o.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: fmt.Sprintf("%s was cancelled: its job is over", o.Name())}, "")
	}
	nw.stopJobsWork(ofJobs)
	nw.releaseNames(ofJobs) // named_net.go
	nw.workdirs.release(jobs)
}

// stopJobsWork stops what still runs here for finished jobs: the actors
// hosted here (a restart that finished after its creator left would
// otherwise hold its resources for ever), the actors this process created
// for them, and their running and queued tasks.
func (nw *network) stopJobsWork(ofJobs func(id string) bool) {
	for _, a := range nw.hosted.RemoveIf(ofJobs) {
		a.Stop("actor " + a.Class().Name() + " stopped: the job that created it has finished")
	}
	nw.ow.DropActors(ofJobs)
	for _, n := range nw.c.nodes {
		for _, t := range n.jobsTasks(ofJobs) {
			t.Cancel(t.obj.Name() + " was cancelled: its job is over")
		}
	}
}

// jobsTasks lists the node's running and queued tasks that ofJobs picks
// by ID (any call of a group).
func (n *Node) jobsTasks(ofJobs func(id string) bool) []*task {
	return n.tasksWhere(func(t *task) bool { return ofJobs(t.call.ID) })
}

// tasksWhere lists the node's running and queued tasks that pick picks
// (any call of a group).
func (n *Node) tasksWhere(pick func(t *task) bool) []*task {
	var out []*task
	for _, w := range n.sched.Select(func(w localsched.Work) bool { return slices.ContainsFunc(tasksOf(w), pick) }) {
		for _, t := range tasksOf(w) {
			if pick(t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// handleReleaseObjects serves wire.QueryReleaseObjects: the owner of the
// objects named fetched their values and gave no one else a reference,
// so this process serves them no more (the store frees each value when
// its last handle goes). Objects of other processes' jobs are released
// the same way: only their owner sends this.
func (nw *network) handleReleaseObjects(body []byte) error {
	ids, err := wire.DecodeStrings(body)
	if err != nil {
		return wire.ErrMalformed
	}
	nw.mu.Lock()
	for _, id := range ids {
		delete(nw.served, id)
	}
	nw.mu.Unlock()
	return nil
}
