package owner

import (
	"context"
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Releasing the copies of fetched results (issue 15: memory that stays
// flat).
//
// A large result stays with the process that made it, which serves it
// to its owner (this process) and to whoever else was given a reference
// to it. Once the owner has fetched it while no reference had left the
// owner (objstore.Object.MarkShared), nobody will ask the holder for it
// again: the owner tells the holder, which drops it (its store frees the
// value when its last handle goes), and forgets the task's lineage, as
// it does for a result that came inline; for a task (not a method call,
// whose lineage its actor's restart replays) it also has the task's row
// deleted from the GCS. Releases are gathered for releaseDelay and sent
// per holder in one message, off the reader's goroutine; row deletions
// are gathered for rowDeleteDelay, so that the lineage stash has written
// the rows first. Both are best effort: a holder that misses a release
// keeps the value until the job ends, as before, and a row written after
// its deletion goes with its job.

// KeepResults makes the owner release nothing: its job may be run again,
// and the re-run reuses the results the nodes still hold (nodeagent's
// reuse.go). It is called before the owner is used.
func (ow *Owner) KeepResults() { ow.keepResults = true }

// releaseDelay is how long releases gather before they are sent.
const releaseDelay = 5 * time.Millisecond

// rowDeleteDelay is how long row deletions gather before they are sent.
const rowDeleteDelay = time.Second

// releaseSendTimeout bounds one release message.
const releaseSendTimeout = 5 * time.Second

// releases are what is to be released and not sent yet: object IDs by
// holder, and task IDs whose rows are to be deleted. They are guarded by
// mu, never held with another lock.
type releases struct {
	mu      sync.Mutex
	pending map[string][]string
	rows    []string
}

// taskResult and callResult are the objstore.Releaser of a task's result
// and of a method call's.
type (
	taskResult struct{ *Owner }
	callResult struct{ *Owner }
)

// Released is told that the value of o, a task's result held at addr,
// was fetched here while no reference to it had left this process.
func (r taskResult) Released(o *objstore.Object, addr string) {
	r.release(o, addr, true)
}

// Released is callResult's: the call's lineage stays.
func (r callResult) Released(o *objstore.Object, addr string) {
	r.release(o, addr, false)
}

// Grouped is implemented by a Task that may be one call of a group
// (nodeagent's batches and fusions), whose lineage is one record keyed by
// the group's first call: the lineage of such a call is kept, here and in
// the GCS, for the group's other calls.
type Grouped interface {
	Grouped() bool
}

// release sends (soon) o's release to its holder at addr. With rows,
// when o is the result of a task alone whose lineage this process keeps,
// it also forgets that lineage and has the task's row deleted.
func (ow *Owner) release(o *objstore.Object, addr string, rows bool) {
	if ow.deferRelease(o, addr) {
		return // lent: released when its last lend comes back (lend.go)
	}
	if rows {
		ow.mu.Lock()
		e := ow.lineage.get(o.ID())
		rows = e != nil && e.t.Object() == o && !isGrouped(e.t)
		if rows {
			ow.lineage.drop(o.ID()) // the value is here now
		}
		ow.mu.Unlock()
	}
	r := &ow.releases
	r.mu.Lock()
	first := len(r.pending) == 0
	if r.pending == nil {
		r.pending = map[string][]string{}
	}
	r.pending[addr] = append(r.pending[addr], o.ID())
	firstRow := rows && len(r.rows) == 0
	if rows {
		r.rows = append(r.rows, o.ID())
	}
	r.mu.Unlock()
	if first {
		time.AfterFunc(releaseDelay, ow.sendReleases)
	}
	if firstRow {
		time.AfterFunc(rowDeleteDelay, ow.deleteRows)
	}
}

// isGrouped reports whether t is a call of a group (Grouped).
func isGrouped(t Task) bool {
	g, ok := t.(Grouped)
	return ok && g.Grouped()
}

// sendReleases sends the gathered releases, one message per holder.
func (ow *Owner) sendReleases() {
	r := &ow.releases
	r.mu.Lock()
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	for addr, ids := range pending {
		if ow.net.IsDead(addr) {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), releaseSendTimeout)
			defer cancel()
			msg := append([]byte{wire.QueryReleaseObjects}, wire.EncodeStrings(ids...)...)
			ow.net.Call(ctx, addr, transport.Query, msg)
		}()
	}
}

// deleteRows has the gathered tasks' rows deleted from the GCS.
func (ow *Owner) deleteRows() {
	r := &ow.releases
	r.mu.Lock()
	rows := r.rows
	r.rows = nil
	r.mu.Unlock()
	ow.net.DeleteLineage(rows)
}
