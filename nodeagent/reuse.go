package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Reusing the results of a job's earlier runs (spec/cluster.md, Durable
// jobs). A job of the Jobs API whose head died is run again by another
// head, under a job ID of its own per attempt (AttemptJobID): the nodes
// keep the dead driver's job ID ended for a while after its lease
// expires, which would cancel a re-run under the same ID. Task IDs are
// deterministic, so the re-run's call "J_r2.7" is the first run's "J.7".
//
// Three pieces make the first run's results outlive its driver:
//
//   - a head whose lease of a job expires (net_jobs.go) releases it
//     keeping its results and its lineage (releaseJobsAs with keep) when
//     the job is one of the Jobs API that has not ended (it will be run
//     again): its tasks and actors stop everywhere as before;
//   - the re-run's driver (Config.ReuseFrom names the earlier attempts'
//     job IDs) asks every live process, at its first task, which results
//     of those jobs it holds (wire.QueryHeld);
//   - before a task is sent, a task of the re-run whose earlier twin's
//     lineage is committed, deterministic and the same call (function and
//     arguments, its futures results that were adopted too), and whose
//     result a process holds, adopts that result
//     (wire.QueryAdopt: the process serves it under the new ID, so it is
//     released with the re-run) instead of running. The driver owns it
//     as a result a node reported: fetched when read, rebuilt from its
//     lineage if its node dies.
//
// Results of tasks that are not deterministic, whose lineage never
// reached the GCS, or that were held only by the dead head, are computed
// again. The re-run's driver releases the earlier attempts' job IDs when
// it leaves. Only the driver of a re-run has a reuse (Cluster.reuse); the
// task path of every other process tests one nil pointer.

// AttemptJobID is the job ID the driver of a job's attempt runs under:
// the job's own for the first attempt, JOB_rN for attempt N.
func AttemptJobID(jobID string, attempt uint64) string {
	if attempt <= 1 {
		return jobID
	}
	return fmt.Sprintf("%s_r%d", jobID, attempt)
}

// EarlierAttempts lists the job IDs of the attempts of a job before
// attempt, oldest first: what Config.ReuseFrom names for its driver.
func EarlierAttempts(jobID string, attempt uint64) []string {
	var out []string
	for a := uint64(1); a < attempt; a++ {
		out = append(out, AttemptJobID(jobID, a))
	}
	return out
}

// attemptOf is the job an attempt's job ID belongs to (AttemptJobID's
// inverse): id itself for a first attempt.
func attemptOf(id string) string {
	i := strings.LastIndex(id, "_r")
	if i <= 0 {
		return id
	}
	if n, err := strconv.ParseUint(id[i+2:], 10, 64); err != nil || n < 2 {
		return id
	}
	return id[:i]
}

// reuse is what a re-run's driver knows of its earlier runs' results.
// Its own lock; used by the driver's submitting threads.
type reuse struct {
	from []string // the earlier attempts' job IDs
	once sync.Once
	mu   sync.Mutex
	held map[string]heldResult // by the task ID past its job ID ("7", "7.2")
	// adopted are the IDs of the calls that took an earlier result: a
	// call that takes a future takes one only if the future is one of
	// them (a future computed again may differ, if it or its own
	// arguments were not deterministic).
	adopted map[string]bool
	reused  atomic.Int64
}

// heldResult is a result of an earlier run a process holds.
type heldResult struct {
	id   string // its ID (under the earlier attempt's job ID)
	addr string // the process that holds it
	size int64  // its encoded size
}

// newReuse is the reuse of a driver whose job's earlier runs are from;
// nil for none.
func newReuse(from []string) *reuse {
	if len(from) == 0 {
		return nil
	}
	return &reuse{from: from}
}

// earlier lists the earlier attempts' job IDs (none for a nil reuse).
func (r *reuse) earlier() []string {
	if r == nil {
		return nil
	}
	return r.from
}

// take removes and returns the held result of the task ID's twin.
func (r *reuse) take(rest string) (heldResult, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.held[rest]
	delete(r.held, rest)
	return h, ok
}

// adopt records that the call id took an earlier result.
func (r *reuse) adopt(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.adopted == nil {
		r.adopted = map[string]bool{}
	}
	r.adopted[id] = true
	r.reused.Add(1)
}

// adoptedArgs reports whether every future among args took an earlier
// result.
func (r *reuse) adoptedArgs(args []exec.Value) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range args {
		if a.Kind() == exec.FutureKind && !r.adopted[a.AsFuture().ID()] {
			return false
		}
	}
	return true
}

// ReusedResults counts the tasks whose results this driver took from
// its job's earlier runs instead of running them.
func (c *Cluster) ReusedResults() int64 {
	if c.reuse == nil {
		return 0
	}
	return c.reuse.reused.Load()
}

// reuseResult is the future of a call whose result an earlier run left,
// adopted; nil when the call must run.
func (c *Cluster) reuseResult(call *exec.TaskCall, origin *Node) *exec.Future {
	r, nw := c.reuse, c.net
	r.once.Do(func() { r.held = nw.heldResults(r.from) })
	job, rest, ok := strings.Cut(call.ID, ".")
	if !ok {
		return nil
	}
	h, ok := r.take(rest)
	if !ok || !r.adoptedArgs(call.Args) || !c.sameCall(call, h.id) {
		return nil
	}
	demand, name, err := c.demandFor(call)
	if err != nil || !validJobID(job) || nw.adopt(h, call.ID) != nil {
		return nil
	}
	t := &task{call: call, obj: objstore.NewObject(call.ID, name), demand: demand}
	if c.recordLineage(call, origin) != nil {
		return nil
	}
	t.obj.SetRemote(h.addr, h.size, nw.ow)
	nw.ow.Remember(t) // rebuilt from its lineage if its node dies
	t.obj.Complete(exec.None, nil, h.addr)
	r.adopt(call.ID)
	f := t.future()
	return &f
}

// sameCall reports whether the earlier run's task old was the same call
// as call, deterministic, with its lineage committed: the GCS has its
// row, with the same function and arguments (futures by their IDs past
// the job's).
func (c *Cluster) sameCall(call *exec.TaskCall, old string) bool {
	rec, err := c.lineage.store.GetTask(old)
	if err != nil || !rec.Deterministic || rec.Function != call.Name() {
		return false
	}
	args := taskArgs(call.Args, c.net, true)
	if len(args) != len(rec.Args) {
		return false
	}
	for i, a := range args {
		b := rec.Args[i]
		if taskPart(a.ObjectID) != taskPart(b.ObjectID) || !bytes.Equal(a.Inline, b.Inline) || (a.Inline == nil) != (b.Inline == nil) {
			return false
		}
	}
	return true
}

// taskPart is an object ID past its job ID ("" for none).
func taskPart(id string) string {
	_, rest, _ := strings.Cut(id, ".")
	return rest
}

// reuseWait bounds the driver's questions to the processes that hold
// results.
const reuseWait = 5 * time.Second

// heldResults asks every live process which results of the jobs it
// holds, by task ID past the job ID; a later attempt's result wins over
// an earlier one's.
func (nw *network) heldResults(jobs []string) map[string]heldResult {
	ctx, cancel := context.WithTimeout(context.Background(), reuseWait)
	defer cancel()
	msg := append([]byte{wire.QueryHeld}, wire.EncodeStrings(jobs...)...)
	replies := map[string][]string{}
	nw.askEach(ctx, nw.liveAddrs(ctx), msg, func(addr string, payload []byte) { // a driver runs no tasks: askEach skips it
		if ss, err := wire.DecodeStrings(payload); err == nil && len(ss)%2 == 0 {
			replies[addr] = ss
		}
	})
	rank := map[string]int{} // an attempt's job ID -> its place
	for i, j := range jobs {
		rank[j] = i
	}
	held := map[string]heldResult{}
	for addr, ss := range replies {
		for i := 0; i < len(ss); i += 2 {
			size, err := strconv.ParseInt(ss[i+1], 10, 64)
			job, rest, _ := strings.Cut(ss[i], ".")
			if err != nil || rest == "" {
				continue
			}
			if prev, ok := held[rest]; ok && rank[jobOf(prev.id)] >= rank[job] {
				continue
			}
			held[rest] = heldResult{id: ss[i], addr: addr, size: size}
		}
	}
	return held
}

// adopt asks the process that holds h to serve it as id from now on.
func (nw *network) adopt(h heldResult, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), reuseWait)
	defer cancel()
	_, err := nw.pool.Call(ctx, h.addr, transport.Query, append([]byte{wire.QueryAdopt}, wire.EncodeStrings(h.id, id)...))
	return err
}

// handleReuseQuery serves wire.QueryHeld and wire.QueryAdopt.
func (nw *network) handleReuseQuery(kind byte, body []byte) (*transport.Message, error) {
	ss, err := wire.DecodeStrings(body)
	if err != nil {
		return nil, wire.ErrMalformed
	}
	if kind == wire.QueryHeld {
		return transport.Reply(wire.EncodeStrings(nw.heldOf(ss)...)), nil
	}
	if len(ss) != 2 {
		return nil, wire.ErrMalformed
	}
	return nil, nw.serveAs(ss[0], ss[1])
}

// heldOf lists the results of the jobs served here, ready, without error
// and held here: their IDs and sizes, in pairs.
func (nw *network) heldOf(jobs []string) []string {
	ofJobs := ofJobsPicker(jobs)
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []string
	for id, o := range nw.served {
		if !ofJobs(id) || !o.IsReady() {
			continue
		}
		if where, size := o.WhereAndSize(); where == "" && size > 0 {
			out = append(out, id, strconv.FormatInt(size, 10))
		}
	}
	return out
}

// serveAs serves the object served here as old under id instead.
func (nw *network) serveAs(old, id string) error {
	if !validJobID(jobOf(id)) {
		return fmt.Errorf("cannot serve %q: not a task ID", id)
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	o := nw.served[old]
	if o == nil {
		return fmt.Errorf("object %s is not held by this node", old)
	}
	delete(nw.served, old)
	nw.served[id] = o
	return nil
}

// releaseSilent releases, on a head, the jobs whose leases expired: a
// job of the Jobs API that has not ended (it will be run again) keeping
// its results and lineage, the others wholly. When the jobs table cannot
// be read (an election), the leases are renewed to try again after
// another dead timeout.
func (nw *network) releaseSilent(jobs []string) {
	records, err := nw.cfg.Store.ListAPIJobs()
	if err != nil {
		nw.leases.renew(jobs, "", time.Now())
		return
	}
	running := map[string]bool{}
	for _, r := range records {
		if !r.Ended() {
			running[r.JobID] = true
		}
	}
	var keep, release []string
	for _, j := range jobs {
		if running[attemptOf(j)] {
			keep = append(keep, j)
		} else {
			release = append(release, j)
		}
	}
	nw.releaseJobsAs(keep, true)
	nw.releaseJobsAs(release, false)
}
