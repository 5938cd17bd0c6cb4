package httpapi

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// maxJobOutput bounds the log kept of a job: a job that prints more
// keeps its first maxJobOutput bytes and a marker of how much more it
// printed (1 GB of prints took a head to 8.5 GB).
const maxJobOutput = 1 << 20

// jobLog is one job's output: the first maxJobOutput bytes it printed,
// a count of what it printed beyond them, and a way to wait for more.
// Nodes' prints arrive on their own goroutines; readers (logs, tail) on
// the HTTP server's. A log outlives its job: a stopped or failed job
// keeps what it printed until the job is deleted.
type jobLog struct {
	mu      sync.Mutex
	kept    []byte
	dropped int64
	ended   bool
	grown   chan struct{} // closed and replaced on every write, closed on end
}

func newJobLog() *jobLog { return &jobLog{grown: make(chan struct{})} }

func (l *jobLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	room := max(maxJobOutput-len(l.kept), 0)
	if room >= len(p) {
		l.kept = append(l.kept, p...)
	} else {
		l.kept = append(l.kept, p[:room]...)
		l.dropped += int64(len(p) - room)
	}
	if !l.ended {
		close(l.grown)
		l.grown = make(chan struct{})
	}
	return len(p), nil
}

// end marks the log complete: a tail that has read it all returns.
func (l *jobLog) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.ended = true
		close(l.grown)
	}
}

// String is what was kept, with the truncation marker when some was
// dropped.
func (l *jobLog) String() string {
	text, _, _ := l.since(0)
	return string(text) + l.marker()
}

// since returns what was kept from offset on, a channel closed when
// there is more (or the log ends), and whether the log has ended.
func (l *jobLog) since(offset int) ([]byte, <-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.kept[min(offset, len(l.kept)):]...), l.grown, l.ended
}

// marker says how much was dropped ("" when nothing was).
func (l *jobLog) marker() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return truncationMarker(l.dropped)
}

// newJobLogFrom is a log that starts with what earlier attempts of its
// job printed (at most maxJobOutput of it).
func newJobLogFrom(prev []byte) *jobLog {
	l := newJobLog()
	l.Write(prev)
	return l
}

// keptBytes is how many bytes the log keeps.
func (l *jobLog) keptBytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.kept)
}

// droppedBytes is how many bytes were printed past the bound.
func (l *jobLog) droppedBytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// truncationMarker is the marker of a log of which dropped bytes were
// not kept ("" for none).
func truncationMarker(dropped int64) string {
	if dropped == 0 {
		return ""
	}
	return fmt.Sprintf("\n[output truncated: %d more bytes were printed after the first %d]\n", dropped, maxJobOutput)
}

// logSource is a log a tail follows: a jobLog of a job this head
// supervises, or a storedLog of any other.
type logSource interface {
	// since returns the log from offset on, a channel closed when there
	// may be more, and whether the log has ended.
	since(offset int) ([]byte, <-chan struct{}, bool)
	// marker is the truncation marker, once the log has ended.
	marker() string
}

// logSourceOf is the log of the job of rec to follow.
func (s *Server) logSourceOf(rec gcs.APIJob) logSource {
	if j := s.jobs.local(rec.JobID); j != nil {
		return j.log
	}
	return &storedLog{store: s.store, submissionID: rec.SubmissionID, jobID: rec.JobID}
}

// logOf is the log of the job of rec, as of now.
func (s *Server) logOf(rec gcs.APIJob) string {
	if j := s.jobs.local(rec.JobID); j != nil {
		return j.log.String()
	}
	text, _, err := s.store.APIJobLog(rec.JobID, 0, gcs.Linearizable)
	if err != nil {
		text, _, _ = s.store.APIJobLog(rec.JobID, 0) // what this head's replica holds
	}
	return string(text) + truncationMarker(rec.LogDropped)
}

// storedLog follows the log of a job another head supervises, from its
// chunks in the GCS: it reads the new ones every logFlushEvery, and all
// of them once the job has ended. One tail's own.
type storedLog struct {
	store        *gcs.Store
	submissionID string
	jobID        string
	read         []byte // the chunks read so far
	chunks       uint64
	dropped      int64
}

func (l *storedLog) since(offset int) ([]byte, <-chan struct{}, bool) {
	rec, err := l.store.GetAPIJob(l.submissionID, gcs.Linearizable)
	ended := errors.Is(err, gcs.ErrNotFound) || (err == nil && rec.Ended()) // deleted, or ended
	var opts []gcs.ReadOption
	if ended {
		opts = append(opts, gcs.Linearizable)
	}
	more, n, err := l.store.APIJobLog(l.jobID, l.chunks, opts...)
	if err != nil {
		ended = false // the end's chunks could not be read for sure: at the next poll
	}
	l.read, l.chunks, l.dropped = append(l.read, more...), n, rec.LogDropped
	later := make(chan struct{})
	time.AfterFunc(logFlushEvery, func() { close(later) })
	return l.read[min(offset, len(l.read)):], later, ended
}

func (l *storedLog) marker() string { return truncationMarker(l.dropped) }
