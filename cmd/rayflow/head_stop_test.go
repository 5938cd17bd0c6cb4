package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// SIGTERM stops a head within its stop bound even while jobs run on it:
// a job submitted to the Jobs API and tasks of it on the head's node. It
// used to wait for the jobs for ever.
func TestHeadStopsWithRunningJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	dataDir := t.TempDir()
	head := startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "2", "--data-dir", dataDir)
	token, _ := os.ReadFile(filepath.Join(dataDir, "token"))

	body, _ := json.Marshal(map[string]string{"source": "task s() { time.sleep(300) }\npipeline main() { get([s() for i in range(2)]) }"})
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/api/jobs/", web), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sub struct {
		JobID string `json:"job_id"`
	}
	json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if resp.StatusCode != 200 || sub.JobID == "" {
		t.Fatalf("submission: %d %+v", resp.StatusCode, sub)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", hp)
	testutil.Eventually(t, 10*time.Second, "the job's tasks running", func() bool {
		var st statusJSON
		out, _ := statusRaw(bin, addr)
		if json.Unmarshal(out, &st) != nil || len(st.Nodes) == 0 {
			return false
		}
		return st.Nodes[0].ResourcesAvailable["cpu"] == 0
	})
	head.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- head.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(stopTimeout + 5*time.Second):
		t.Fatalf("the head did not stop within %v of SIGTERM", stopTimeout+5*time.Second)
	}
}

// statusRaw runs `rayflow status --json` and returns what it printed.
func statusRaw(bin, addr string) ([]byte, error) {
	return exec.Command(bin, "status", "--address", addr, "--json").Output()
}
