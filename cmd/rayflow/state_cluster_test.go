package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// stateProgram has long tasks (more than the cluster's 4 CPUs run at
// once), finished tasks, a failed task and an actor; it runs until the
// test kills it.
const stateProgram = `task sq(x: int) -> int { return x * x }
task boom(x: int) -> int {
    if x > 0 { fail("boom " + str(x)) }
    return x
}
task slow(n: int) -> int {
    time.sleep(n)
    return n
}
actor Counter() {
    let n = 0
    method add(k: int) -> int { n = n + k; return n }
}
pipeline main() {
    let c = Counter()
    print(get(c.add(2)))
    print(sum(get([sq(i) for i in range(5)])))
    let b = boom(1)
    let more = [slow(300) for i in range(4)]
    print(get(slow(300)))
}
`

// rayflowState runs `rayflow ARGS...` against the head's HTTP API.
func rayflowState(t *testing.T, bin, web string, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, "", bin, nil, append(args, "--address", web)...)
}

// row finds the row of a `rayflow list` table whose first column is id.
func row(table, id string) []string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == id {
			return f
		}
	}
	return nil
}

// The state API on a real head and node: a job's running, finished and
// failed tasks are listed with their nodes and the failure's message,
// --state filters, summary counts, the actor is ALIVE on its node; nodes
// and jobs are listed; timeline writes Chrome trace JSON of the job's
// tasks; a job past the head's per-job bound (RAYFLOW_STATE_JOB_LIMIT)
// shows the drops counted; the API wants the token.
func TestStateAPIOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("RAYFLOW_STATE_JOB_LIMIT", "20") // read by the head (not parallel: Setenv)
	bin := buildCLI(t)
	hp, webPort := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	web := fmt.Sprintf("http://127.0.0.1:%d", webPort)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(webPort), "--cpus", "2", "--node-id", "h")
	node := startProc(t, bin, "start", "--address", head, "--cpus", "2", "--node-id", "n1")

	driver := exec.Command(bin, "run", "--address", head, writeProgram(t, stateProgram))
	driver.SysProcAttr = childAttr()
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Process.Kill(); driver.Wait() })

	// The job's ID is the slow task's, once it runs.
	var job string
	testutil.Eventually(t, 30*time.Second, "the job's tasks listed: 5 slow running or pending, 5 sq finished, boom failed", func() bool {
		code, out, _ := rayflowState(t, bin, web, "list", "tasks")
		if code != 0 {
			return false
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[1] == "slow" && f[2] == "RUNNING" {
				job, _, _ = strings.Cut(f[0], ".")
			}
		}
		return job != "" && strings.Count(out, " FINISHED ") >= 6 && strings.Contains(out, " FAILED ") &&
			strings.Count(out, " slow ") == 5
	})
	code, out, errs := rayflowState(t, bin, web, "list", "tasks", "--job", job)
	if code != 0 || !strings.HasPrefix(out, "TASK ID") {
		t.Fatalf("list tasks --job: %d %q %q", code, out, errs)
	}
	nodes := regexp.MustCompile(`^(h|n1)$`)
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasPrefix(f[0], job+".") || f[2] != "PENDING" && !nodes.MatchString(f[3]) {
			t.Fatalf("a row without its task, job or node:\n%s", out)
		}
		seen[f[1]+" "+f[2]]++
		if f[1] == "boom" && !strings.Contains(line, "user: boom 1") {
			t.Errorf("boom's row does not give its error: %q", line)
		}
	}
	if seen["slow RUNNING"] < 1 || seen["slow PENDING"] < 1 || seen["slow RUNNING"]+seen["slow PENDING"] != 5 ||
		seen["sq FINISHED"] != 5 || seen["boom FAILED"] != 1 || seen["Counter.add FINISHED"] != 1 {
		t.Fatalf("list tasks --job %s: %v\n%s", job, seen, out)
	}
	code, out, _ = rayflowState(t, bin, web, "list", "tasks", "--job", job, "--state", "FAILED", "--json")
	var failedTasks []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &failedTasks) != nil || len(failedTasks) != 1 ||
		failedTasks[0]["name"] != "boom" || failedTasks[0]["error"] != "user: boom 1" || failedTasks[0]["end_time"] == nil {
		t.Fatalf("list tasks --state FAILED --json: %d %s", code, out)
	}

	code, out, _ = rayflowState(t, bin, web, "summary", "tasks", "--job", job)
	if f, slow := row(out, "sq"), row(out, "slow"); code != 0 || len(f) != 6 || f[3] != "5" || len(slow) != 6 ||
		slow[1] == "0" || slow[2] == "0" || row(out, "boom")[4] != "1" {
		t.Fatalf("summary tasks: %d\n%s", code, out)
	}

	code, out, _ = rayflowState(t, bin, web, "list", "actors", "--job", job)
	if f := row(out, job+".1"); code != 0 || len(f) != 5 || f[1] != "Counter" || f[2] != "ALIVE" || !nodes.MatchString(f[3]) {
		t.Fatalf("list actors: %d\n%s", code, out)
	}

	code, out, _ = rayflowState(t, bin, web, "list", "nodes")
	if h, n := row(out, "h"), row(out, "n1"); code != 0 || len(h) < 4 || h[2] != "ALIVE" || h[3] != "true" || len(n) < 4 || n[2] != "ALIVE" || n[3] != "false" {
		t.Fatalf("list nodes: %d\n%s", code, out)
	}

	code, out, errs = rayflowJob(t, bin, "submit", "--no-wait", "--address", web, writeProgram(t, "pipeline main() { print(1) }\n"))
	submitted := strings.TrimSpace(out)
	if code != 0 || submitted == "" {
		t.Fatalf("job submit --no-wait: %d %q %q", code, out, errs)
	}
	code, out, _ = rayflowState(t, bin, web, "list", "jobs")
	if code != 0 || row(out, submitted) == nil {
		t.Fatalf("list jobs has no %s:\n%s", submitted, out)
	}
	// --job and --state keep only the jobs they name.
	for _, filter := range []struct {
		flags []string
		shown bool
	}{{[]string{"--job", submitted}, true}, {[]string{"--job", "rfjob_none"}, false}, {[]string{"--state", "STOPPED"}, false}} {
		code, out, _ = rayflowState(t, bin, web, append([]string{"list", "jobs"}, filter.flags...)...)
		if code != 0 || (row(out, submitted) != nil) != filter.shown {
			t.Fatalf("list jobs %v: %d, want %s shown %v:\n%s", filter.flags, code, submitted, filter.shown, out)
		}
	}

	trace := filepath.Join(t.TempDir(), "trace.json")
	if code, out, errs := rayflowState(t, bin, web, "timeline", "--job", job, "-o", trace); code != 0 {
		t.Fatalf("timeline: %d %q %q", code, out, errs)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Name, Cat, Ph string
		PID           string `json:"pid"`
		Dur           float64
	}
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatalf("the timeline is not a JSON array: %v\n%s", err, data)
	}
	runs := 0
	for _, e := range events {
		if e.Name == "sq" && e.Cat == "task" && e.Ph == "X" && nodes.MatchString(e.PID) {
			runs++
		}
	}
	if runs != 5 {
		t.Fatalf("the timeline has %d runs of sq, want 5:\n%s", runs, data)
	}

	// The driver stops: its job's running tasks are cancelled, which
	// frees the CPUs for the next job.
	driver.Process.Kill()
	testutil.Eventually(t, 30*time.Second, "the stopped job's slow tasks cancelled", func() bool {
		_, out, _ := rayflowState(t, bin, web, "list", "tasks", "--job", job, "--state", "CANCELLED")
		return strings.Count(out, " slow ") >= 1
	})

	// 30 tasks of a job, past the head's bound of 20 per job.
	many := writeProgram(t, "task sq30(x: int) -> int { return x * x }\npipeline main() { print(sum(get([sq30(i) for i in range(30)]))) }\n")
	if out, err := exec.Command(bin, "run", "--address", head, many).CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	var job30 string
	testutil.Eventually(t, 10*time.Second, "the bounded job's tasks listed", func() bool {
		_, out, _ := rayflowState(t, bin, web, "list", "tasks", "--json", "--limit", "10000")
		var all []map[string]any
		json.Unmarshal([]byte(out), &all)
		for _, task := range all {
			if task["name"] == "sq30" {
				job30 = task["job_id"].(string)
			}
		}
		return job30 != ""
	})
	testutil.Eventually(t, 10*time.Second, "a job of 30 tasks: 20 kept, 10 dropped", func() bool {
		code, out, _ = rayflowState(t, bin, web, "list", "tasks", "--job", job30, "--limit", "5")
		return code == 0 && strings.HasSuffix(out, "\n20 tasks (5 shown; 10 dropped)\n")
	})
	code, out, _ = rayflowState(t, bin, web, "summary", "tasks", "--job", job30)
	if f := row(out, "sq30"); code != 0 || len(f) != 6 || f[3] != "20" || !strings.HasSuffix(out, "\n20 tasks (10 dropped)\n") {
		t.Fatalf("summary tasks of the bounded job: %d\n%s", code, out)
	}

	// A node that dies leaves what it reported listed.
	code, out, _ = rayflowState(t, bin, web, "list", "tasks", "--json", "--limit", "10000")
	var before []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &before) != nil {
		t.Fatalf("list tasks --json: %d %s", code, out)
	}
	onN1 := 0
	for _, task := range before {
		if task["node_id"] == "n1" && task["state"] == "FINISHED" {
			onN1++
		}
	}
	if onN1 == 0 {
		t.Fatalf("no task finished on n1:\n%s", out)
	}
	node.cmd.Process.Kill()
	testutil.Eventually(t, 20*time.Second, "n1 dead", func() bool {
		_, out, _ := rayflowState(t, bin, web, "list", "nodes", "--state", "DEAD")
		return row(out, "n1") != nil
	})
	code, out, _ = rayflowState(t, bin, web, "list", "tasks", "--json", "--limit", "10000")
	var after []map[string]any
	json.Unmarshal([]byte(out), &after)
	stillOnN1 := 0
	for _, task := range after {
		if task["node_id"] == "n1" && task["state"] == "FINISHED" {
			stillOnN1++
		}
	}
	if code != 0 || stillOnN1 != onN1 {
		t.Fatalf("after n1 died, %d of its %d finished tasks are listed:\n%s", stillOnN1, onN1, out)
	}

	for _, path := range []string{"/api/v0/tasks", "/api/v0/nodes", "/api/v0/timeline?job=" + job} {
		resp, err := http.Get(web + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, resp.StatusCode)
		}
	}
}
