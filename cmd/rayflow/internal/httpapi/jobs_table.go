package httpapi

import (
	"context"
	"errors"
	"sync"

	"github.com/rayflow/rayflow/gcs"
)

// Where jobs are kept: every job's record, source and log are rows of the
// GCS (gcs/apijobs.go), which every head reads, so that any head's API
// lists, shows, stops and deletes any job. A head keeps in memory only
// the jobs its own supervisors run (jobTable): their cancel functions
// and their logs as they grow, which the log's tail reads at once.

// job is one job this head supervises, from its start (or takeover) to
// its end. Its supervisor goroutine is the only writer of rec; stop sets
// stopping under the table's lock.
type job struct {
	rec      gcs.APIJob // as the supervisor last wrote it
	attempt  uint64     // the attempt this supervisor runs (rec.Attempt, fixed)
	driverID string     // the job ID its driver runs under (the job ID, or one per restart)
	note     string     // where and after what it was restarted; "" for its first attempt
	log      *jobLog
	stored   int             // bytes of log the GCS held when this supervisor started (earlier attempts')
	ctx      context.Context // the job's, cancelled by stop and by Close
	cancel   context.CancelFunc
	stopping bool
	done     chan struct{} // closed when the supervisor has returned
}

// jobTable holds the jobs this head's supervisors run, by job ID.
type jobTable struct {
	mu    sync.Mutex
	byID  map[string]*job
	order []*job // in start order
}

// local returns the job this head supervises under the job ID id.
func (t *jobTable) local(id string) *job {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

// remove forgets a job; the caller holds t.mu.
func (t *jobTable) remove(j *job) {
	if t.byID[j.rec.JobID] == j {
		delete(t.byID, j.rec.JobID)
	}
	for i, o := range t.order {
		if o == j {
			t.order = append(t.order[:i], t.order[i+1:]...)
			return
		}
	}
}

// errNoJob is lookup's error for an ID no job has.
var errNoJob = errors.New("no such job")

// lookup reads a job's record by its submission ID or its job ID, as of
// every write acknowledged before the call (any head's).
func (s *Server) lookup(id string) (gcs.APIJob, error) {
	rec, err := s.store.GetAPIJob(id, gcs.Linearizable)
	if err == nil || !errors.Is(err, gcs.ErrNotFound) {
		return rec, err
	}
	// Not a submission ID: a job ID of a job with a submission ID of
	// its own, found among the records this replica now holds.
	all, err := s.store.ListAPIJobs()
	if err != nil {
		return rec, err
	}
	for _, r := range all {
		if r.JobID == id {
			return r, nil
		}
	}
	return rec, errNoJob
}

// infoOf is a record as the API shows it.
func infoOf(r gcs.APIJob) JobInfo {
	info := JobInfo{JobID: r.JobID, SubmissionID: r.SubmissionID, Status: r.Status, Message: r.Message,
		StartTime: r.StartTime, Metadata: r.Metadata, DriverNodeID: r.DriverNodeID}
	if info.Metadata == nil {
		info.Metadata = map[string]string{}
	}
	if r.Ended() {
		end := r.EndTime
		info.EndTime = &end
	}
	if r.HasResult {
		result := r.Result
		info.Result = &result
	}
	return info
}

// maxEndedJobs bounds the ended jobs the cluster keeps (each with up to
// maxJobOutput of log): past it, the oldest ended job is forgotten as
// another ends. A variable for tests.
var maxEndedJobs = 1000

// forgetOldEnded deletes the oldest ended jobs past maxEndedJobs.
func (s *Server) forgetOldEnded() {
	all, err := s.store.ListAPIJobs(gcs.Linearizable)
	if err != nil {
		return
	}
	ended := 0
	for _, r := range all {
		if r.Ended() {
			ended++
		}
	}
	var deletes []*gcs.Future
	for _, r := range all {
		if ended <= maxEndedJobs {
			break
		}
		if r.Ended() {
			deletes = append(deletes, s.store.DeleteAPIJob(r))
			ended--
		}
	}
	for _, f := range deletes {
		f.Error()
	}
}
