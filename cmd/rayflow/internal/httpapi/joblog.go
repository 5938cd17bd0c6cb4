package httpapi

import (
	"fmt"
	"sync"
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
	if l.dropped == 0 {
		return ""
	}
	return fmt.Sprintf("\n[output truncated: %d more bytes were printed after the first %d]\n", l.dropped, maxJobOutput)
}
