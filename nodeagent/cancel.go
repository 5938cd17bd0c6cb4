package nodeagent

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// Cancelling a subtree of work.
//
// Task IDs are hierarchical: a call made by task X has the ID X.N, and
// the calls of a job's driver start with the job's ID and a dot. So the
// subtree of a task (the tasks it submitted, the tasks they submitted,
// ...) is every task whose ID is the task's ID or starts with it and a
// dot, wherever it is: waiting for its arguments, queued, running, on
// its way to another node or about to be sent again. cancel(f) and the
// end of a job (net_release.go) both cancel a subtree the same way:
//
//  1. the subtree's root ID is marked cancelled in this process (and, in
//     a cluster, in every live process: a Cancel or QueryRelease message);
//  2. the tasks of the subtree each node queues or runs are cancelled;
//  3. a task checks the marks at every step where it could start
//     something: when it is submitted, when its arguments are ready,
//     when it is sent, when it arrives from another process, and when
//     its worker picks it up. A task that passed one check just before
//     the mark was made is caught at the next one, at the latest before
//     its body runs.
//
// A subtree stops at actors: an actor created in it, and the tasks its
// methods submit (their IDs start with the actor's), live on (the actor
// may serve other callers). A task knows the nearest actor among its
// callers (task.bound; it travels in wire.Submit.ActorID), and a mark
// above that actor does not reach it. The end of a job reaches all of it.
//
// Marks of tasks stay until their job ends (a job's end releases them);
// the mark of an ended job stays jobMarkTTL, long enough for any task of
// it still on the wire to arrive and be dropped.

// jobMarkTTL is how long an ended job's mark is kept.
const jobMarkTTL = time.Minute

// cancelMarks are the roots of the subtrees cancelled in this process,
// and the jobs that ended here. Its own lock; checked by every path that
// starts work (cheaply while there are none).
type cancelMarks struct {
	some atomic.Bool // whether ids has any entry
	mu   sync.RWMutex
	ids  map[string]mark // root or job ID -> its mark
}

// mark is one entry of cancelMarks.
type mark struct {
	at    time.Time // when it was made
	ended bool      // the ID is a job's, and the job ended: all of it stops
}

// add marks the subtree of id cancelled.
func (m *cancelMarks) add(id string) { m.put(id, false) }

// endJob marks a job ended: every task of it stops, its actors' included.
func (m *cancelMarks) endJob(job string) { m.put(job, true) }

func (m *cancelMarks) put(id string, ended bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ids == nil {
		m.ids = map[string]mark{}
	}
	now := time.Now()
	if old, ok := m.ids[id]; ok && old.ended {
		ended = true
	}
	m.ids[id] = mark{at: now, ended: ended}
	m.pruneLocked(now)
}

// prune drops the marks of jobs that ended more than jobMarkTTL before
// now. The heartbeat loop calls it: without it the last ended job's mark
// stayed until the next mark was made, and every check took the lock.
func (m *cancelMarks) prune(now time.Time) {
	if !m.some.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(now)
}

func (m *cancelMarks) pruneLocked(now time.Time) {
	for k, mk := range m.ids {
		if mk.ended && now.Sub(mk.at) > jobMarkTTL {
			delete(m.ids, k)
		}
	}
	m.some.Store(len(m.ids) > 0)
}

// covers reports whether a task is in a cancelled subtree: its job
// ended, or its ID or one of its ancestors (the prefixes of id that end
// before a dot) below its bound (the nearest actor among its callers, ""
// for none) is marked.
func (m *cancelMarks) covers(id, bound string) bool {
	if !m.some.Load() {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ids[jobOf(id)].ended {
		return true
	}
	for len(id) > len(bound) {
		if _, ok := m.ids[id]; ok {
			return true
		}
		i := strings.LastIndexByte(id, '.')
		if i < 0 {
			return false
		}
		id = id[:i]
	}
	return false
}

// jobEnded reports whether the job ended here (jobMarkTTL ago at most).
func (m *cancelMarks) jobEnded(job string) bool {
	if !m.some.Load() {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ids[job].ended
}

// forgetJobs drops the marks of tasks of ended jobs (ofJobs picks them);
// the marks of the jobs themselves stay (put prunes them).
func (m *cancelMarks) forgetJobs(ofJobs func(id string) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.ids {
		if ofJobs(k) {
			delete(m.ids, k)
		}
	}
	m.some.Store(len(m.ids) > 0)
}

// jobOf is the ID of the job a task, actor, object or driver ID belongs
// to.
func jobOf(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// inSubtree reports whether a task (its ID and bound) is in the subtree
// of root: root is the task or an ancestor of it below its bound.
func inSubtree(id, bound, root string) bool {
	return strings.HasPrefix(id, root) && (len(id) == len(root) || id[len(root)] == '.') && len(root) > len(bound)
}

// cancelBound is the bound of the tasks th submits: the nearest actor
// among their callers.
func cancelBound(th *exec.Thread) string {
	if t, _ := th.Local[localTask].(*task); t != nil {
		return t.bound
	}
	if a, _ := th.Local[localActor].(string); a != "" {
		return a
	}
	return ""
}

// stopIfCancelled reports whether t must not start: it was cancelled, or
// it is in a subtree cancelled since it was made, or this process is
// shutting down (then it is cancelled now, and its object completes as
// cancelled).
func (c *Cluster) stopIfCancelled(t *task) bool {
	if t.Cancelled() {
		return true
	}
	if c.stop.Load() || c.marks.covers(t.call.ID, t.bound) {
		t.Cancel(t.obj.Name() + " was cancelled")
		return true
	}
	return false
}

// cancelTree cancels the subtrees of the tasks roots, here and, in a
// cluster, in every live process.
func (c *Cluster) cancelTree(roots []string) {
	c.cancelHere(roots)
	c.scope.cancelTree(roots)
}

// cancelHere marks the subtrees of roots cancelled in this process and
// cancels the tasks of them that its nodes queue or run.
func (c *Cluster) cancelHere(roots []string) {
	for _, r := range roots {
		c.marks.add(r)
	}
	picks := func(t *task) bool {
		for _, r := range roots {
			if inSubtree(t.call.ID, t.bound, r) {
				return true
			}
		}
		return false
	}
	for _, n := range c.nodes {
		for _, t := range n.tasksWhere(picks) {
			t.Cancel(t.obj.Name() + " was cancelled")
		}
	}
}

// CancelJob cancels what a job's driver submitted, as cancel would each
// of its tasks: the subtree of the driver's thread, down to the actors
// (which live on). For a driver that stays after one of its runs was
// interrupted (a REPL input); a driver that leaves ends its jobs instead.
func (c *Cluster) CancelJob(jobID string) {
	if validJobID(jobID) && !c.stop.Load() {
		c.cancelTree([]string{jobID})
	}
}

// Cancel cancels the task behind a future, if it has not finished, and
// every task it submitted, transitively, wherever they are.
func (c *Cluster) Cancel(th *exec.Thread, f *exec.Future) error {
	if c.stop.Load() {
		return nil
	}
	o := objstore.ObjectOf(f)
	if o == nil {
		return nil
	}
	t := o.Producer()
	if t == nil {
		return nil // finished, a put, or an actor method call
	}
	t.Cancel(o.Name() + " was cancelled")
	c.cancelTree([]string{o.ID()})
	return nil
}
