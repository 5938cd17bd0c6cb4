package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/head"
)

// client is the tests' HTTP client: it follows no redirects and keeps
// at most 32 connections (the API takes 64 from one address).
var client = &http.Client{
	Transport:     &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// call sends one request to the API (with the token "tok" and a JSON
// body when body is not empty) and returns the status and the body.
func call(t *testing.T, api *Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+api.Addr()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// submitJob submits body and returns the job's ID.
func submitJob(t *testing.T, api *Server, body string) SubmitResponse {
	t.Helper()
	code, data := call(t, api, "POST", "/api/jobs/", body)
	var res SubmitResponse
	if code != 200 || json.Unmarshal(data, &res) != nil || res.JobID == "" {
		t.Fatalf("POST /api/jobs/ %s: %d %s", body, code, data)
	}
	return res
}

// jobInfo is GET /api/jobs/{id}.
func jobInfo(t *testing.T, api *Server, id string) JobInfo {
	t.Helper()
	code, data := call(t, api, "GET", "/api/jobs/"+id, "")
	var info JobInfo
	if code != 200 || json.Unmarshal(data, &info) != nil {
		t.Fatalf("GET /api/jobs/%s: %d %s", id, code, data)
	}
	return info
}

// tail follows a job's log to its end (the stream ends when the job
// does) and returns what it streamed.
func tail(t *testing.T, api *Server, id string) string {
	t.Helper()
	code, data := call(t, api, "GET", "/api/jobs/"+id+"/logs/tail", "")
	if code != 200 {
		t.Fatalf("tail %s: %d %s", id, code, data)
	}
	return string(data)
}

// runJob submits a program, waits for its end and returns its record
// and its log.
func runJob(t *testing.T, api *Server, src string) (JobInfo, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"source": src})
	id := submitJob(t, api, string(body)).JobID
	tail(t, api, id)
	code, data := call(t, api, "GET", "/api/jobs/"+id+"/logs", "")
	var logs struct{ Logs string }
	if code != 200 || json.Unmarshal(data, &logs) != nil {
		t.Fatalf("logs of %s: %d %s", id, code, data)
	}
	return jobInfo(t, api, id), logs.Logs
}

// A job's life through the API: submitted, it answers at once with its
// ID; it runs to SUCCEEDED or FAILED with a result or a message; its
// record has Ray's fields; it is found by its submission ID too, listed,
// and deleted once it has ended.
func TestJobsAPI(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	sub := submitJob(t, api, `{"source": "task sq(x) { return x * x }\npipeline main(n: int = 3) { print(\"hi\")\n return sum(get([sq(i) for i in range(n)])) }", "params": {"n": 10}, "metadata": {"owner": "me"}}`)
	if sub.SubmissionID != sub.JobID || !strings.HasPrefix(sub.JobID, "rfjob_") {
		t.Fatalf("submission %+v", sub)
	}
	if logs := tail(t, api, sub.JobID); logs != "hi\n" {
		t.Fatalf("tail: %q", logs)
	}
	code, raw := call(t, api, "GET", "/api/jobs/"+sub.JobID, "")
	var fields map[string]any
	json.Unmarshal(raw, &fields)
	for _, k := range []string{"job_id", "submission_id", "status", "message", "start_time", "end_time", "result", "metadata", "driver_node_id"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("GET /api/jobs/{id} has no %q: %d %s", k, code, raw)
		}
	}
	info := jobInfo(t, api, sub.JobID)
	if info.Status != StatusSucceeded || info.Result == nil || *info.Result != "285" || info.Metadata["owner"] != "me" ||
		info.EndTime == nil || *info.EndTime < info.StartTime || info.StartTime < time.Now().Add(-time.Minute).UnixMilli() || info.DriverNodeID != "head" {
		t.Fatalf("job %s", raw)
	}
	if code, data := call(t, api, "GET", "/api/jobs/"+sub.JobID+"/logs", ""); code != 200 || string(data) != `{"logs":"hi\n"}` {
		t.Fatalf("logs: %d %s", code, data)
	}
	if code, data := call(t, api, "GET", "/api/jobs/"+sub.JobID+"/logs/tail?offset=1", ""); code != 200 || string(data) != "i\n" {
		t.Fatalf("tail from an offset: %d %q", code, data)
	}

	// By a submission ID of the caller's choice.
	named := submitJob(t, api, `{"source": "pipeline main() { fail(\"no\") }", "submission_id": "mine-1", "file": "boom.rayflow"}`)
	if named.SubmissionID != "mine-1" || named.JobID == "mine-1" {
		t.Fatalf("named submission %+v", named)
	}
	tail(t, api, "mine-1")
	failed := jobInfo(t, api, "mine-1")
	if failed.JobID != named.JobID || failed.Status != StatusFailed || !strings.Contains(failed.Message, "no") || !strings.Contains(failed.Message, "boom.rayflow") || failed.Result != nil {
		t.Fatalf("failed job %+v", failed)
	}
	if _, logs := runJob(t, api, "pipeline main( {"); !strings.Contains(logs, "error:") {
		t.Fatalf("a program that does not compile logs %q", logs)
	}
	for _, c := range []struct{ body, status, result string }{
		{`{"source": "pipeline main(n: int) { }", "params": {"n": "x"}}`, StatusFailed, ""},
		{`{"source": "task sq(x) { return x * x }\npipeline main() { let t = 0\n for i in range(5) { t += get(sq(i)) }\n return t }", "opt": "pipeline,batch"}`, StatusSucceeded, "30"},
		{`{"source": "pipeline a() { return 1 }\npipeline b(x: bool) { return x }", "pipeline": "b", "params": {"x": true}}`, StatusSucceeded, "true"},
	} {
		id := submitJob(t, api, c.body).JobID
		tail(t, api, id)
		info := jobInfo(t, api, id)
		if info.Status != c.status || (c.result != "" && (info.Result == nil || *info.Result != c.result)) {
			t.Errorf("%s: %+v", c.body, info)
		}
	}

	code, data := call(t, api, "GET", "/api/jobs/", "")
	var list []JobInfo
	if code != 200 || json.Unmarshal(data, &list) != nil || len(list) != 6 || list[0].JobID != sub.JobID || list[1].SubmissionID != "mine-1" {
		t.Fatalf("list: %d %s", code, data)
	}
	if code, data := call(t, api, "DELETE", "/api/jobs/mine-1", ""); code != 200 || string(data) != `{"deleted":true}` {
		t.Fatalf("delete: %d %s", code, data)
	}
	for _, id := range []string{"mine-1", named.JobID} {
		if code, data := call(t, api, "GET", "/api/jobs/"+id, ""); code != 404 || !strings.Contains(string(data), `"error"`) {
			t.Fatalf("a deleted job: %d %s", code, data)
		}
	}
	// Its submission ID is free again.
	submitJob(t, api, `{"source": "pipeline main() { }", "submission_id": "mine-1"}`)
	if code, data := call(t, api, "GET", "/api/version", ""); code != 200 || !strings.Contains(string(data), `"api":"1"`) || !strings.Contains(string(data), `"version":"`) {
		t.Fatalf("version: %d %s", code, data)
	}
}

// Bad input: a JSON error with the right code for each.
func TestJobsBadInput(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	running := submitJob(t, api, `{"source": "task s() { time.sleep(300) }\npipeline main() { print(\"up\")\n get(s()) }", "submission_id": "busy"}`).JobID
	for _, c := range []struct {
		name, method, path, body string
		code                     int
		says                     string
	}{
		{"not JSON", "POST", "/api/jobs/", `not json`, 400, "JSON"},
		{"no source", "POST", "/api/jobs/", `{"pipeline": "main"}`, 400, `\"source\"`},
		{"a source of another type", "POST", "/api/jobs/", `{"source": 3}`, 400, `\"source\"`},
		{"a parameter that is a list", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "params": {"n": [1]}}`, 400, `params.n`},
		{"metadata not strings", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "metadata": {"a": 1}}`, 400, `metadata`},
		{"an unknown field", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "entrypoint": "python x.py"}`, 400, `entrypoint`},
		{"an unknown optimisation", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "opt": "batching"}`, 400, `\"opt\": unknown optimisation 'batching'`},
		{"a bad submission ID", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "submission_id": "a/b"}`, 400, `submission_id`},
		{"a repeated submission ID", "POST", "/api/jobs/", `{"source": "pipeline main() { }", "submission_id": "busy"}`, 409, `submission_id`},
		{"an unknown job", "GET", "/api/jobs/rfjob_nope", "", 404, "rfjob_nope"},
		{"logs of an unknown job", "GET", "/api/jobs/nope/logs", "", 404, "nope"},
		{"stop of an unknown job", "POST", "/api/jobs/nope/stop", "", 404, "nope"},
		{"delete of an unknown job", "DELETE", "/api/jobs/nope", "", 404, "nope"},
		{"an unknown action", "GET", "/api/jobs/busy/restart", "", 404, "restart"},
		{"delete of a running job", "DELETE", "/api/jobs/busy", "", 400, "not ended"},
		{"PUT jobs", "PUT", "/api/jobs/", `{}`, 405, "GET, POST"},
		{"GET stop", "GET", "/api/jobs/busy/stop", "", 405, "POST"},
		{"POST a job", "POST", "/api/jobs/busy", "", 405, "GET, DELETE"},
		{"POST logs", "POST", "/api/jobs/busy/logs", "", 405, "GET"},
		{"POST version", "POST", "/api/version", "", 405, "GET"},
		{"POST status", "POST", "/api/status", "", 405, "GET"},
		{"the old synchronous API", "POST", "/api/jobs", `{"source": "pipeline main() { }"}`, 308, "/api/jobs/"},
		{"nothing there", "GET", "/api/nothing", "", 404, "/api/jobs/"},
	} {
		code, data := call(t, api, c.method, c.path, c.body)
		var e struct{ Error string }
		if code != c.code || json.Unmarshal(data, &e) != nil || e.Error == "" || !strings.Contains(string(data), c.says) {
			t.Errorf("%s: %d %s; want %d and an error that says %s", c.name, code, data, c.code, c.says)
		}
	}
	// No token: 401 on every route.
	for _, path := range []string{"/api/jobs/", "/api/jobs/busy", "/api/jobs/busy/logs", "/api/version"} {
		resp, err := http.Get("http://" + api.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("GET %s without the token: %d", path, resp.StatusCode)
		}
	}
	call(t, api, "POST", "/api/jobs/"+running+"/stop", "")
}

// cpusFree is the head's free CPUs, as /api/status says.
func cpusFree(t *testing.T, api *Server) float64 {
	code, data := call(t, api, "GET", "/api/status", "")
	var st head.Status
	if code != 200 || json.Unmarshal(data, &st) != nil || len(st.Nodes) == 0 {
		t.Fatalf("status: %d %s", code, data)
	}
	return st.Nodes[0].ResourcesAvailable["cpu"]
}

// Stopping a running job cancels its tasks (the head's CPU is free
// again within seconds), ends its log's tail, and keeps its log; a
// second stop says it had already ended.
func TestJobStop(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	id := submitJob(t, api, `{"source": "task s() { time.sleep(300) }\npipeline main() { print(\"started\")\n get([s() for i in range(3)]) }"}`).JobID
	req, _ := http.NewRequest("GET", "http://"+api.Addr()+"/api/jobs/"+id+"/logs/tail", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stream := bufio.NewReader(resp.Body)
	if line, err := stream.ReadString('\n'); line != "started\n" {
		t.Fatalf("tail's first line %q %v", line, err)
	}
	testutil.Eventually(t, 20*time.Second, "the job's task holding the CPU", func() bool { return cpusFree(t, api) == 0 })
	if info := jobInfo(t, api, id); info.Status != StatusRunning || info.EndTime != nil {
		t.Fatalf("a running job: %+v", info)
	}
	if code, data := call(t, api, "POST", "/api/jobs/"+id+"/stop", ""); code != 200 || string(data) != `{"stopped":true}` {
		t.Fatalf("stop: %d %s", code, data)
	}
	ended := make(chan string, 1)
	go func() {
		rest, _ := io.ReadAll(stream)
		ended <- string(rest)
	}()
	select {
	case rest := <-ended:
		if !strings.Contains(rest, "[the job was stopped]") {
			t.Errorf("the tail ended with %q", rest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the log's tail did not end within 10s of the stop")
	}
	testutil.Eventually(t, 5*time.Second, "the CPU free again", func() bool { return cpusFree(t, api) == 1 })
	info := jobInfo(t, api, id)
	if info.Status != StatusStopped || info.EndTime == nil {
		t.Fatalf("a stopped job: %+v", info)
	}
	if _, data := call(t, api, "GET", "/api/jobs/"+id+"/logs", ""); !strings.Contains(string(data), "started") {
		t.Fatalf("a stopped job's log: %s", data)
	}
	if code, data := call(t, api, "POST", "/api/jobs/"+id+"/stop", ""); code != 200 || string(data) != `{"stopped":false}` {
		t.Fatalf("second stop: %d %s", code, data)
	}
}

// Closing the API (the head's SIGTERM) stops the jobs that run, at once.
func TestCloseStopsJobs(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	id := submitJob(t, api, `{"source": "task s() { time.sleep(300) }\npipeline main() { get(s()) }"}`).JobID
	testutil.Eventually(t, 20*time.Second, "the job running", func() bool { return jobInfo(t, api, id).Status == StatusRunning })
	start := time.Now()
	api.Close()
	if took := time.Since(start); took > closeTimeout {
		t.Fatalf("Close took %v", took)
	}
	api.jobWG.Wait()
	if rec, err := api.lookup(id); err != nil || rec.Status != StatusStopped {
		t.Fatalf("after Close: %+v %v", rec, err)
	}
}

// Many submissions at once all get their own IDs and all finish.
func TestConcurrentSubmissions(t *testing.T) {
	const n = 100
	api := startAPI(t, Options{Token: []byte("tok")})
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = submitJob(t, api, fmt.Sprintf(`{"source": "task f(x) { return x + 1 }\npipeline main() { return get(f(%d)) }"}`, i)).JobID
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			t.Fatalf("job ID %s given twice", id)
		}
		seen[id] = true
		tail(t, api, id)
		if info := jobInfo(t, api, id); info.Status != StatusSucceeded || info.Result == nil || *info.Result != fmt.Sprint(i+1) {
			t.Fatalf("job %d: %+v", i, info)
		}
	}
}

// A head keeps at most maxEndedJobs ended jobs: the oldest ended ones
// are forgotten first; a job that runs is never forgotten.
func TestEndedJobsBounded(t *testing.T) {
	defer func(n int) { maxEndedJobs = n }(maxEndedJobs)
	maxEndedJobs = 2
	api := startAPI(t, Options{Token: []byte("tok")})
	running := submitJob(t, api, `{"source": "task s() { time.sleep(300) }\npipeline main() { get(s()) }"}`).JobID
	var ids []string
	for i := range 4 {
		id := submitJob(t, api, fmt.Sprintf(`{"source": "pipeline main() { return %d }"}`, i)).JobID
		tail(t, api, id)
		ids = append(ids, id)
	}
	code, data := call(t, api, "GET", "/api/jobs/", "")
	var list []JobInfo
	json.Unmarshal(data, &list)
	if code != 200 || len(list) != 3 || list[0].JobID != running || list[1].JobID != ids[2] || list[2].JobID != ids[3] {
		t.Fatalf("jobs kept: %d %s", code, data)
	}
	if code, _ := call(t, api, "GET", "/api/jobs/"+ids[0], ""); code != 404 {
		t.Fatalf("the oldest ended job: %d", code)
	}
	call(t, api, "POST", "/api/jobs/"+running+"/stop", "")
}

// A job runs planned as `rayflow run` runs a file: the log says, as run
// says on stderr, which hint of the source was refused and why.
func TestJobLogWarnsOfRefusedHints(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	info, logs := runJob(t, api, "@hint(fuse)\ntask stamp(x) { return [x, time.now() > 0] }\npipeline main() { print(get(stamp(stamp(1)))[1]) }")
	want := "warning: job.rayflow:3:34: fuse refused: 'stamp' is nondeterministic (it calls time.now() at job.rayflow:2:36)"
	if info.Status != StatusSucceeded || !strings.Contains(logs, want) || !strings.HasSuffix(logs, "true\n") {
		t.Fatalf("job %+v logged %q, want a line with %q", info, logs, want)
	}
}
