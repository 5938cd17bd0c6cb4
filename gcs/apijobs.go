package gcs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/internal/codec"
)

// The Jobs API's tables (cmd/rayflow/internal/httpapi): every job
// submitted over HTTP, with what it takes to run it again, so that every
// head lists, shows, stops and deletes every job, its history survives a
// head's restart, and a surviving head takes over a job whose supervising
// head died. (TableJobs is another thing: the driver jobs of the
// lineage.)
const (
	// TableAPIJobs holds one APIJob per job, keyed by its submission ID
	// (which is its job ID unless the client chose one).
	TableAPIJobs = "apijobs"
	// TableAPIJobData holds what a job carries that is written once or
	// in pieces: its source ("<job ID>/source") and its log, in chunks
	// ("<job ID>/log/<n>", n from 0). A job's rows all start with its
	// job ID and a slash.
	TableAPIJobData = "apijobdata"
)

// APIJob is one job of the Jobs API. Its supervising head writes it once
// per change of state; another head writes it to ask for a stop or to
// take the job over. Every write but the first is conditional on
// (Supervisor, Attempt) (PutAPIJobIf), so that of two heads that read the
// same record and both write, one fails with ErrConflict.
type APIJob struct {
	JobID        string
	SubmissionID string
	Status       string // PENDING RUNNING SUCCEEDED FAILED STOPPED
	Message      string
	StartTime    int64 // ms since the epoch
	Submitted    int64 // ns since the epoch: the order of submission
	EndTime      int64 // ms since the epoch; 0 while the job has not ended
	Result       string
	HasResult    bool // false: the job has no result (yet, or its pipeline returns none)
	Metadata     map[string]string
	DriverNodeID string
	// What it takes to run the job again (its source is a row of
	// TableAPIJobData).
	File     string
	Pipeline string
	Opt      string
	Params   map[string]string
	// Supervisor is the head whose supervisor runs the job; Attempt
	// counts the times a supervisor started it (1 for the first).
	Supervisor string
	Attempt    uint64
	// StopRequested is set by a stop on any head; once set, it stays
	// (the apply keeps it against writes that do not carry it).
	StopRequested bool
	// LogChunks is how many log chunks the job's supervisors wrote, as of
	// this write (exact once the job has ended); LogDropped, the bytes
	// printed past the log's bound.
	LogChunks  uint64
	LogDropped int64
}

// Ended reports whether the job has ended.
func (j *APIJob) Ended() bool { return j.EndTime != 0 }

const apiJobRowVersion = 1

func (j *APIJob) marshal(e *codec.Encoder) {
	e.Byte(apiJobRowVersion)
	e.String(j.JobID)
	e.String(j.SubmissionID)
	e.String(j.Status)
	e.String(j.Message)
	e.Varint(j.StartTime)
	e.Varint(j.Submitted)
	e.Varint(j.EndTime)
	e.String(j.Result)
	e.Bool(j.HasResult)
	e.StringMap(j.Metadata)
	e.String(j.DriverNodeID)
	e.String(j.File)
	e.String(j.Pipeline)
	e.String(j.Opt)
	e.StringMap(j.Params)
	e.String(j.Supervisor)
	e.Uvarint(j.Attempt)
	e.Bool(j.StopRequested)
	e.Uvarint(j.LogChunks)
	e.Varint(j.LogDropped)
}

func (j *APIJob) unmarshal(d *codec.Decoder) {
	if v := d.Byte(); d.Err() == nil && v != apiJobRowVersion {
		d.Fail("unknown API job row version")
		return
	}
	j.JobID = d.String()
	j.SubmissionID = d.String()
	j.Status = d.String()
	j.Message = d.String()
	j.StartTime = d.Varint()
	j.Submitted = d.Varint()
	j.EndTime = d.Varint()
	j.Result = d.String()
	j.HasResult = d.Bool()
	j.Metadata = d.StringMap()
	j.DriverNodeID = d.String()
	j.File = d.String()
	j.Pipeline = d.String()
	j.Opt = d.String()
	j.Params = d.StringMap()
	j.Supervisor = d.String()
	j.Attempt = d.Uvarint()
	j.StopRequested = d.Bool()
	j.LogChunks = d.Uvarint()
	j.LogDropped = d.Varint()
}

// ErrConflict is the error of a conditional write whose condition did
// not hold: the row was created already, or changed hands since it was
// read. Across a forwarded write it arrives as its text: test it with
// IsConflict.
var ErrConflict = errors.New("gcs: conflict: the row is not as the write expected")

// IsConflict reports whether err is ErrConflict, here or forwarded.
func IsConflict(err error) bool {
	return err != nil && (errors.Is(err, ErrConflict) || err.Error() == ErrConflict.Error())
}

// CreateAPIJob writes a new job's record; it fails with ErrConflict when
// the submission ID is taken.
func (s *Store) CreateAPIJob(j APIJob) *Future {
	return s.PutAPIJobIf(j, "", 0)
}

// PutAPIJobIf replaces a job's record if its stored record is
// supervised by supervisor at attempt (supervisor "" and attempt 0: if
// there is none) and has not ended; otherwise it fails with ErrConflict
// (ErrNotFound when the job was deleted). A stored StopRequested stays
// set.
func (s *Store) PutAPIJobIf(j APIJob, supervisor string, attempt uint64) *Future {
	if j.SubmissionID == "" || j.JobID == "" {
		return errEmptyID("API job")
	}
	return s.submitRow(command{op: opPutAPIJobIf, table: TableAPIJobs, key: j.SubmissionID,
		value: encodeRow(&j), arg: supervisor, size: int64(attempt)})
}

// RequestAPIJobStop sets a job's StopRequested, whoever supervises it,
// unless it has ended; ErrNotFound when there is no such job.
func (s *Store) RequestAPIJobStop(submissionID string) *Future {
	if submissionID == "" {
		return errEmptyID("API job")
	}
	return s.submitRow(command{op: opPutAPIJobIf, table: TableAPIJobs, key: submissionID})
}

// applyPutAPIJobIf applies PutAPIJobIf, and RequestAPIJobStop (value
// nil).
func applyPutAPIJobIf(t *tables, key string, value []byte, supervisor string, attempt int64, emit func(change)) error {
	old, ok := t.get(TableAPIJobs, key)
	if ok && len(value) == 0 {
		return applyStopRequest(t, key, old, emit)
	}
	if !ok {
		if len(value) == 0 || supervisor != "" || attempt != 0 {
			return ErrNotFound
		}
		return applyPut(t, TableAPIJobs, key, value, emit)
	}
	var cur APIJob
	if supervisor == "" && attempt == 0 {
		return ErrConflict
	}
	if err := decodeRow(old, &cur); err != nil {
		return err
	}
	if cur.Supervisor != supervisor || cur.Attempt != uint64(attempt) || cur.Ended() {
		return ErrConflict // claimed by another, or ended: an ended job's record never changes
	}
	if cur.StopRequested {
		var next APIJob
		if err := decodeRow(value, &next); err != nil {
			return err
		}
		if !next.StopRequested {
			next.StopRequested = true
			value = encodeRow(&next)
		}
	}
	return applyPut(t, TableAPIJobs, key, value, emit)
}

func applyStopRequest(t *tables, key string, old []byte, emit func(change)) error {
	var cur APIJob
	if err := decodeRow(old, &cur); err != nil {
		return err
	}
	if cur.Ended() || cur.StopRequested {
		return nil
	}
	cur.StopRequested = true
	return applyPut(t, TableAPIJobs, key, encodeRow(&cur), emit)
}

// GetAPIJob returns a job's record by its submission ID, or ErrNotFound.
func (s *Store) GetAPIJob(submissionID string, opts ...ReadOption) (APIJob, error) {
	var j APIJob
	err := s.getRow(TableAPIJobs, submissionID, &j, opts)
	return j, err
}

// ListAPIJobs returns every job's record, in submission order (start
// time in ns, then job ID).
func (s *Store) ListAPIJobs(opts ...ReadOption) ([]APIJob, error) {
	jobs, err := listDecoded[APIJob](s, TableAPIJobs, opts)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(jobs, func(a, b int) bool {
		if jobs[a].Submitted != jobs[b].Submitted {
			return jobs[a].Submitted < jobs[b].Submitted
		}
		return jobs[a].JobID < jobs[b].JobID
	})
	return jobs, nil
}

// DeleteAPIJob removes a job's record, source and log.
func (s *Store) DeleteAPIJob(j APIJob) *Future {
	if j.SubmissionID == "" || j.JobID == "" || strings.Contains(j.JobID, "/") {
		return errorFuture(fmt.Errorf("gcs: cannot delete API job %q", j.JobID))
	}
	return joinFutures([]*Future{s.Delete(TableAPIJobs, j.SubmissionID), s.DeleteAPIJobData(j.JobID)})
}

// DeleteAPIJobData removes a job's source and log (of a submission
// refused, whose record is another job's).
func (s *Store) DeleteAPIJobData(jobID string) *Future {
	if jobID == "" || strings.Contains(jobID, "/") {
		return errorFuture(fmt.Errorf("gcs: %q is not an API job ID", jobID))
	}
	return s.submitAll(command{op: opDeletePrefix, table: TableAPIJobData, key: jobID + "/"})
}

func apiJobSourceKey(jobID string) string { return jobID + "/source" }

func apiJobLogKey(jobID string, n uint64) string { return fmt.Sprintf("%s/log/%d", jobID, n) }

// PutAPIJobSource stores a job's source.
func (s *Store) PutAPIJobSource(jobID string, source []byte) *Future {
	return s.submitRow(command{op: opPut, table: TableAPIJobData, key: apiJobSourceKey(jobID), value: append([]byte(nil), source...)})
}

// GetAPIJobSource returns a job's source, or ErrNotFound.
func (s *Store) GetAPIJobSource(jobID string, opts ...ReadOption) ([]byte, error) {
	b, err := s.readRow(TableAPIJobData, apiJobSourceKey(jobID), opts)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// PutAPIJobLogChunk stores chunk n of a job's log.
func (s *Store) PutAPIJobLogChunk(jobID string, n uint64, chunk []byte) *Future {
	return s.submitRow(command{op: opPut, table: TableAPIJobData, key: apiJobLogKey(jobID, n), value: append([]byte(nil), chunk...)})
}

// APIJobLog returns a job's log chunks from chunk from on, in order, up
// to the first one missing, and how many chunks that is (from, and the
// error, when a Linearizable read cannot be made).
func (s *Store) APIJobLog(jobID string, from uint64, opts ...ReadOption) ([]byte, uint64, error) {
	if linearizable(opts) {
		if err := s.barrier(s.shards); err != nil {
			return nil, from, err
		}
	}
	var out []byte
	n := from
	for {
		b, err := s.readRow(TableAPIJobData, apiJobLogKey(jobID, n), nil)
		if errors.Is(err, ErrNotFound) {
			return out, n, nil
		}
		if err != nil {
			return nil, from, err
		}
		out = append(out, b...)
		n++
	}
}

// APIJobStatuses are the statuses of the Jobs API's jobs.
var APIJobStatuses = []string{"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"}

// CountAPIJobs counts the Jobs API's jobs by status (every status of
// APIJobStatuses, 0 when none has it), from this replica's state.
func (s *Store) CountAPIJobs() map[string]int {
	counts := map[string]int{}
	for _, st := range APIJobStatuses {
		counts[st] = 0
	}
	if s.checkOpen() != nil {
		return counts
	}
	for _, sh := range s.shards {
		sh.fsm.each(TableAPIJobs, func(_ string, b []byte) {
			var j APIJob
			if decodeRow(b, &j) == nil {
				counts[j.Status]++
			}
		})
	}
	return counts
}
