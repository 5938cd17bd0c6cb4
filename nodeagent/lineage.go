package nodeagent

import (
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
)

// lineageLog records task specifications in the GCS off the task path:
// Submit appends a record to a buffer and returns; a flusher goroutine
// writes the buffer in batches. The GCS itself is opened in the
// background, so a run's first task does not wait for Raft to elect a
// leader. (The lineage stash of issue 5 replaces this with per-node
// uncommitted logs forwarded with tasks.)
type lineageLog struct {
	mu      sync.Mutex
	pending []gcs.TaskRecord
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	ready chan struct{} // closed once the store is open (or failed)
	store *gcs.Store
	err   error
}

func openLineageLog(cfg gcs.Config) *lineageLog {
	l := &lineageLog{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		ready: make(chan struct{})}
	go func() {
		l.store, l.err = gcs.Open(cfg)
		close(l.ready)
	}()
	go l.flushLoop()
	return l
}

// record queues one task's lineage.
func (l *lineageLog) record(rec gcs.TaskRecord) {
	l.mu.Lock()
	l.pending = append(l.pending, rec)
	first := len(l.pending) == 1
	l.mu.Unlock()
	if first {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *lineageLog) flushLoop() {
	defer close(l.done)
	<-l.ready
	for {
		select {
		case <-l.wake:
			l.flush()
		case <-l.stop:
			l.flush()
			return
		}
	}
}

// flush writes what is pending as one batch, without waiting for it.
func (l *lineageLog) flush() *gcs.Future {
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(batch) == 0 || l.store == nil {
		return nil
	}
	return l.store.PutTasks(batch)
}

// Store returns the GCS once it is open.
func (l *lineageLog) Store() (*gcs.Store, error) {
	select {
	case <-l.ready:
		return l.store, l.err
	case <-time.After(5 * time.Second):
		return nil, gcs.ErrTimeout
	}
}

// close writes what is left and closes the store.
func (l *lineageLog) close() {
	select {
	case <-l.stop:
		return
	default:
	}
	close(l.stop)
	<-l.done
	if l.store != nil {
		l.store.Close()
	}
}

// taskRecord is the lineage of one task call: its deterministic ID, the
// callee, where its arguments come from, its resources, retries and
// determinism (from the compiler's annotation).
func taskRecord(call *exec.TaskCall, node string) gcs.TaskRecord {
	jobID, _, _ := strings.Cut(call.ID, ".")
	rec := gcs.TaskRecord{TaskID: call.ID, JobID: jobID, OwnerNode: node, State: "submitted"}
	if i := strings.LastIndexByte(call.ID, '.'); i > 0 {
		rec.ParentID = call.ID[:i]
	}
	rec.Function = call.Name()
	rec.Resources = call.Resources()
	if info := call.Info(); info != nil {
		rec.Retries = info.Retries
		rec.Deterministic = info.Deterministic
	}
	if call.Site != nil {
		rec.Deterministic = call.Site.Deterministic
	}
	for _, a := range call.Args {
		if a.Kind() == exec.FutureKind {
			rec.Args = append(rec.Args, gcs.TaskArg{ObjectID: a.AsFuture().ID})
			continue
		}
		var inline []byte
		if exec.EncodedSize(a) <= InlineLimit {
			inline, _ = exec.Encode(nil, a)
		}
		rec.Args = append(rec.Args, gcs.TaskArg{Inline: inline})
	}
	return rec
}
