package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/internal/version"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/valyala/fasthttp"
)

// Job statuses, as Ray's Jobs API names them.
const (
	StatusPending   = "PENDING"
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusStopped   = "STOPPED"
)

// APIVersion is the version of the Jobs API's shapes, which GET
// /api/version reports next to rayflow's own.
const APIVersion = "1"

// SubmitRequest is the body of POST /api/jobs/.
type SubmitRequest struct {
	Source       string            `json:"source"`
	File         string            `json:"file,omitempty"`     // the name errors give the source; default job.rayflow
	Pipeline     string            `json:"pipeline,omitempty"` // default main, or the only pipeline
	Params       map[string]any    `json:"params,omitempty"`   // strings as on the command line, or JSON numbers and booleans
	SubmissionID string            `json:"submission_id,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// Opt is what --opt says: hints on program-wide ("batch,fuse"), or
	// "none"; empty runs with the source's hints.
	Opt string `json:"opt,omitempty"`
}

// SubmitResponse answers POST /api/jobs/.
type SubmitResponse struct {
	JobID        string `json:"job_id"`
	SubmissionID string `json:"submission_id"`
}

// JobInfo is a job as GET /api/jobs/{id} and GET /api/jobs/ show it.
// Times are milliseconds since the epoch; EndTime and Result are null
// until the job ends (Result stays null when the pipeline returns none).
type JobInfo struct {
	JobID        string            `json:"job_id"`
	SubmissionID string            `json:"submission_id"`
	Status       string            `json:"status"`
	Message      string            `json:"message"`
	StartTime    int64             `json:"start_time"`
	EndTime      *int64            `json:"end_time"`
	Result       *string           `json:"result"`
	Metadata     map[string]string `json:"metadata"`
	DriverNodeID string            `json:"driver_node_id"`
}

// job is one submitted job. Its supervisor goroutine is the only writer
// of info after submission, under the table's lock; stop sets stopping.
type job struct {
	info     JobInfo
	log      *jobLog
	cancel   context.CancelFunc
	stopping bool
	done     chan struct{} // closed when the supervisor has returned
}

// jobTable holds the jobs of one Server, in memory: they do not survive
// the head's restart.
type jobTable struct {
	mu    sync.Mutex
	byID  map[string]*job // by job ID and by submission ID
	order []*job          // in submission order
}

func (t *jobTable) lookup(id string) (*job, JobInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.byID[id]
	if !ok {
		return nil, JobInfo{}, false
	}
	return j, j.info, true
}

// jobsRoute serves the Jobs API and /api/version; false when the path
// is none of theirs.
func (s *Server) jobsRoute(ctx *fasthttp.RequestCtx) bool {
	path := string(ctx.Path())
	switch {
	case path == "/api/version":
		if onlyMethod(ctx, "GET") {
			writeJSON(ctx, fasthttp.StatusOK, map[string]string{"version": version.Version, "api": APIVersion})
		}
	case path == "/api/jobs":
		// The synchronous API of before: its clients follow to the new one.
		ctx.Response.Header.Set("Location", "/api/jobs/")
		writeJSON(ctx, fasthttp.StatusPermanentRedirect, map[string]string{"error": "the Jobs API is at /api/jobs/"})
	case path == "/api/jobs/":
		switch {
		case ctx.IsGet():
			s.listJobs(ctx)
		case ctx.IsPost():
			s.submitJob(ctx)
		default:
			methodNotAllowed(ctx, "GET, POST")
		}
	case strings.HasPrefix(path, "/api/jobs/"):
		s.jobRoute(ctx, strings.TrimPrefix(path, "/api/jobs/"))
	default:
		return false
	}
	return true
}

// jobRoute serves /api/jobs/{id}[/logs|/logs/tail|/stop].
func (s *Server) jobRoute(ctx *fasthttp.RequestCtx, rest string) {
	id, action, _ := strings.Cut(rest, "/")
	j, info, ok := s.jobs.lookup(id)
	if !ok {
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no job %q", id)})
		return
	}
	switch action {
	case "":
		switch {
		case ctx.IsGet():
			writeJSON(ctx, fasthttp.StatusOK, info)
		case ctx.IsDelete():
			s.deleteJob(ctx, j)
		default:
			methodNotAllowed(ctx, "GET, DELETE")
		}
	case "logs":
		if onlyMethod(ctx, "GET") {
			writeJSON(ctx, fasthttp.StatusOK, map[string]string{"logs": j.log.String()})
		}
	case "logs/tail":
		if onlyMethod(ctx, "GET") {
			tailLog(ctx, j.log, ctx.QueryArgs().GetUintOrZero("offset"), s.jobsCtx.Done())
		}
	case "stop":
		if onlyMethod(ctx, "POST") {
			writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"stopped": s.stopJob(j)})
		}
	default:
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %q for a job: there are logs, logs/tail and stop", action)})
	}
}

func onlyMethod(ctx *fasthttp.RequestCtx, method string) bool {
	if string(ctx.Method()) == method {
		return true
	}
	methodNotAllowed(ctx, method)
	return false
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allowed string) {
	ctx.Response.Header.Set("Allow", allowed)
	writeJSON(ctx, fasthttp.StatusMethodNotAllowed, map[string]string{"error": "use " + allowed})
}

func (s *Server) listJobs(ctx *fasthttp.RequestCtx) {
	s.jobs.mu.Lock()
	list := make([]JobInfo, 0, len(s.jobs.order))
	for _, j := range s.jobs.order {
		list = append(list, j.info)
	}
	s.jobs.mu.Unlock()
	writeJSON(ctx, fasthttp.StatusOK, list)
}

// badBody answers 400 naming what is wrong with the body.
func badBody(ctx *fasthttp.RequestCtx, format string, args ...any) {
	writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// decodeSubmit reads a submission; the error names the field at fault.
func decodeSubmit(body []byte) (SubmitRequest, map[string]string, error) {
	var req SubmitRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return req, nil, fmt.Errorf("field %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return req, nil, fmt.Errorf("the body must be one JSON object with a \"source\": %v", err)
	}
	if strings.TrimSpace(req.Source) == "" {
		return req, nil, errors.New(`field "source" is required: the program's text`)
	}
	if err := checkSubmissionID(req.SubmissionID); err != nil {
		return req, nil, err
	}
	params := map[string]string{}
	for name, v := range req.Params {
		text, ok := paramText(v)
		if !ok {
			return req, nil, fmt.Errorf("field \"params.%s\" must be a string, a number or a boolean", name)
		}
		params[name] = text
	}
	return req, params, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map":
		return "an object"
	}
	return goKind
}

// checkSubmissionID accepts "" (the job ID is used) or up to 128
// letters, digits, '-' and '_'.
func checkSubmissionID(id string) error {
	if len(id) > 128 {
		return errors.New(`field "submission_id" is longer than 128 characters`)
	}
	for _, r := range id {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')) {
			return fmt.Errorf(`field "submission_id" may hold only letters, digits, '-' and '_', not %q`, r)
		}
	}
	return nil
}

func (s *Server) submitJob(ctx *fasthttp.RequestCtx) {
	req, params, err := decodeSubmit(ctx.PostBody())
	if err != nil {
		badBody(ctx, "%v", err)
		return
	}
	jc, cancel := context.WithCancel(s.jobsCtx)
	j := &job{log: newJobLog(), cancel: cancel, done: make(chan struct{})}
	j.info = JobInfo{JobID: newJobID(), SubmissionID: req.SubmissionID, Status: StatusPending,
		Message: "the job is waiting for its driver", StartTime: time.Now().UnixMilli(), Metadata: req.Metadata}
	if j.info.SubmissionID == "" {
		j.info.SubmissionID = j.info.JobID
	}
	if j.info.Metadata == nil {
		j.info.Metadata = map[string]string{}
	}
	s.jobs.mu.Lock()
	if _, taken := s.jobs.byID[j.info.SubmissionID]; taken || s.jobsCtx.Err() != nil {
		s.jobs.mu.Unlock()
		cancel()
		if taken {
			writeJSON(ctx, fasthttp.StatusConflict, map[string]string{"error": fmt.Sprintf("field \"submission_id\": a job %q was already submitted", req.SubmissionID)})
		} else {
			writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "the head is stopping"})
		}
		return
	}
	s.jobs.byID[j.info.JobID] = j
	s.jobs.byID[j.info.SubmissionID] = j
	s.jobs.order = append(s.jobs.order, j)
	s.jobWG.Add(1)
	s.jobs.mu.Unlock()
	go s.supervise(jc, j, req, params)
	writeJSON(ctx, fasthttp.StatusOK, SubmitResponse{JobID: j.info.JobID, SubmissionID: j.info.SubmissionID})
}

// newJobID is a random job ID; it names the job's tasks on the cluster
// too, so it has no dot (nodeagent's job IDs).
func newJobID() string {
	var b [8]byte
	rand.Read(b[:])
	return "rfjob_" + hex.EncodeToString(b[:])
}

// supervise runs a job to its end: its own driver and working
// directory, its output into its log, its end into its record.
func (s *Server) supervise(ctx context.Context, j *job, req SubmitRequest, params map[string]string) {
	defer s.jobWG.Done()
	defer close(j.done)
	defer j.log.end()
	defer j.cancel()
	file := req.File
	if file == "" {
		file = "job.rayflow"
	}
	result, err := s.runJob(ctx, j, file, req, params)
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	end := time.Now().UnixMilli()
	j.info.EndTime = &end
	switch {
	case j.stopping:
		j.info.Status, j.info.Message = StatusStopped, "the job was stopped"
		fmt.Fprintln(j.log, "[the job was stopped]")
	case ctx.Err() != nil:
		j.info.Status, j.info.Message = StatusStopped, "the job was stopped: the head is stopping"
		fmt.Fprintln(j.log, "[the job was stopped: the head is stopping]")
	case err != nil:
		j.info.Status, j.info.Message = StatusFailed, rayflow.FormatError(err, req.Source)
		fmt.Fprintf(j.log, "error: %s\n", strings.TrimRight(j.info.Message, "\n"))
	default:
		j.info.Status, j.info.Message = StatusSucceeded, "the job succeeded"
		j.info.Result = result
	}
	s.jobs.forgetOldEnded()
}

// maxEndedJobs bounds the ended jobs a Server keeps (each with up to
// maxJobOutput of log): past it, the oldest ended job is forgotten as
// another ends. A variable for tests.
var maxEndedJobs = 1000

// forgetOldEnded drops the oldest ended jobs past maxEndedJobs; the
// caller holds t.mu.
func (t *jobTable) forgetOldEnded() {
	ended := 0
	for _, j := range t.order {
		if j.info.EndTime != nil {
			ended++
		}
	}
	for i := 0; ended > maxEndedJobs && i < len(t.order); {
		if j := t.order[i]; j.info.EndTime != nil {
			t.remove(j)
			ended--
			continue
		}
		i++
	}
}

// remove forgets a job; the caller holds t.mu.
func (t *jobTable) remove(j *job) {
	delete(t.byID, j.info.JobID)
	delete(t.byID, j.info.SubmissionID)
	for i, o := range t.order {
		if o == j {
			t.order = append(t.order[:i], t.order[i+1:]...)
			return
		}
	}
}

// runJob compiles and runs the job's pipeline; the result is its repr,
// nil for none.
func (s *Server) runJob(ctx context.Context, j *job, file string, req SubmitRequest, params map[string]string) (*string, error) {
	prog, err := rayflow.Compile(file, req.Source, nil)
	if err != nil {
		return nil, err
	}
	driver, err := nodeagent.ConnectDriver([]string{s.cluster}, nodeagent.Config{Stdout: j.log, Token: s.token, TLS: s.tls})
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
	s.jobs.mu.Lock()
	if !j.stopping {
		j.info.Status, j.info.Message = StatusRunning, "the job is running"
		j.info.DriverNodeID = s.nodeID
		if s.nodeID == "" {
			j.info.DriverNodeID = driver.Head().ID
		}
	}
	s.jobs.mu.Unlock()
	value, err := prog.Run(ctx, rayflow.RunOptions{Cluster: driver, Pipeline: req.Pipeline, Params: params,
		Opt: req.Opt, WorkDir: dir, JobID: j.info.JobID})
	if err != nil || value.IsNone() {
		return nil, err
	}
	repr := value.Repr()
	return &repr, nil
}

// stopJob cancels a job that has not ended; false when it had.
func (s *Server) stopJob(j *job) bool {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if j.info.EndTime != nil {
		return false
	}
	j.stopping = true
	j.cancel()
	return true
}

// deleteJob forgets an ended job and its log.
func (s *Server) deleteJob(ctx *fasthttp.RequestCtx, j *job) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if j.info.EndTime == nil {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"error": fmt.Sprintf("job %s has not ended (%s): stop it first", j.info.JobID, j.info.Status)})
		return
	}
	s.jobs.remove(j)
	writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"deleted": true})
}

// tailLog streams a job's log from offset on as it grows (chunked
// text/plain), and ends when the job has ended and all of it is sent,
// when the client goes away, or when the server closes. A client whose
// stream ended before the job did (the server's write timeout) asks
// again with ?offset= the bytes it has.
func tailLog(ctx *fasthttp.RequestCtx, l *jobLog, offset int, closing <-chan struct{}) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for {
			more, grown, ended := l.since(offset)
			offset += len(more)
			w.Write(more)
			if ended {
				w.WriteString(l.marker())
				w.Flush()
				return
			}
			if w.Flush() != nil {
				return
			}
			select {
			case <-grown:
			case <-closing:
				return
			}
		}
	})
}

// stopJobs stops every running job and waits, at most within, for their
// supervisors to return.
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
