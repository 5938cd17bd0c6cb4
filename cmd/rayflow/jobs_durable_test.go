package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/httpapi"
	"github.com/rayflow/rayflow/internal/testutil"
)

// Durable jobs (issue 13, item 2): the Jobs API's jobs live in the GCS,
// so every head serves every job, their history survives a head's
// restart, and a job whose head dies is taken over by another.

// loopJob runs n steps of a task that sleeps 0.3s each, printing each
// step as it ends, and returns the sum of 0..n-1.
const loopJob = `
task step(i) {
    time.sleep(0.3)
    return i
}
pipeline main(n: int = 12) {
    let t = 0
    for i in range(n) {
        t += get(step(i))
        print("step", i)
    }
    return t
}
`

// apiHead is a head started with an HTTP API, and how to start it again.
type apiHead struct {
	id   string
	args []string
	port int // its cluster port
	web  int // its HTTP port
	p    *proc
}

// startAPIHead starts head id with its HTTP API on a port of its own.
func startAPIHead(t *testing.T, bin, id string, flags ...string) *apiHead {
	t.Helper()
	port, web := freePortRange(t, 5), freePort(t)
	h := &apiHead{id: id, port: port, web: web, args: append([]string{"--port", fmt.Sprint(port), "--http-port", fmt.Sprint(web),
		"--node-id", id, "--cpus", "1"}, flags...)}
	h.p = startHead(t, bin, h.args...)
	return h
}

// flag is the --address of the head's HTTP API.
func (h *apiHead) flag() string { return fmt.Sprintf("--address=http://127.0.0.1:%d", h.web) }

// cluster is the head's cluster address.
func (h *apiHead) cluster() string { return fmt.Sprintf("127.0.0.1:%d", h.port) }

// kill SIGKILLs the head.
func (h *apiHead) kill() {
	h.p.cmd.Process.Signal(syscall.SIGKILL)
	h.p.cmd.Wait()
}

// jobAt is `rayflow job status --json ID` at head h; ok false when the
// command fails (no such job).
func jobAt(t *testing.T, bin string, h *apiHead, id string) (httpapi.JobInfo, bool) {
	t.Helper()
	var info httpapi.JobInfo
	code, out, _ := rayflowJob(t, bin, "status", "--json", h.flag(), id)
	return info, code == 0 && json.Unmarshal([]byte(out), &info) == nil
}

// logsAt is `rayflow job logs ID` at head h.
func logsAt(t *testing.T, bin string, h *apiHead, id string) string {
	t.Helper()
	_, out, _ := rayflowJob(t, bin, "logs", h.flag(), id)
	return out
}

// submitAt submits loopJob with n steps to head h and returns its ID.
func submitAt(t *testing.T, bin string, h *apiHead, n int) string {
	t.Helper()
	code, out, errs := rayflowJob(t, bin, "submit", "--no-wait", h.flag(), writeProgram(t, loopJob), fmt.Sprintf("n=%d", n))
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "rfjob_") {
		t.Fatalf("submit to %s: %d %q %q", h.id, code, out, errs)
	}
	return id
}

// threeAPIHeads starts h1, then h2 and h3 joined to it, each with one
// CPU, an HTTP API and the token apiToken.
func threeAPIHeads(t *testing.T, bin string) []*apiHead {
	tokenFile := writeTokenFile(t, apiToken)
	h1 := startAPIHead(t, bin, "h1", "--token-file", tokenFile)
	h2 := startAPIHead(t, bin, "h2", "--token-file", tokenFile, "--join", h1.cluster())
	h3 := startAPIHead(t, bin, "h3", "--token-file", tokenFile, "--join", h1.cluster())
	return []*apiHead{h1, h2, h3}
}

// apiToken is the cluster token of threeAPIHeads.
const apiToken = "durable-jobs-test-token-0123456789"

// Every head serves every job: a job submitted to h1 is shown by h2 (its
// log too, as it grows), listed by h3, stopped through h2 (h1, which
// runs it, learns of the stop from the GCS), and deleted through h3.
func TestJobsOnEveryHead(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	heads := threeAPIHeads(t, bin)
	h1, h2, h3 := heads[0], heads[1], heads[2]
	id := submitAt(t, bin, h1, 200)
	testutil.Eventually(t, 20*time.Second, "h2 showing the job's progress", func() bool {
		info, ok := jobAt(t, bin, h2, id)
		return ok && info.Status == httpapi.StatusRunning && info.DriverNodeID == "h1" && strings.Contains(logsAt(t, bin, h2, id), "step 1\n")
	})
	if code, out, _ := rayflowJob(t, bin, "list", h3.flag()); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("h3's list: %d %q", code, out)
	}
	if code, out, errs := rayflowJob(t, bin, "stop", h2.flag(), id); code != 0 || !strings.Contains(out, "STOPPED") {
		t.Fatalf("stop through h2: %d %q %q", code, out, errs)
	}
	info, ok := jobAt(t, bin, h1, id)
	if !ok || info.Status != httpapi.StatusStopped || info.EndTime == nil {
		t.Fatalf("the stopped job at h1: %+v", info)
	}
	testutil.Eventually(t, 10*time.Second, "h3 showing the stopped job's whole log", func() bool {
		return strings.Contains(logsAt(t, bin, h3, id), "[the job was stopped]")
	})
	// Every head's rayflow_jobs counts the jobs table.
	testutil.Eventually(t, 10*time.Second, "h3's rayflow_jobs counting the stopped job", func() bool {
		m := scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", h3.web), apiToken)
		return m.sum("rayflow_jobs", `status="STOPPED"`) == 1 && m.sum("rayflow_jobs", `status="RUNNING"`) == 0 && m.has(`rayflow_jobs{status="PENDING"}`)
	})
	if code, _, errs := rayflowJob(t, bin, "delete", h3.flag(), id); code != 0 {
		t.Fatalf("delete through h3: %d %q", code, errs)
	}
	if _, ok := jobAt(t, bin, h1, id); ok {
		t.Fatalf("h1 still shows the deleted job")
	}
}

// A head restarted with its --data-dir (after SIGKILL) still lists its
// ended jobs with their logs and results, and runs again the job it was
// running, which then ends SUCCEEDED with a note of the restart.
func TestJobHistorySurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	h := startAPIHead(t, bin, "h1", "--data-dir", t.TempDir())
	if code, out, errs := rayflowJob(t, bin, "submit", h.flag(), writeProgram(t, loopJob), "n=3"); code != 0 || !strings.HasSuffix(out, "step 2\n3\n") {
		t.Fatalf("submit: %d %q %q", code, out, errs)
	}
	_, list, _ := rayflowJob(t, bin, "list", h.flag())
	done := strings.Fields(strings.Split(list, "\n")[1])[0]
	running := submitAt(t, bin, h, 12)
	testutil.Eventually(t, 20*time.Second, "the job's first steps in its log", func() bool {
		return strings.Contains(logsAt(t, bin, h, running), "step 1\n")
	})
	h.kill()
	h.p = startHead(t, bin, h.args...)

	if info, ok := jobAt(t, bin, h, done); !ok || info.Status != httpapi.StatusSucceeded || info.Result == nil || *info.Result != "3" {
		t.Fatalf("the ended job after the restart: %+v", info)
	}
	if logs := logsAt(t, bin, h, done); logs != "step 0\nstep 1\nstep 2\n" {
		t.Fatalf("the ended job's log after the restart: %q", logs)
	}
	var info httpapi.JobInfo
	testutil.Eventually(t, 60*time.Second, "the running job restarted and ended", func() bool {
		info, _ = jobAt(t, bin, h, running)
		return info.EndTime != nil
	})
	logs := logsAt(t, bin, h, running)
	if info.Status != httpapi.StatusSucceeded || info.Result == nil || *info.Result != "66" ||
		!strings.Contains(info.Message, "restarted on head h1 after it restarted") {
		t.Fatalf("the job running at the kill: %+v\n%s", info, logs)
	}
	if !strings.Contains(logs, "[the job was restarted on head h1 after it restarted; its output starts again]\n") ||
		!strings.HasSuffix(logs, "step 10\nstep 11\n") {
		t.Fatalf("its log: %q", logs)
	}
}

// A job whose head is SIGKILLed while it runs is taken over by a
// surviving head, which runs it again: it ends SUCCEEDED, with the
// restart in its message and its log, and all its output.
func TestJobTakenOverWhenItsHeadDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	heads := threeAPIHeads(t, bin)
	h1, h2, h3 := heads[0], heads[1], heads[2]
	id := submitAt(t, bin, h1, 12)
	testutil.Eventually(t, 20*time.Second, "the job's first steps in its log at h2", func() bool {
		return strings.Contains(logsAt(t, bin, h2, id), "step 1\n")
	})
	// h3 follows the log through the takeover, to the job's end.
	follow := exec.Command(bin, "job", "logs", "-f", h3.flag(), id)
	followed := &testutil.Buffer{}
	follow.Stdout = followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer follow.Process.Kill()
	h1.kill()
	var info httpapi.JobInfo
	defer func() {
		if t.Failed() {
			t.Logf("the job at h2: %+v\n%s", info, logsAt(t, bin, h2, id))
			st, _ := statusRaw(bin, h2.cluster())
			t.Logf("status at h2: %s", st)
			for _, h := range heads[1:] {
				h.p.cmd.Process.Signal(syscall.SIGQUIT)
				h.p.cmd.Wait()
				t.Logf("%s's goroutines:\n%s", h.id, h.p.cmd.Stderr.(*testutil.Buffer).String())
			}
		}
	}()
	testutil.Eventually(t, 60*time.Second, "the job taken over and ended", func() bool {
		info, _ = jobAt(t, bin, h2, id)
		return info.EndTime != nil
	})
	logs := logsAt(t, bin, h2, id)
	if info.Status != httpapi.StatusSucceeded || info.Result == nil || *info.Result != "66" ||
		!strings.Contains(info.Message, "after head h1 died") || info.DriverNodeID == "h1" {
		t.Fatalf("the job after its head died: %+v\n%s", info, logs)
	}
	note := fmt.Sprintf("[the job was restarted on head %s after head h1 died; its output starts again]\n", info.DriverNodeID)
	before, after, found := strings.Cut(logs, note)
	if !found || !strings.HasPrefix(before, "step 0\nstep 1\n") || !strings.HasPrefix(after, "step 0\n") || !strings.HasSuffix(after, "step 10\nstep 11\n") {
		t.Fatalf("its log: %q", logs)
	}
	if err := follow.Wait(); err != nil || followed.String() != logs {
		t.Fatalf("logs -f at h3: %v\n%q\nwant %q", err, followed.String(), logs)
	}
	t.Logf("taken over by %s: %s", info.DriverNodeID, info.Message)
}

// reuseJob makes n large results (8000 ints each, past the size that
// travels inline, so the node that made them keeps them) on a node with
// the resource box, deterministically; then runs steps slow steps (each
// prints when it ends), and returns the sum of the results.
const reuseJob = `
@resources(cpu=1, box=1)
task part(i: int) {
    return [i * 100000 + k for k in range(8000)]
}
task slow(i) {
    time.sleep(0.3)
    return i
}
pipeline main(n: int = 6, steps: int = 12) {
    let total = 0
    for p in get([part(i) for i in range(n)]) { total += sum(p) }
    print("parts", total)
    for i in range(steps) {
        get(slow(i))
        print("step", i)
    }
    return total
}
`

// A job taken over after its head died reuses the results of its first
// run that the cluster still holds: the deterministic tasks whose results
// live on a node that survives run once in all (the node's
// rayflow_tasks_finished_total counts them), the job's output is the
// same, and its message says how many results were reused.
func TestJobTakeoverReusesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	heads := threeAPIHeads(t, bin)
	h1, h2 := heads[0], heads[1]
	tokenFile := writeTokenFile(t, apiToken)
	node := startProc(t, bin, "start", "--address", strings.Join([]string{h1.cluster(), h2.cluster(), heads[2].cluster()}, ","),
		"--cpus", "2", "--resources", "box=4", "--node-id", "n1", "--token-file", tokenFile, "--metrics-port", "0")
	_, metricsAddr, ok := strings.Cut(node.ready, ", metrics ")
	if !ok {
		t.Fatalf("the node's ready line names no metrics address: %q", node.ready)
	}
	parts := func() float64 {
		m := scrape(t, "http://"+strings.TrimSpace(metricsAddr)+"/metrics", apiToken)
		return m.sum("rayflow_tasks_finished_total", `function="part"`)
	}
	const n, steps = 6, 12
	code, out, errs := rayflowJob(t, bin, "submit", "--no-wait", h1.flag(), writeProgram(t, reuseJob), fmt.Sprintf("n=%d", n), fmt.Sprintf("steps=%d", steps))
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "rfjob_") {
		t.Fatalf("submit: %d %q %q", code, out, errs)
	}
	testutil.Eventually(t, 30*time.Second, "the job's slow steps under way", func() bool {
		return strings.Contains(logsAt(t, bin, h2, id), "step 1\n")
	})
	if got := parts(); got != n {
		t.Fatalf("the node ran part %v times in the first run, want %d", got, n)
	}
	h1.kill()
	var info httpapi.JobInfo
	testutil.Eventually(t, 60*time.Second, "the job taken over and ended", func() bool {
		info, _ = jobAt(t, bin, h2, id)
		return info.EndTime != nil
	})
	logs := logsAt(t, bin, h2, id)
	if got := parts(); got != n {
		t.Fatalf("the node ran part %v times in all, want %d: the results of the first run were not reused", got, n)
	}
	total := 0
	for i := range n {
		for k := range 8000 {
			total += i*100000 + k
		}
	}
	if info.Status != httpapi.StatusSucceeded || info.Result == nil || *info.Result != fmt.Sprint(total) ||
		!strings.Contains(info.Message, "after head h1 died") || !strings.Contains(info.Message, fmt.Sprintf("; %d task results reused", n)) {
		t.Fatalf("the job after its head died: %+v\n%s", info, logs)
	}
	want := fmt.Sprintf("parts %d\n", total)
	for i := range steps {
		want += fmt.Sprintf("step %d\n", i)
	}
	note := fmt.Sprintf("[the job was restarted on head %s after head h1 died; its output starts again]\n", info.DriverNodeID)
	if before, after, found := strings.Cut(logs, note); !found || !strings.HasPrefix(want, before) || after != want {
		t.Fatalf("its log: %q", logs)
	}
	t.Logf("taken over by %s: %s", info.DriverNodeID, info.Message)
}
