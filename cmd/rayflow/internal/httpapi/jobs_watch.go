package httpapi

import (
	"errors"
	"fmt"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
)

// Watching and takeover: each head watches the jobs table (watchJobs).
// A job this head supervises whose record asks for a stop (a stop
// through another head) is stopped here; a job
// that has not ended and whose supervising head is dead (headGone), or
// is this head in an earlier life (restarted with its
// --data-dir), is claimed and run again here. A claim is a conditional
// write ("if supervisor and attempt are still what I read, and the job
// has not ended"), applied in the GCS's state machine, so of two heads
// that claim at once one wins and the other leaves the job alone.
//
// The run again starts from its beginning, under a job ID of its own
// (nodeagent.AttemptJobID: the nodes keep the dead driver's job ID ended
// for a while, and release its tasks), with the job's log so far and a
// note of the restart in it; its driver reuses the results of the
// earlier attempts that the cluster still holds (nodeagent's reuse.go),
// and the job's message says how many.

// takeoverCheckEvery is how often a head checks the jobs table besides
// when it changes (a head's death changes the nodes table, not it).
const takeoverCheckEvery = time.Second

// watchJobs is the Server's watcher goroutine, until Close: a change of
// the record of a job supervised here is acted on at once (checkLocal);
// every
// takeoverCheckEvery (and when changes were dropped) it checks every
// job (checkJobs).
func (s *Server) watchJobs() {
	defer s.wg.Done()
	var events <-chan gcs.Event
	var dropped func() uint64
	if sub, err := s.store.Subscribe(gcs.TableAPIJobs, 0); err == nil {
		defer sub.Close()
		events, dropped = sub.C(), sub.Dropped
	}
	tick := time.NewTicker(takeoverCheckEvery)
	defer tick.Stop()
	var lost uint64
	for {
		select {
		case <-s.jobsCtx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if r, isJob := ev.Value.(gcs.APIJob); isJob {
				s.checkLocal(r)
			}
			n := dropped()
			if n == lost && ev.Op != gcs.OpReset {
				continue // nothing missed: no need to check every job
			}
			lost = n
		case <-tick.C:
		}
		s.checkJobs()
	}
}

// checkJobs checks the jobs supervised here (checkLocal) and takes over
// the jobs whose supervisor is gone.
func (s *Server) checkJobs() {
	all, err := s.store.ListAPIJobs()
	if err != nil {
		return
	}
	for _, r := range all {
		if r.Ended() || s.jobsCtx.Err() != nil {
			continue
		}
		if s.checkLocal(r) {
			continue
		}
		switch {
		case r.Supervisor == s.headID:
			s.takeOver(r, fmt.Sprintf("restarted on head %s after it restarted", s.headID))
		case s.headGone(r.Supervisor):
			s.takeOver(r, fmt.Sprintf("restarted on head %s after head %s died", s.headID, r.Supervisor))
		}
	}
}

// checkLocal acts on the record r of a job this head supervises: a stop
// requested stops it; a later attempt (another head took it over, as
// when this head was cut off and declared dead) cancels the run here,
// whose writes would fail. False when this head does not supervise the
// job.
func (s *Server) checkLocal(r gcs.APIJob) bool {
	j := s.jobs.local(r.JobID)
	switch {
	case j == nil:
		return false
	case r.Attempt > j.attempt:
		j.cancel()
	case r.StopRequested && !r.Ended():
		s.stopLocal(j)
	}
	return true
}

// unknownHeadGrace is how long after its start a head trusts the GCS's
// row of a head its membership does not know; past it, such a head is
// gone: every live head heartbeats to every head (each 500ms), so one
// never heard from in this long is not alive (a head restarted under
// another node ID leaves its old row alive in the GCS).
var unknownHeadGrace = 10 * time.Second // a variable for tests

// headGone reports whether the head id is dead or was removed: as this
// head's membership says, or, for a head it does not know, as the
// head's row in the GCS says (a head marked dead while the GCS had no
// leader may stay alive there) until unknownHeadGrace has passed.
func (s *Server) headGone(id string) bool {
	if s.members != nil {
		for _, n := range s.members() {
			if n.ID == id {
				return n.State == gcs.NodeDead
			}
		}
		if time.Since(s.started) > unknownHeadGrace {
			return true
		}
	}
	n, err := s.store.GetNode(id)
	if errors.Is(err, gcs.ErrNotFound) {
		return true
	}
	return err == nil && n.State == gcs.NodeDead
}

// stopLocal cancels a job this head supervises, once.
func (s *Server) stopLocal(j *job) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if !j.stopping {
		j.stopping = true
		j.cancel()
	}
}

// takeOver claims the job r for this head and runs it again; a job
// asked to stop is marked stopped instead.
func (s *Server) takeOver(r gcs.APIJob, note string) {
	claim := r
	claim.Supervisor, claim.Attempt = s.headID, r.Attempt+1
	if r.StopRequested {
		claim.Status, claim.EndTime = StatusStopped, time.Now().UnixMilli()
		claim.Message = fmt.Sprintf("the job was stopped (its head %s died before it saw the stop)", r.Supervisor)
		s.store.PutAPIJobIf(claim, r.Supervisor, r.Attempt).Error()
		return
	}
	source, err := s.store.GetAPIJobSource(r.JobID, gcs.Linearizable)
	if err != nil && !errors.Is(err, gcs.ErrNotFound) {
		return // the GCS cannot answer now (an election): at the next check
	}
	if err != nil {
		claim.Status, claim.EndTime = StatusFailed, time.Now().UnixMilli()
		claim.Message = fmt.Sprintf("the job could not be %s: its source is not in the GCS: %v", note, err)
		s.store.PutAPIJobIf(claim, r.Supervisor, r.Attempt).Error()
		return
	}
	prev, chunks, err := s.store.APIJobLog(r.JobID, 0, gcs.Linearizable)
	if err != nil {
		return // at the next check: a new run must not write over the chunks of the log so far
	}
	claim.Status, claim.LogChunks = StatusPending, chunks
	claim.Message = "the job is waiting for its driver (" + note + ")"
	j := &job{rec: claim, attempt: claim.Attempt, driverID: nodeagent.AttemptJobID(r.JobID, claim.Attempt), note: note, log: newJobLogFrom(prev)}
	j.stored = j.log.keptBytes()
	if !s.reserve(j) {
		return
	}
	if err := s.store.PutAPIJobIf(claim, r.Supervisor, r.Attempt).Error(); err != nil {
		s.unreserve(j) // another head claimed it first, or it ended or was deleted
		return
	}
	fmt.Fprintf(j.log, "[the job was %s; its output starts again]\n", note)
	s.launch(j, string(source))
}
