package httpapi

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/version"
	"github.com/rayflow/rayflow/planner"
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
	// "none"; empty runs as `rayflow run` does without --opt (adaptive,
	// with the source's hints). An unknown name is refused (400).
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
	rec, err := s.lookup(id)
	switch {
	case errors.Is(err, errNoJob):
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no job %q", id)})
		return
	case err != nil:
		tableError(ctx, err)
		return
	}
	switch action {
	case "":
		switch {
		case ctx.IsGet():
			writeJSON(ctx, fasthttp.StatusOK, infoOf(rec))
		case ctx.IsDelete():
			s.deleteJob(ctx, rec)
		default:
			methodNotAllowed(ctx, "GET, DELETE")
		}
	case "logs":
		if onlyMethod(ctx, "GET") {
			writeJSON(ctx, fasthttp.StatusOK, map[string]string{"logs": s.logOf(rec)})
		}
	case "logs/tail":
		if onlyMethod(ctx, "GET") {
			tailLog(ctx, s.logSourceOf(rec), ctx.QueryArgs().GetUintOrZero("offset"), s.jobsCtx.Done())
		}
	case "stop":
		if onlyMethod(ctx, "POST") {
			s.stopJob(ctx, rec)
		}
	default:
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %q for a job: there are logs, logs/tail and stop", action)})
	}
}

// tableError answers a request the jobs table could not serve (no GCS
// leader within its wait, or the head is stopping).
func tableError(ctx *fasthttp.RequestCtx, err error) {
	writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "cannot read or write the jobs table: " + err.Error()})
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
	list, err := s.jobInfos()
	if err != nil {
		tableError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, list)
}

// jobInfos lists every job of the cluster's jobs table: the one place
// the Jobs API and the state API read the list.
func (s *Server) jobInfos() ([]JobInfo, error) {
	recs, err := s.store.ListAPIJobs(gcs.Linearizable)
	if err != nil {
		return nil, err
	}
	list := make([]JobInfo, 0, len(recs))
	for _, r := range recs {
		list = append(list, infoOf(r))
	}
	return list, nil
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
	if _, err := planner.ParseOpt(req.Opt); err != nil {
		return req, nil, fmt.Errorf("field \"opt\": %v", err)
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
	now := time.Now()
	rec := gcs.APIJob{JobID: newJobID(), SubmissionID: req.SubmissionID, Status: StatusPending,
		Message: "the job is waiting for its driver", StartTime: now.UnixMilli(), Submitted: now.UnixNano(),
		Metadata: req.Metadata, File: req.File, Pipeline: req.Pipeline, Opt: req.Opt, Params: params,
		Supervisor: s.headID, Attempt: 1}
	if rec.SubmissionID == "" {
		rec.SubmissionID = rec.JobID
	}
	j := &job{rec: rec, attempt: 1, driverID: rec.JobID, log: newJobLog()}
	if !s.reserve(j) {
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "the head is stopping"})
		return
	}
	// The source and the record, written at once (two shards, two
	// commits in parallel).
	source, created := s.store.PutAPIJobSource(rec.JobID, []byte(req.Source)), s.store.CreateAPIJob(rec)
	err = created.Error()
	if serr := source.Error(); err == nil && serr != nil {
		s.store.DeleteAPIJob(rec)
		err = serr
	}
	if err != nil {
		s.unreserve(j)
		s.store.DeleteAPIJobData(rec.JobID)
		if gcs.IsConflict(err) {
			writeJSON(ctx, fasthttp.StatusConflict, map[string]string{"error": fmt.Sprintf("field \"submission_id\": a job %q was already submitted", req.SubmissionID)})
		} else {
			tableError(ctx, err)
		}
		return
	}
	s.launch(j, req.Source)
	writeJSON(ctx, fasthttp.StatusOK, SubmitResponse{JobID: rec.JobID, SubmissionID: rec.SubmissionID})
}

// newJobID is a random job ID; it names the job's tasks on the cluster
// too, so it has no dot (nodeagent's job IDs).
func newJobID() string {
	var b [8]byte
	rand.Read(b[:])
	return "rfjob_" + hex.EncodeToString(b[:])
}

// stopJob asks a job that has not ended to stop: at once when this head
// supervises it, else through its record, which its supervisor watches.
func (s *Server) stopJob(ctx *fasthttp.RequestCtx, rec gcs.APIJob) {
	if rec.Ended() {
		writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"stopped": false})
		return
	}
	if j := s.jobs.local(rec.JobID); j != nil {
		s.stopLocal(j)
	} else if err := s.store.RequestAPIJobStop(rec.SubmissionID).Error(); err != nil {
		tableError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"stopped": true})
}

// deleteJob forgets an ended job and its log.
func (s *Server) deleteJob(ctx *fasthttp.RequestCtx, rec gcs.APIJob) {
	if !rec.Ended() {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"error": fmt.Sprintf("job %s has not ended (%s): stop it first", rec.JobID, rec.Status)})
		return
	}
	if err := s.store.DeleteAPIJob(rec).Error(); err != nil {
		tableError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"deleted": true})
}

// tailLog streams a job's log from offset on as it grows (chunked
// text/plain), and ends when the job has ended and all of it is sent,
// when the client goes away, or when the server closes. A client whose
// stream ended before the job did (the server's write timeout) asks
// again with ?offset= the bytes it has.
func tailLog(ctx *fasthttp.RequestCtx, l logSource, offset int, closing <-chan struct{}) {
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
