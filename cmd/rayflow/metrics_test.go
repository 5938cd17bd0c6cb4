package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// A head serves GET /metrics on its HTTP API and a node started with
// --metrics-port on its own port, both behind the cluster token (401
// without it), in the Prometheus text format: after a job of 20 tasks of
// one function, the task counters of that function, summed over the
// two, show 20 submitted and 20 finished, and every documented metric
// is there (heartbeat ages and jobs on the head only).
func TestMetricsEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	token := "metrics-test-token-0123456789abcdef"
	tokenFile := writeTokenFile(t, token)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1", "--node-id", "h",
		"--token-file", tokenFile)
	node := startProc(t, bin, "start", "--address", head, "--cpus", "1", "--node-id", "n1",
		"--token-file", tokenFile, "--metrics-port", "0")
	_, nodeMetrics, ok := strings.Cut(node.ready, ", metrics ")
	if !ok {
		t.Fatalf("the node's ready line names no metrics address: %q", node.ready)
	}
	headURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	nodeURL := "http://" + strings.TrimSpace(nodeMetrics) + "/metrics"

	prog := writeProgram(t, "task square(x: int) -> int { return x * x }\n"+
		"pipeline main() { print(sum(get([square(i) for i in range(20)]))) }\n")
	if out, err := exec.Command(bin, "run", "--address", head, "--token-file", tokenFile, prog).CombinedOutput(); err != nil || string(out) != "2470\n" {
		t.Fatalf("run: %v\n%s", err, out)
	}

	for _, u := range []string{headURL, nodeURL} {
		if code := scrapeStatus(t, u, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", u, code)
		}
		if code := scrapeStatus(t, u, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", u, code)
		}
	}
	hm, nm := scrape(t, headURL, token), scrape(t, nodeURL, token)
	common := []string{"rayflow_tasks_submitted_total", "rayflow_tasks_finished_total", "rayflow_tasks_failed_total",
		"rayflow_tasks_queued", "rayflow_actors", "rayflow_object_store_bytes", "rayflow_object_store_spilled_bytes_total",
		"rayflow_gcs_apply_seconds_count", "rayflow_stash_uncommitted"}
	for _, name := range append(common, "rayflow_heartbeat_age_seconds", "rayflow_jobs") {
		if !hm.has(name) {
			t.Errorf("the head's /metrics has no %s", name)
		}
	}
	for _, name := range common {
		if !nm.has(name) {
			t.Errorf("the node's /metrics has no %s", name)
		}
	}
	if hm.sum("rayflow_gcs_apply_seconds_count", "") == 0 {
		t.Errorf("the head's GCS applied no entry: %v", hm["rayflow_gcs_apply_seconds_count"])
	}
	for _, node := range []string{"h", "n1"} {
		if !hm.has(`rayflow_heartbeat_age_seconds{node="` + node + `"}`) {
			t.Errorf("the head shows no heartbeat age of %s: %v", node, hm["rayflow_heartbeat_age_seconds"])
		}
	}
	square := `function="square"`
	for _, c := range []string{"rayflow_tasks_submitted_total", "rayflow_tasks_finished_total"} {
		if got := hm.sum(c, square) + nm.sum(c, square); got != 20 {
			t.Errorf("%s of square, head and node: %v, want 20 (head %v, node %v)", c, got, hm[c], nm[c])
		}
	}
	if got := hm.sum("rayflow_tasks_failed_total", square) + nm.sum("rayflow_tasks_failed_total", square); got != 0 {
		t.Errorf("rayflow_tasks_failed_total of square: %v, want 0", got)
	}
}

// samples are a scrape's samples: by metric name, the label sets
// ("{...}" or "") and their values.
type samples map[string]map[string]float64

// has reports whether the scrape has the metric name, or, when name has
// labels, that sample.
func (s samples) has(name string) bool {
	base, labels, ok := strings.Cut(name, "{")
	if !ok {
		return len(s[name]) > 0
	}
	_, found := s[base]["{"+labels]
	return found
}

// sum adds the values of the metric's samples whose labels contain label.
func (s samples) sum(name, label string) float64 {
	total := 0.0
	for labels, v := range s[name] {
		if strings.Contains(labels, label) {
			total += v
		}
	}
	return total
}

func scrapeStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape gets url with the token and parses the Prometheus text format.
func scrape(t *testing.T, url, token string) samples {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	s := samples{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("GET %s: not a sample: %q", url, line)
		}
		name, labels := line[:i], ""
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name, labels = line[:j], line[j:i]
		}
		if s[name] == nil {
			s[name] = map[string]float64{}
		}
		s[name][labels] = v
	}
	return s
}
