package httpapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
)

// reserve registers j as supervised here before its record says so, so
// that the watcher never takes it for a job left behind; false when the
// head is stopping or already supervises the job. Either launch or
// unreserve follows.
func (s *Server) reserve(j *job) bool {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobsCtx.Err() != nil || s.jobs.byID[j.rec.JobID] != nil {
		return false
	}
	j.ctx, j.cancel = context.WithCancel(s.jobsCtx)
	j.done = make(chan struct{})
	s.jobs.byID[j.rec.JobID] = j
	s.jobs.order = append(s.jobs.order, j)
	s.jobWG.Add(1)
	return true
}

// unreserve forgets a job reserved but not launched.
func (s *Server) unreserve(j *job) {
	s.jobs.mu.Lock()
	s.jobs.remove(j)
	s.jobs.mu.Unlock()
	j.cancel()
	close(j.done)
	s.jobWG.Done()
}

// launch starts the supervisor of a reserved job.
func (s *Server) launch(j *job, source string) { go s.supervise(j.ctx, j, source) }

// supervise runs a job to its end: its own driver and working
// directory, its output into its log (and, in chunks, into the GCS),
// its changes of state into its record.
func (s *Server) supervise(ctx context.Context, j *job, source string) {
	defer s.jobWG.Done()
	defer close(j.done)
	defer j.log.end()
	defer j.cancel()
	flushed := s.startFlusher(j)
	result, err := s.runJob(ctx, j, source)
	rec := j.rec
	rec.EndTime = time.Now().UnixMilli()
	switch {
	case s.stopAsked(j):
		rec.Status, rec.Message = StatusStopped, "the job was stopped"
		fmt.Fprintln(j.log, "[the job was stopped]")
	case ctx.Err() != nil:
		rec.Status, rec.Message = StatusStopped, "the job was stopped: the head is stopping"
		fmt.Fprintln(j.log, "[the job was stopped: the head is stopping]")
	case err != nil:
		rec.Status, rec.Message = StatusFailed, rayflow.FormatError(err, source)
		fmt.Fprintf(j.log, "error: %s\n", strings.TrimRight(rec.Message, "\n"))
	default:
		rec.Status, rec.Message = StatusSucceeded, "the job succeeded"
		if result != nil {
			rec.Result, rec.HasResult = *result, true
		}
	}
	rec.Message = j.noted(rec.Message)
	rec.LogChunks, rec.LogDropped = flushed(), j.log.droppedBytes()
	s.writeEnd(j, rec)
	s.jobs.mu.Lock()
	s.jobs.remove(j)
	s.jobs.mu.Unlock()
	s.forgetOldEnded()
}

// write replaces j's record with rec, if this head still supervises it;
// a job taken over by another head is cancelled here.
func (s *Server) write(j *job, rec gcs.APIJob) {
	err := s.store.PutAPIJobIf(rec, j.rec.Supervisor, j.rec.Attempt).Error()
	if err == nil {
		j.rec = rec
		return
	}
	if gcs.IsConflict(err) || errors.Is(err, gcs.ErrNotFound) {
		j.cancel()
	}
	fmt.Fprintf(j.log, "[the job's record could not be written: %v]\n", err)
}

// endWriteFor bounds how long a supervisor tries to record its job's
// end while the GCS has no leader: a job whose end is not recorded would
// be taken for one left behind, and run again.
const endWriteFor = 30 * time.Second

// writeEnd writes the record of j's end, trying again while the GCS
// cannot take it (an election), for up to endWriteFor.
func (s *Server) writeEnd(j *job, rec gcs.APIJob) {
	deadline := time.Now().Add(endWriteFor)
	for {
		err := s.store.PutAPIJobIf(rec, j.rec.Supervisor, j.rec.Attempt).Error()
		switch {
		case err == nil:
			j.rec = rec
			return
		case gcs.IsConflict(err) || errors.Is(err, gcs.ErrNotFound) || errors.Is(err, gcs.ErrClosed) || time.Now().After(deadline):
			fmt.Fprintf(j.log, "[the job's end could not be recorded: %v]\n", err)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runJob compiles and runs the job's pipeline; the result is its repr,
// nil for none.
func (s *Server) runJob(ctx context.Context, j *job, source string) (*string, error) {
	file := j.rec.File
	if file == "" {
		file = "job.rayflow"
	}
	prog, err := rayflow.Compile(file, source, nil)
	if err != nil {
		return nil, err
	}
	driver, err := nodeagent.ConnectDriver(s.driverHeads(), nodeagent.Config{Stdout: j.log, Token: s.token, TLS: s.tls, MaxMemory: s.jobMaxMemory,
		ReuseFrom: nodeagent.EarlierAttempts(j.rec.JobID, j.attempt), KeepResults: true})
	if err != nil {
		return nil, fmt.Errorf("cannot connect the job's driver to the cluster: %w", err)
	}
	defer driver.Shutdown("the job has ended")
	// Each job its own file area: its io is confined to an empty
	// directory of its own, never the head's working directory (which
	// may hold its --data-dir) nor another job's.
	dir, err := os.MkdirTemp("", "rayflow-job-")
	if err != nil {
		return nil, fmt.Errorf("cannot make the job's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if !s.stopAsked(j) {
		rec := j.rec
		rec.Status, rec.Message = StatusRunning, j.noted("the job is running")
		rec.DriverNodeID = s.nodeID
		if s.nodeID == "" {
			rec.DriverNodeID = driver.Head().ID
		}
		s.write(j, rec)
	}
	value, err := prog.Run(ctx, rayflow.RunOptions{Cluster: driver, Pipeline: j.rec.Pipeline, Params: j.rec.Params,
		Opt: j.rec.Opt, Warn: j.log, WorkDir: dir, JobID: j.driverID})
	if j.attempt > 1 {
		j.note += "; " + reusedNote(driver.ReusedResults())
	}
	if err != nil || value.IsNone() {
		return nil, err
	}
	repr := value.Repr()
	return &repr, nil
}

// stopAsked reports whether a stop of j was asked (stopLocal).
func (s *Server) stopAsked(j *job) bool {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	return j.stopping
}

// noted is the message msg with j's note of its restart, if any.
func (j *job) noted(msg string) string {
	if j.note == "" {
		return msg
	}
	return msg + " (" + j.note + ")"
}

// driverHeads are the heads a job's driver reaches: this head first,
// then the other live heads, so that its job's lease is held by every
// head and a head that survives this one ends (or keeps for a re-run)
// what the job left on the cluster.
func (s *Server) driverHeads() []string {
	heads := []string{s.cluster}
	if s.members == nil {
		return heads
	}
	for _, n := range s.members() {
		if n.Labels["role"] == "head" && n.State == gcs.NodeAlive && n.Address != "" && !slices.Contains(heads, n.Address) {
			heads = append(heads, n.Address)
		}
	}
	return heads
}

// logFlushEvery is how often a running job's new output is written to
// the GCS: its log's chunks there lag its output by at most this.
const logFlushEvery = 300 * time.Millisecond

// maxLogChunk bounds one log chunk (one GCS row).
const maxLogChunk = 256 << 10

// startFlusher writes j's log to the GCS in chunks, off the job's path,
// every logFlushEvery, from the chunks j.rec.LogChunks on; a chunk the
// GCS did not take (an election) is written again at the next flush.
// The function it returns stops it, writes what is left (trying for up
// to endWriteFor) and returns the number of chunks in all.
func (s *Server) startFlusher(j *job) func() uint64 {
	jobID, chunks := j.rec.JobID, j.rec.LogChunks
	sent := j.stored                 // what the job's earlier attempts wrote is there already
	unwritten := map[uint64][]byte{} // chunks the GCS did not take, by number
	closed := false                  // the GCS was closed: nothing more can be written
	flush := func() {
		more, _, _ := j.log.since(sent)
		for len(more) > 0 {
			n := min(len(more), maxLogChunk)
			unwritten[chunks] = more[:n]
			chunks++
			sent += n
			more = more[n:]
		}
		writes := map[uint64]*gcs.Future{}
		for n, chunk := range unwritten {
			writes[n] = s.store.PutAPIJobLogChunk(jobID, n, chunk)
		}
		for n, f := range writes {
			switch err := f.Error(); {
			case err == nil:
				delete(unwritten, n)
			case errors.Is(err, gcs.ErrClosed):
				closed = true
			}
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(logFlushEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				flush()
			case <-stop:
				return
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-stopped
		for deadline := time.Now().Add(endWriteFor); ; time.Sleep(250 * time.Millisecond) {
			flush()
			if len(unwritten) == 0 || closed || time.Now().After(deadline) {
				return chunks
			}
		}
	}
}

// stopJobs stops every job this head supervises and waits, at most
// within, for their supervisors to return.
func (s *Server) stopJobs(within time.Duration) {
	// Under the lock: a submission either sees the cancel (and is
	// refused) or is counted in jobWG before the wait below starts.
	s.jobs.mu.Lock()
	s.cancelJobs()
	s.jobs.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.jobWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(within):
	}
}

// reusedNote says how many task results a run again took from the
// job's earlier runs.
func reusedNote(n int64) string {
	switch n {
	case 0:
		return "no task result reused"
	case 1:
		return "1 task result reused"
	}
	return fmt.Sprintf("%d task results reused", n)
}
