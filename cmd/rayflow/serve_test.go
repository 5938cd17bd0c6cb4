package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// servedProgram is the application the serve tests deploy: an echo
// deployment of two replicas and a batched one.
const servedProgram = `
@serve(route="/echo", replicas=2)
actor Echo(scale = 2) {
    method double(x) { return x * scale }
    method add(a, b = 10) { return a + b }
    method boom() { fail("boom") }
    method where() { return sys.node() }
}

@serve(route="/models/batch", max_batch=16, batch_wait_ms=50)
actor Batch() {
    method size(xs) { return [[x, len(xs)] for x in xs] }
    method short(xs) { return [1] }
}
`

// answer is one HTTP answer: its status and decoded JSON body.
type answer struct {
	status int
	body   any
	raw    string
}

// post sends body to url with POST (or method) and reads the JSON answer.
func post(t *testing.T, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return answer{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Errorf("%s %s answered %d with a body that is not JSON: %q", method, url, resp.StatusCode, raw)
	}
	return a
}

// servedURL reads the URL from `rayflow serve`'s ready line.
func servedURL(t *testing.T, p *proc) string {
	t.Helper()
	for _, w := range strings.Fields(p.ready) {
		if strings.HasPrefix(w, "http://") {
			return w
		}
	}
	t.Fatalf("no URL on the ready line %q", p.ready)
	return ""
}

// Embedded `rayflow serve` answers POST /ROUTE/METHOD with positional
// and keyword arguments, constructs the actors with the parameters of
// the command line, and answers errors with status, error and kind.
func TestServeEmbeddedAnswersAndErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	p := startProc(t, bin, "serve", writeProgram(t, servedProgram), "--http-port", fmt.Sprint(freePort(t)), "scale=3", "--cpus", "2")
	url := servedURL(t, p)
	if !strings.Contains(p.ready, "POST /echo/double") || !strings.Contains(p.ready, "POST /models/batch/size") {
		t.Errorf("the ready line does not list the routes: %q", p.ready)
	}
	cases := []struct {
		method, path, body string
		status             int
		want               string // the raw body, or for errors its kind
	}{
		{"POST", "/echo/double", "[4]", 200, "12"},
		{"POST", "/echo/double", `{"x": "ab"}`, 200, `"ababab"`},
		{"POST", "/echo/add", `{"a": 1}`, 200, "11"},
		{"POST", "/echo/add", `[1, 2]`, 200, "3"},
		{"POST", "/echo/boom", "", 500, "user"},
		{"POST", "/echo/double", "[1, 2]", 400, "type"},
		{"POST", "/echo/double", "{nope", 400, "bad_request"},
		{"POST", "/echo/double", `"x"`, 400, "bad_request"},
		{"POST", "/echo/nothing", "[]", 404, "not_found"},
		{"POST", "/other/double", "[]", 404, "not_found"},
		{"POST", "/", "[]", 404, "not_found"},
		{"GET", "/echo/double", "", 405, "method_not_allowed"},
	}
	for _, c := range cases {
		a := post(t, c.method, url+c.path, c.body)
		got := a.raw
		if m, ok := a.body.(map[string]any); ok && c.status != 200 {
			got, _ = m["kind"].(string)
			if msg, _ := m["error"].(string); msg == "" {
				t.Errorf("%s %s: an error answer without a message: %s", c.method, c.path, a.raw)
			}
		}
		if a.status != c.status || got != c.want {
			t.Errorf("%s %s %.40q: got %d %s, want %d %s", c.method, c.path, c.body, a.status, a.raw, c.status, c.want)
		}
	}
	// A body over the limit is refused from its Content-Length, before
	// it is sent (a client that writes it all may see the connection
	// closed under it).
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /echo/double HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 9<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a body over the limit: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(raw), `"kind":"too_large"`) {
		t.Errorf("a body over the limit: got %d %s, want 413 too_large", resp.StatusCode, raw)
	}
}

// With max_batch, requests that arrive together reach the method as one
// list: concurrent requests see batches of more than one, and a method
// that returns a list of the wrong length fails every request of its
// batch with a clear error.
func TestServeBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	p := startProc(t, bin, "serve", writeProgram(t, servedProgram), "--http-port", fmt.Sprint(freePort(t)), "--cpus", "2")
	url := servedURL(t, p)
	const n = 24
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = post(t, "POST", url+"/models/batch/size", fmt.Sprintf("[%d]", i)) })
	}
	wg.Wait()
	biggest := 0
	for i, a := range answers {
		pair, ok := a.body.([]any)
		if a.status != 200 || !ok || len(pair) != 2 || pair[0] != float64(i) {
			t.Fatalf("request %d: got %d %s, want [%d, BATCH SIZE]", i, a.status, a.raw, i)
		}
		size := int(pair[1].(float64))
		if size < 1 || size > 16 {
			t.Errorf("request %d was in a batch of %d, outside 1..max_batch=16", i, size)
		}
		biggest = max(biggest, size)
	}
	if biggest < 2 {
		t.Errorf("%d concurrent requests were never batched together", n)
	}
	short := make([]answer, 4)
	for i := range short {
		wg.Go(func() { short[i] = post(t, "POST", url+"/models/batch/short", `{"xs": 1}`) })
	}
	wg.Wait()
	for _, a := range short {
		m, _ := a.body.(map[string]any)
		msg, _ := m["error"].(string)
		if a.status == 200 && a.raw == "1" {
			continue // alone in its batch: a list of one is right
		}
		if a.status != 500 || m["kind"] != "value" || !strings.Contains(msg, "must return a list of one result per input") {
			t.Errorf("a batch answered with a list of the wrong length: got %d %s", a.status, a.raw)
		}
	}
	a := post(t, "POST", url+"/models/batch/size", "[1, 2]")
	if a.status != 400 {
		t.Errorf("two inputs to a batched method: got %d %s, want 400", a.status, a.raw)
	}
}

// startServing starts `rayflow serve ARGS...`, waits for its ready line
// and returns it with its stderr, read while it runs.
func startServing(t *testing.T, bin string, args ...string) (*proc, *testutil.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.SysProcAttr = childAttr()
	stdout, _ := cmd.StdoutPipe()
	stderr := &testutil.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, ok := testutil.AwaitReady(stdout, 10*time.Second)
	if !ok {
		t.Fatalf("rayflow serve printed no ready line in 10 s; stderr:\n%s", stderr.String())
	}
	return &proc{cmd: cmd, ready: line}, stderr
}

// With min_replicas < max_replicas the replicas follow the requests in
// flight: a stream of concurrent requests to a slow method scales the
// deployment up to max_replicas, and it scales back down to
// min_replicas, one replica at a time, once the stream stops.
func TestServeAutoscales(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	p, stderr := startServing(t, bin, writeProgram(t, `
@serve(route="/slow", min_replicas=1, max_replicas=3)
actor Slow() {
    method work(x) {
        time.sleep(0.05)
        return x
    }
}
`), "--http-port", fmt.Sprint(freePort(t)), "--cpus", "2")
	url := servedURL(t, p) + "/slow/work"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(url, "application/json", strings.NewReader("[1]"))
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	testutil.Eventually(t, 20*time.Second, "scaled up to 3 replicas", func() bool {
		return strings.Contains(stderr.String(), "scaled up to 3 replicas")
	})
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed while scaling", n)
	}
	testutil.Eventually(t, 30*time.Second, "scaled back down to 1 replica", func() bool {
		return strings.Contains(stderr.String(), "scaled down to 1 replicas")
	})
	if a := post(t, "POST", url, "[5]"); a.status != 200 || a.raw != "5" {
		t.Errorf("after scaling down: got %d %s", a.status, a.raw)
	}
	if strings.Contains(stderr.String(), "scaled up to 4") {
		t.Errorf("scaled beyond max_replicas:\n%s", stderr.String())
	}
}

// Usage errors of rayflow serve exit 2 with one line saying what is
// wrong; a program that fails to build its replicas exits 1.
func TestServeUsageErrors(t *testing.T) {
	bin := buildCLI(t)
	none := writeProgram(t, "pipeline main() { print(1) }")
	needs := writeProgram(t, `
@serve(route="/b")
actor B(y) {
    method f() { return y }
}`)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", none, "--http-port", "0"}, 2, "declares no actor with @serve"},
		{[]string{"serve", needs, "--http-port", "0", "z=1"}, 2, "no served actor takes a parameter 'z'"},
		{[]string{"serve", needs, "--http-port", "0"}, 1, "cannot create replica 1 of actor B: missing argument 'y'"},
		{[]string{"serve", needs, "--http-port", "70000"}, 2, "--http-port must be from 1 to 65535"},
		{[]string{"serve", needs, "--address", "127.0.0.1:1", "--cpus", "2"}, 2, "--cpus and --nodes configure the embedded cluster"},
		{[]string{"serve", "status", "extra", "--address", "127.0.0.1:1"}, 2, "unexpected argument 'extra'"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("rayflow %s: exit %d, want %d with %q; output:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
}
