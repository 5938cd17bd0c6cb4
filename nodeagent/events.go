package nodeagent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Task events (package taskevents, whose doc says why it is built so):
// every process of a cluster records the submissions and ends of the
// tasks, calls and actors it handles in its Cluster.events outbox; at
// each heartbeat (or early, when the outbox is half full) a report adds
// what the nodes queue and run then and sends the outbox to every head
// (reportEvents), whose network.events table the state API and timelines
// read. An embedded cluster records only for --timeline, and only runs.
// The note* calls below are the only task-path cost: a short lock and an
// append (and a clock read where the path had none).

// newRecorder is the recorder a process keeps: none for an embedded
// cluster that was not asked for a timeline (which records only the
// ends of runs, each with its start).
func newRecorder(cfg Config) *taskevents.Recorder {
	switch {
	case cfg.Net != nil:
		return taskevents.NewRecorder(taskevents.OutboxLimit)
	case cfg.Timeline:
		return taskevents.NewRecorder(0)
	}
	return nil
}

// jobEventLimit is how many tasks a head's table keeps per job:
// taskevents.JobLimit, or RAYFLOW_STATE_JOB_LIMIT when it is set (to
// try the bound without running thousands of tasks).
func jobEventLimit() int {
	if n, err := strconv.Atoi(os.Getenv("RAYFLOW_STATE_JOB_LIMIT")); err == nil && n > 0 {
		return n
	}
	return taskevents.JobLimit
}

func errorText(err *exec.Error) string {
	if err == nil {
		return ""
	}
	return err.Kind + ": " + err.Msg
}

// endState is the state a run that ended with err is in.
func endState(err *exec.Error) taskevents.State {
	switch {
	case err == nil:
		return taskevents.Finished
	case err.Kind == exec.KindCancelled:
		return taskevents.Cancelled
	}
	return taskevents.Failed
}

// noteSubmitted records a task its owner submitted: pending, not placed
// (the first transition: it needs no time).
func (c *Cluster) noteSubmitted(t *task) {
	if c.events != nil && c.net != nil && !t.obj.IsReady() { // a timeline needs only runs; a task failed already is superseded
		c.events.Add(pendingEvent(t))
	}
}

// pendingEvent is the event of t submitted and not placed yet: pending,
// superseded by its end.
func pendingEvent(t *task) taskevents.Event {
	return taskevents.Event{ID: t.call.ID, Name: t.call.Name(), State: taskevents.Pending, Worker: -1, Over: taskevents.DoneChan(t.obj.Done())}
}

// submittedGroups are the groups a process submitted whose last call
// has not ended. Its lock guards the set: submitters add, the end of a
// group's last call removes, a report reads (snapshotTasks).
type submittedGroups struct {
	mu  sync.Mutex
	set map[*submittedGroup]struct{}
}

// submittedGroup is the tasks of one group submitted.
type submittedGroup struct{ tasks []*task }

// noteGroupSubmitted records the tasks of a group submitted, as
// noteSubmitted records a task, with no event per call as they are
// submitted: the group is kept among those in flight until its last call
// ends (one wait for the group), and each report records pending those
// of its calls not ended by then (snapshotTasks). A call that comes and
// goes between two reports was recorded pending and superseded by its
// end before; now it is not recorded pending: the same events are sent.
func (c *Cluster) noteGroupSubmitted(tasks []*task) {
	if c.events == nil || c.net == nil || len(tasks) == 0 {
		return
	}
	g := &submittedGroup{tasks: tasks}
	f := &c.inFlight
	f.mu.Lock()
	if f.set == nil {
		f.set = map[*submittedGroup]struct{}{}
	}
	f.set[g] = struct{}{}
	f.mu.Unlock()
	tasks[len(tasks)-1].obj.OnReady(func() {
		f.mu.Lock()
		delete(f.set, g)
		f.mu.Unlock()
	})
}

// snapshotInFlight records pending, for a report, the calls of the
// groups in flight not ended yet.
func (c *Cluster) snapshotInFlight() {
	f := &c.inFlight
	f.mu.Lock()
	defer f.mu.Unlock()
	for g := range f.set {
		for _, t := range g.tasks {
			if !t.obj.IsReady() {
				c.events.Add(pendingEvent(t))
			}
		}
	}
}

// noteQueued notes the node whose queue a task entered, for the record
// of its cancelling there; that it waits there is reported from the
// node's queue at each report (snapshotTasks), not from here.
func (c *Cluster) noteQueued(t *task, n *Node) {
	if c.events != nil && c.net != nil {
		t.queuedOn.Store(n)
	}
}

// maxQueuedReported bounds the queued tasks of a node one report lists.
const maxQueuedReported = 10_000

// snapshotTasks records, just before a report, what this process's node
// queues and runs now: a task that waits or runs across a report shows
// PENDING on its node or RUNNING; one that comes and goes between two
// costs the task path nothing but its submission and its end.
func (c *Cluster) snapshotTasks() {
	if c.events == nil {
		return
	}
	c.snapshotInFlight()
	now := time.Now().UnixNano()
	for _, n := range c.nodes {
		queued, running := n.sched.Snapshot(maxQueuedReported)
		for _, w := range queued {
			for _, t := range tasksOf(w) {
				c.noteWaiting(t, n, now)
			}
		}
		for _, r := range running {
			for _, t := range tasksOf(r.W) {
				if started := t.started.Load(); started == 0 {
					c.noteWaiting(t, n, now) // a later call of a group under way
				} else if !t.obj.IsReady() {
					c.events.Add(taskevents.Event{ID: t.call.ID, Name: t.call.Name(), State: taskevents.Running, Node: n.ID,
						Worker: int32(r.Worker), At: started, Over: taskevents.DoneChan(t.obj.Done())})
				}
			}
		}
	}
}

// noteWaiting records a task waiting on node n.
func (c *Cluster) noteWaiting(t *task, n *Node, now int64) {
	if !t.obj.IsReady() {
		c.events.Add(taskevents.Event{ID: t.call.ID, Name: t.call.Name(), State: taskevents.Pending, Node: n.ID, Worker: -1,
			At: now, Over: taskevents.DoneChan(t.obj.Done())})
	}
}

// noteEnded records a task's end on node n (started zero: it never ran).
func (c *Cluster) noteEnded(t *task, node string, worker int, started, ended time.Time, err *exec.Error) {
	c.noteCallEnded(t.call.ID, t.call.Name(), node, worker, started, ended, err)
}

// noteCallEnded records the end on node of the task call id of function
// name: a task's (noteEnded), or a call of a fused run, which has no task
// record of its own here (group_fused.go) and is listed as a task by
// this event as by a task's.
func (c *Cluster) noteCallEnded(id, name, node string, worker int, started, ended time.Time, err *exec.Error) {
	if c.events != nil {
		c.events.Add(callEndedEvent(id, name, node, worker, started, ended, err))
	}
}

// callEndedEvent is the event of noteCallEnded.
func callEndedEvent(id, name, node string, worker int, started, ended time.Time, err *exec.Error) taskevents.Event {
	var from int64
	if !started.IsZero() {
		from = started.UnixNano()
	}
	return taskevents.Event{ID: id, Name: name, State: endState(err), Node: node, Worker: int32(worker),
		Error: errorText(err), At: ended.UnixNano(), Start: from}
}

// noteMethod records a method call's run on node.
func (c *Cluster) noteMethod(name, callID, node string, started time.Time, err *exec.Error) {
	if c.events != nil {
		c.events.Add(taskevents.Event{ID: callID, Name: name, Kind: taskevents.KindMethod, State: endState(err), Node: node, Worker: -1,
			Error: errorText(err), At: time.Now().UnixNano(), Start: started.UnixNano()})
	}
}

// noteActor records an actor's start (alive) or stop on node.
func (c *Cluster) noteActor(id string, class *exec.ActorClass, node string, gen int, st taskevents.State) {
	if c.events == nil {
		return
	}
	e := taskevents.Event{ID: id, Kind: taskevents.KindActor, State: st, Node: node, Worker: -1, Restarts: int32(gen), At: time.Now().UnixNano()}
	if class != nil {
		e.Name = class.Name()
		if class.Info != nil {
			e.MaxRestarts = int32(class.Info.Restarts)
		}
	}
	c.events.Add(e)
}

// reportEvents sends the events recorded since the last report to every
// head, as one batch (a head applies its own to its table directly).
// When no head took the batch it goes back to the outbox for the next
// report.
func (nw *network) reportEvents(ctx context.Context) {
	nw.c.snapshotTasks()
	b := nw.c.events.Take()
	if b == nil {
		return
	}
	var taken atomic.Bool
	if nw.events != nil {
		nw.events.Apply(b)
		taken.Store(true)
	}
	var body []byte
	var wg sync.WaitGroup
	for _, addr := range nw.hc.Order() {
		if addr == nw.addr {
			continue
		}
		if body == nil {
			body = append([]byte{wire.QueryReportEvents}, taskevents.Encode(b)...)
		}
		wg.Go(func() {
			if _, err := nw.hc.CallAt(ctx, addr, transport.Query, body); err == nil {
				taken.Store(true)
			}
		})
	}
	wg.Wait()
	if !taken.Load() {
		nw.c.events.PutBack(b)
		return
	}
	nw.c.events.Recycle(b)
}

// handleReportEvents applies a batch of events a process reported.
func (nw *network) handleReportEvents(body []byte) error {
	if nw.events == nil {
		return errNotHead
	}
	b, err := taskevents.Decode(body)
	if err != nil {
		return wire.ErrMalformed
	}
	nw.events.Apply(b)
	return nil
}

// flushWait bounds how long a head waits for the processes' outboxes
// before it answers a state query, and a driver before it writes its
// timeline.
const flushWait = 2 * time.Second

// flushEverywhere asks every live process to report its events now, and
// waits (up to flushWait) until they have: a process that does not
// answer in time is left out of the answer.
func (nw *network) flushEverywhere(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, flushWait)
	defer cancel()
	nw.askEach(ctx, nw.liveAddrs(ctx), []byte{wire.QueryFlushEvents}, nil)
	nw.reportEvents(ctx) // this process's own, last
}

// stateQuery is a question of the state API to a head
// (wire.QueryState), as JSON.
type stateQuery struct {
	What  string `json:"what"` // tasks, summary, actors, objects, timeline
	Job   string `json:"job"`
	State string `json:"state"`
	Limit int    `json:"limit"`
}

// handleStateQuery answers a state query from this head's table, after
// the live processes reported what they have.
func (nw *network) handleStateQuery(ctx context.Context, body []byte) (*transport.Message, error) {
	if nw.events == nil {
		return nil, errNotHead
	}
	var q stateQuery
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, wire.ErrMalformed
	}
	nw.flushEverywhere(ctx)
	var answer any
	switch q.What {
	case "tasks":
		list, total, dropped := nw.events.Tasks(q.Job, q.State, q.Limit)
		answer = map[string]any{"result": list, "total": total, "shown": len(list), "dropped": dropped}
	case "summary":
		byName, total, dropped := nw.events.Summary(q.Job)
		answer = map[string]any{"result": byName, "total": total, "dropped": dropped}
	case "actors":
		answer = map[string]any{"result": nw.events.Actors(q.Job, q.State, nw.deadNodes())}
	case "objects":
		answer = map[string]any{"result": nw.gatherObjects(ctx, q.Job)}
	case "timeline":
		answer = taskevents.Trace(nw.events.Runs(q.Job), 0)
	default:
		return nil, fmt.Errorf("unknown state query %q", q.What)
	}
	data, err := json.Marshal(answer)
	if err != nil {
		return nil, err
	}
	return transport.Reply(data), nil
}

// deadNodes reports, by this head's membership, whether a node is dead.
func (nw *network) deadNodes() func(string) bool {
	dead := map[string]bool{}
	for _, n := range nw.cfg.Membership.All() {
		if n.State == gcs.NodeDead {
			dead[n.ID] = true
		}
	}
	return func(id string) bool { return dead[id] }
}

// StateObject is one object as the state API lists it.
type StateObject struct {
	ObjectID string `json:"object_id"`
	Size     int64  `json:"size"`
	NodeID   string `json:"node_id"`
	Spilled  bool   `json:"spilled"`
	JobID    string `json:"job_id"`
}

// localObjects lists the large objects this process keeps for others,
// of a job ("" for all), at most limit of them.
func (nw *network) localObjects(job string, limit int) []StateObject {
	nw.mu.Lock()
	held := make([]*objstore.Object, 0, len(nw.served))
	for _, o := range nw.served {
		if job == "" || taskevents.JobOf(o.ID()) == job {
			held = append(held, o)
		}
	}
	nw.mu.Unlock()
	out := []StateObject{}
	for _, o := range held {
		h := o.Big()
		if h == nil || len(out) >= limit {
			continue
		}
		out = append(out, StateObject{ObjectID: o.ID(), Size: h.Size(), NodeID: nw.c.Head().ID, Spilled: h.Spilled(), JobID: taskevents.JobOf(o.ID())})
	}
	return out
}

// maxObjectsListed bounds the objects one node lists.
const maxObjectsListed = 10_000

// handleObjectsQuery answers wire.QueryObjects: this node's objects of a
// job, as JSON.
func (nw *network) handleObjectsQuery(body []byte) (*transport.Message, error) {
	d := codec.NewDecoder(body)
	job := d.String()
	if err := d.Finish(); err != nil {
		return nil, wire.ErrMalformed
	}
	data, err := json.Marshal(nw.localObjects(job, maxObjectsListed))
	if err != nil {
		return nil, err
	}
	return transport.Reply(data), nil
}

// gatherObjects asks every live node for its objects of a job.
func (nw *network) gatherObjects(ctx context.Context, job string) []StateObject {
	ctx, cancel := context.WithTimeout(ctx, flushWait)
	defer cancel()
	w := &codec.Encoder{}
	w.String(job)
	query := append([]byte{wire.QueryObjects}, w.Bytes()...)
	all := nw.localObjects(job, maxObjectsListed)
	nw.askEach(ctx, nw.liveAddrs(ctx), query, func(_ string, payload []byte) {
		var objs []StateObject
		if json.Unmarshal(payload, &objs) == nil {
			all = append(all, objs...)
		}
	})
	return all
}

// handleTimelineQuery serves wire.QueryTimeline on a head: the runs of
// the jobs' tasks and calls, as Chrome trace events (JSON).
func (nw *network) handleTimelineQuery(ctx context.Context, body []byte) (*transport.Message, error) {
	if nw.events == nil {
		return nil, errNotHead
	}
	jobs, err := wire.DecodeStrings(body)
	if err != nil {
		return nil, wire.ErrMalformed
	}
	nw.flushEverywhere(ctx)
	var runs []taskevents.Run
	for _, j := range jobs {
		runs = append(runs, nw.events.Runs(j)...)
	}
	data, err := json.Marshal(runs)
	if err != nil {
		return nil, err
	}
	return transport.Reply(data), nil
}

// timelineGatherTimeout bounds how long a driver waits for the runs.
const timelineGatherTimeout = 5 * time.Second

// gatherTimeline asks a head for the runs of the jobs this driver ran,
// once every live process has reported them.
func (nw *network) gatherTimeline() []taskevents.Run {
	jobs := nw.drivenJobs()
	if len(jobs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timelineGatherTimeout)
	defer cancel()
	rep, err := nw.hc.Call(ctx, transport.Query, append([]byte{wire.QueryTimeline}, wire.EncodeStrings(jobs...)...))
	if err != nil {
		return nil
	}
	var runs []taskevents.Run
	if json.Unmarshal(rep, &runs) != nil {
		return nil
	}
	return runs
}

// WriteTimeline writes the recorded runs as Chrome trace JSON: this
// process's, and on a driver of a cluster those its jobs' tasks made on
// the nodes (from the heads). It writes an empty trace when the cluster
// was not asked to record one.
func (c *Cluster) WriteTimeline(w io.Writer) error {
	var runs []taskevents.Run
	if c.cfg.Timeline {
		if c.isDriver() {
			runs = c.net.gatherTimeline()
		} else {
			b := c.events.Take()
			t := taskevents.NewTable(0)
			t.Apply(b)
			runs = t.Runs("")
			c.events.PutBack(b) // a later call sees them too
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": taskevents.Trace(runs, 0), "displayTimeUnit": "ms"})
}

// noteCancelledQueued records a task cancelled before it ran.
func (t *task) noteCancelledQueued() {
	if n := t.queuedOn.Load(); n != nil {
		n.cluster.noteEnded(t, n.ID, -1, time.Time{}, time.Now(), &exec.Error{Kind: exec.KindCancelled, Msg: t.obj.Name() + " was cancelled"})
	}
}

// reportTick is the heartbeat loop's turn at events: report the outbox
// to the heads on a goroutine of its own, bounded by a second or a
// heartbeat period, so that a head slow to answer never delays the next
// heartbeat; while one report is under way the next tick skips.
func (nw *network) reportTick() {
	if !nw.reporting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer nw.reporting.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), max(nw.cfg.HeartbeatEvery, time.Second))
		defer cancel()
		nw.reportEvents(ctx)
	}()
}

// FetchState asks the head at addr a question of the state API (what:
// tasks, summary, actors, objects or timeline; job and state filter,
// "" for any; limit bounds a list, 0 for none), proving the cluster
// token over TLS when tlsCfg is set. The reply is the answer's JSON, in
// the shapes of the HTTP state API (spec/state.md).
func FetchState(ctx context.Context, addr string, token []byte, tlsCfg *tls.Config, what, job, state string, limit int) ([]byte, error) {
	q, err := json.Marshal(stateQuery{What: what, Job: job, State: state, Limit: limit})
	if err != nil {
		return nil, err
	}
	pool := transport.NewPool(transport.Options{NodeID: "state", Token: token, TLS: tlsCfg})
	defer pool.Close()
	msg, err := pool.Call(ctx, addr, transport.Query, append([]byte{wire.QueryState}, q...))
	if err != nil {
		return nil, err
	}
	return msg.Payload, nil
}
