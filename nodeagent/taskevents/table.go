package taskevents

import (
	"sort"
	"sync"
)

// JobLimit is the default bound of a Table: the tasks (and, apart, the
// actors) it keeps per job.
const JobLimit = 10_000

// MaxJobs bounds the jobs a Table keeps, and MaxTasks the tasks of all
// its jobs together: past either, the jobs least recently reported are
// forgotten (a few hundred bytes a task: MaxTasks is some 100 MB at most).
const (
	MaxJobs  = 1000
	MaxTasks = 250_000
)

// Task is one task or method call as the state API lists it. Times are
// milliseconds since the epoch, null when it has not started or ended.
type Task struct {
	TaskID    string `json:"task_id"`
	JobID     string `json:"job_id"`
	Name      string `json:"name"`
	State     string `json:"state"`
	NodeID    string `json:"node_id"`
	Error     string `json:"error"`
	StartTime *int64 `json:"start_time"`
	EndTime   *int64 `json:"end_time"`
}

// Actor is one actor as the state API lists it.
type Actor struct {
	ActorID   string `json:"actor_id"`
	ClassName string `json:"class_name"`
	State     string `json:"state"`
	NodeID    string `json:"node_id"`
	JobID     string `json:"job_id"`
	Restarts  int    `json:"restarts"`
}

// Run is a task's or method call's run, for a timeline.
type Run struct {
	ID, Name, Node string
	Method         bool
	Worker         int32
	From, To       int64 // Unix nanoseconds
	Failed         bool
}

// taskRow is what a table holds of a task.
type taskRow struct {
	id         string
	name       string
	kind       Kind
	state      State
	at         int64 // when the state was reached
	node       string
	worker     int32
	err        string
	start, end int64 // Unix nanoseconds; 0: not yet
}

// actorRow is what a table holds of an actor.
type actorRow struct {
	class                 string
	state                 State
	node                  string
	restarts, maxRestarts int32
}

// jobRows is what a table holds of one job.
type jobRows struct {
	// index finds a task's row in rows, a ring of the job's tasks in the
	// order they were first seen (the order of listing and of dropping):
	// oldest at first, once the ring is full.
	index   map[string]int32
	rows    []taskRow
	first   int
	dropped int64 // tasks dropped, here or before the report
	actors  map[string]*actorRow
	aorder  []string
	touched uint64 // the report that last named the job
}

// Table is a head's record of the events reported to it (see the package
// doc). The zero value is unusable: use NewTable.
type Table struct {
	mu      sync.Mutex
	limit   int // tasks (and actors) per job; 0: no limit
	jobs    map[string]*jobRows
	reports uint64
	tasks   int // rows of every job together
}

// NewTable returns a table that keeps at most limit tasks per job (0: no
// limit).
func NewTable(limit int) *Table {
	return &Table{limit: limit, jobs: map[string]*jobRows{}}
}

// Apply adds a report: its events (but the superseded ones, when they
// come from this process), and the drops its sender counted.
func (t *Table) Apply(b *Batch) {
	if b == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reports++
	var lastJob string // a batch's events come in runs of one job
	var j *jobRows
	for _, c := range b.Chunks {
		for i := range c {
			e := &c[i]
			if e.superseded() {
				continue
			}
			if job := JobOf(e.ID); j == nil || job != lastJob {
				lastJob, j = job, t.jobLocked(job)
			}
			if e.Kind == KindActor {
				t.applyActor(j, e)
			} else {
				t.applyTask(j, e)
			}
		}
	}
	for job, n := range b.Dropped {
		t.jobLocked(job).dropped += n
	}
	for t.tasks > MaxTasks && len(t.jobs) > 1 {
		t.forgetStalestLocked()
	}
}

// jobLocked finds or makes a job's rows, forgetting the least recently
// reported job when there are MaxJobs.
func (t *Table) jobLocked(job string) *jobRows {
	j := t.jobs[job]
	if j == nil {
		if len(t.jobs) >= MaxJobs {
			t.forgetStalestLocked()
		}
		j = &jobRows{index: map[string]int32{}, actors: map[string]*actorRow{}}
		t.jobs[job] = j
	}
	j.touched = t.reports
	return j
}

func (t *Table) forgetStalestLocked() {
	var stalest string
	var at uint64
	for id, j := range t.jobs {
		if stalest == "" || j.touched < at {
			stalest, at = id, j.touched
		}
	}
	t.tasks -= len(t.jobs[stalest].rows)
	delete(t.jobs, stalest)
}

// rank orders transitions so that a late report of an earlier one does
// not undo a later one: submitted (pending, no node), queued on a node,
// running, ended. Among transitions of one rank the later wins (a task
// spilled on to another node, a run again after its node died), so only
// those of a rank above the first need a time.
func rank(s State, node string) int {
	switch {
	case s == Pending && node == "":
		return 0
	case s == Pending:
		return 1
	case s == Running:
		return 2
	}
	return 3
}

func (t *Table) applyTask(j *jobRows, e *Event) {
	var r *taskRow
	if slot, ok := j.index[e.ID]; ok {
		r = &j.rows[slot]
		if er, rr := rank(e.State, e.Node), rank(r.state, r.node); er < rr || er == rr && e.At < r.at {
			return // an older transition reported late
		}
	} else {
		r = t.newRowLocked(j, e.ID)
		r.name = e.Name
	}
	r.state, r.at, r.kind = e.State, e.At, e.Kind
	if e.Name != "" {
		r.name = e.Name
	}
	r.node = e.Node
	switch {
	case e.State == Running:
		r.start, r.end, r.worker, r.err = e.At, 0, e.Worker, ""
	case e.State.ended():
		r.start, r.end, r.worker, r.err = e.Start, e.At, e.Worker, e.Error
	default:
		r.worker = -1
	}
}

// newRowLocked makes the row of a task first seen: at the end of the
// ring, or, when the job has its limit of tasks, in place of the oldest,
// which is dropped and counted.
func (t *Table) newRowLocked(j *jobRows, id string) *taskRow {
	slot := len(j.rows)
	if t.limit > 0 && len(j.rows) >= t.limit {
		slot = j.first
		delete(j.index, j.rows[slot].id)
		j.rows[slot] = taskRow{}
		j.first = (j.first + 1) % len(j.rows)
		j.dropped++
	} else {
		j.rows = append(j.rows, taskRow{})
		t.tasks++
	}
	j.index[id] = int32(slot)
	r := &j.rows[slot]
	r.id = id
	return r
}

// each calls f with a job's rows, the first seen first.
func (j *jobRows) each(f func(r *taskRow)) {
	for i := range j.rows {
		f(&j.rows[(j.first+i)%len(j.rows)])
	}
}

func (t *Table) applyActor(j *jobRows, e *Event) {
	a := j.actors[e.ID]
	if a == nil {
		if t.limit > 0 && len(j.actors) >= t.limit {
			delete(j.actors, j.aorder[0])
			j.aorder = j.aorder[1:]
		}
		a = &actorRow{class: e.Name, restarts: -1}
		j.actors[e.ID] = a
		j.aorder = append(j.aorder, e.ID)
	}
	// A report from an older incarnation does not change a newer one.
	if e.Restarts < a.restarts || e.Restarts == a.restarts && a.state == Dead {
		return
	}
	a.state, a.node, a.restarts, a.maxRestarts = e.State, e.Node, e.Restarts, e.MaxRestarts
	if e.Name != "" {
		a.class = e.Name
	}
}

// jobsLocked lists the IDs of the job asked for ("" for every job), in
// order.
func (t *Table) jobsLocked(job string) []string {
	if job != "" {
		if t.jobs[job] == nil {
			return nil
		}
		return []string{job}
	}
	ids := make([]string, 0, len(t.jobs))
	for id := range t.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func msPtr(ns int64) *int64 {
	if ns == 0 {
		return nil
	}
	ms := ns / 1e6
	return &ms
}

// Tasks lists the tasks of a job ("" for every job) in state ("" for
// any), at most limit of them (0: all), the first seen first; total is
// how many match, dropped how many of the jobs' tasks were dropped.
func (t *Table) Tasks(job, state string, limit int) (list []Task, total, dropped int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list = []Task{}
	for _, jid := range t.jobsLocked(job) {
		j := t.jobs[jid]
		dropped += j.dropped
		j.each(func(r *taskRow) {
			if state != "" && r.state.String() != state {
				return
			}
			total++
			if limit > 0 && len(list) >= limit {
				return
			}
			list = append(list, Task{TaskID: r.id, JobID: jid, Name: r.name, State: r.state.String(), NodeID: r.node,
				Error: r.err, StartTime: msPtr(r.start), EndTime: msPtr(r.end)})
		})
	}
	return list, total, dropped
}

// Summary counts a job's tasks ("" for every job) by name and state.
func (t *Table) Summary(job string) (byName map[string]map[string]int, total, dropped int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byName = map[string]map[string]int{}
	for _, jid := range t.jobsLocked(job) {
		j := t.jobs[jid]
		dropped += j.dropped
		for i := range j.rows {
			r := &j.rows[i]
			counts := byName[r.name]
			if counts == nil {
				counts = map[string]int{}
				for _, s := range TaskStates {
					counts[s] = 0
				}
				byName[r.name] = counts
			}
			counts[r.state.String()]++
			total++
		}
	}
	return byName, total, dropped
}

// Actors lists the actors of a job ("" for every job) in state ("" for
// any). An actor reported alive on a node that dead says is dead is
// RESTARTING while it has restarts left, else DEAD.
func (t *Table) Actors(job, state string, dead func(node string) bool) []Actor {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := []Actor{}
	for _, jid := range t.jobsLocked(job) {
		j := t.jobs[jid]
		for _, id := range j.aorder {
			a := j.actors[id]
			st := a.state.String()
			if a.state == Alive && dead != nil && dead(a.node) {
				st = "DEAD"
				if a.restarts < a.maxRestarts {
					st = "RESTARTING"
				}
			}
			if state != "" && st != state {
				continue
			}
			list = append(list, Actor{ActorID: id, ClassName: a.class, State: st, NodeID: a.node, JobID: jid, Restarts: int(a.restarts)})
		}
	}
	return list
}

// Runs lists the runs of a job's tasks and method calls that ended
// after they started, for a timeline.
func (t *Table) Runs(job string) []Run {
	t.mu.Lock()
	defer t.mu.Unlock()
	var runs []Run
	for _, jid := range t.jobsLocked(job) {
		j := t.jobs[jid]
		j.each(func(r *taskRow) {
			if r.start != 0 && r.end != 0 {
				runs = append(runs, Run{ID: r.id, Name: r.name, Node: r.node, Method: r.kind == KindMethod,
					Worker: r.worker, From: r.start, To: r.end, Failed: r.state != Finished})
			}
		})
	}
	return runs
}
