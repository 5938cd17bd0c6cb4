package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent"
)

// The API refuses requests without the token (401), cross-site ones
// (403) and bodies that are not JSON (415); a browser logs in once with
// /?token= and then uses its cookie.
func TestGuard(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	base := "http://" + api.Addr()
	job := `{"source": "pipeline main() { print(1) }"}`
	do := func(method, path, body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := (&http.Transport{}).RoundTrip(req) // no redirects followed
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	bearer := map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json"}
	for _, c := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		code                     int
	}{
		{"no token", "POST", "/api/jobs/", job, map[string]string{"Content-Type": "application/json"}, 401},
		{"wrong token", "POST", "/api/jobs/", job, map[string]string{"Authorization": "Bearer nope", "Content-Type": "application/json"}, 401},
		{"token", "POST", "/api/jobs/", job, bearer, 200},
		{"text/plain from a page", "POST", "/api/jobs/", job, map[string]string{"Authorization": "Bearer tok", "Content-Type": "text/plain"}, 415},
		{"foreign origin", "POST", "/api/jobs/", job, map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"rebound host", "GET", "/api/status", "", map[string]string{"Authorization": "Bearer tok", "Host": "evil.example:8265"}, 403},
		{"status with token", "GET", "/api/status", "", bearer, 200},
	} {
		if resp := do(c.method, c.path, c.body, c.hdr); resp.StatusCode != c.code {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.code)
		}
	}
	// A body larger than the API takes: 413 as soon as its length is
	// announced (the body is not sent, so the answer cannot race it).
	conn, err := net.Dial("tcp", api.Addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/jobs/ HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer tok\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", api.Addr(), maxJobSource+8192)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Errorf("too big: %q, want 413", line)
	}
	// A browser's login: the token in the address once, a cookie after.
	resp := do("GET", "/api/status?token=tok", "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") == "" || strings.Contains(resp.Header.Get("Location"), "tok") {
		t.Fatalf("login: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || strings.Contains(cookie, "=tok") {
		t.Fatalf("cookie %q", cookie)
	}
	name, value, _ := strings.Cut(strings.Split(cookie, ";")[0], "=")
	if resp := do("GET", "/api/status", "", map[string]string{"Cookie": name + "=" + value}); resp.StatusCode != 200 {
		t.Fatalf("with the cookie: %d", resp.StatusCode)
	}
	if resp := do("GET", "/api/status?token=bad", "", nil); resp.StatusCode != 401 {
		t.Fatalf("login with a wrong token: %d", resp.StatusCode)
	}
}

// An HTTP job's io sees a directory of its own: not the head's working
// directory, and not what another job wrote.
func TestJobsHaveTheirOwnFiles(t *testing.T) {
	api := startAPI(t, Options{})
	// This package's directory, the head's working directory here, has
	// guard.go; a job must not see it.
	if _, logs := runJob(t, api, `pipeline main() { print(io.exists("guard.go")) }`); logs != "false\n" {
		t.Fatalf("a job sees the head's directory: %q", logs)
	}
	if _, logs := runJob(t, api, `pipeline main() { io.write_text("secret.txt", "mine"); print(io.exists("secret.txt")) }`); logs != "true\n" {
		t.Fatalf("a job cannot write its own files: %q", logs)
	}
	if _, logs := runJob(t, api, `pipeline main() { print(io.exists("secret.txt")) }`); logs != "false\n" {
		t.Fatalf("a job sees another job's file: %q", logs)
	}
}

// A job that prints more than maxJobOutput keeps the first
// maxJobOutput bytes and a marker in its log, not everything it printed.
func TestJobOutputCapped(t *testing.T) {
	api := startAPI(t, Options{})
	_, logs := runJob(t, api, `pipeline main() { let line = "x" * 1023; for i in range(3000) { print(line) } }`)
	if len(logs) > maxJobOutput+200 || !strings.Contains(logs, "[output truncated: 2023424 more bytes were printed after the first 1048576]") {
		t.Fatalf("output of %d bytes ends %q", len(logs), logs[max(0, len(logs)-120):])
	}
}

// startAPI starts a head of one CPU and its API with opts; both stop at
// the end of the test.
func startAPI(t *testing.T, opts Options) *Server {
	t.Helper()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Node: nodeagent.Config{CPUs: 1, NodeID: "head", Token: opts.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	opts.NodeID = "head"
	opts.Store = head.Store
	api, err := Serve("127.0.0.1:0", head.Cluster.Address(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return api
}
