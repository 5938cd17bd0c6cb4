package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent"
)

// progress shows a live status line (tasks submitted, running, done,
// failed; actors) on the terminal while a run goes on, and removes it at
// the end. Program output written through its Writer clears the line
// first, so the two never mix. The line is drawn on stderr, and only when
// stderr is a terminal (cmdRun asks tty.IsTerminal): redirected to a
// file, stderr gets errors only, never escape codes.
type progress struct {
	mu      sync.Mutex
	out     io.Writer // program output
	term    io.Writer // where the status line goes
	shown   bool
	stop    chan struct{}
	stopped chan struct{}
}

func newProgress(out, term io.Writer) *progress {
	return &progress{out: out, term: term, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// Write passes program output through, clearing the status line first.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	return p.out.Write(b)
}

func (p *progress) clearLocked() {
	if p.shown {
		io.WriteString(p.term, "\r\033[K")
		p.shown = false
	}
}

// watch redraws the status line every 100 ms until done is called.
func (p *progress) watch(c *nodeagent.Cluster) {
	go func() {
		defer close(p.stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.draw(c.Progress())
			}
		}
	}()
}

// draw shows the counts. A driver on a cluster runs none of its work:
// it counts what it submitted and what came back, so its line says how
// much is in flight (queued or running on the nodes) rather than running.
func (p *progress) draw(s nodeagent.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	running := "running"
	if s.InFlight {
		running = "in flight"
	}
	fmt.Fprintf(p.term, "\r\033[Ktasks: %d submitted, %d %s, %d done, %d failed · actors: %d",
		s.Submitted, s.Running, running, s.Done, s.Failed, s.Actors)
	p.shown = true
}

// done stops the redraws and removes the line.
func (p *progress) done() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	select {
	case <-p.stopped:
	case <-time.After(time.Second):
	}
	p.mu.Lock()
	p.clearLocked()
	p.mu.Unlock()
}
