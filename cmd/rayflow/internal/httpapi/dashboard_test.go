package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The dashboard's files are served from the binary with their content
// types and a policy that confines them to this server; every one needs
// the login, and a browser opening / without it gets a login page (401,
// HTML) where every other route still gets the JSON 401.
func TestDashboardServedBehindLogin(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	base := "http://" + api.Addr()
	get := func(method, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := (&http.Transport{}).RoundTrip(req) // no redirects followed
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	bearer := map[string]string{"Authorization": "Bearer tok"}

	for _, c := range []struct{ path, contentType, file string }{
		{"/", "text/html; charset=utf-8", "dashboard/index.html"},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", "dashboard/app.js"},
		{"/dashboard/style.css", "text/css; charset=utf-8", "dashboard/style.css"},
	} {
		resp, body := get("GET", c.path, bearer)
		want, _ := dashboardFiles.ReadFile(c.file)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.contentType || body != string(want) {
			t.Errorf("GET %s: %d, Content-Type %q, %d bytes (want 200, %q, the %d bytes of %s)",
				c.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), c.contentType, len(want), c.file)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", c.path)
		}
		if resp, _ := get("GET", c.path, nil); resp.StatusCode != 401 {
			t.Errorf("GET %s without the token: %d, want 401", c.path, resp.StatusCode)
		}
	}
	_, index := get("GET", "/", bearer)
	for _, ref := range []string{`src="/dashboard/app.js"`, `href="/dashboard/style.css"`} {
		if !strings.Contains(index, ref) {
			t.Errorf("index.html does not load %s", ref)
		}
	}

	// Without the login: a login page for a browser opening /, JSON for
	// the rest (the assets too: they are served to the logged in only).
	resp, body := get("GET", "/", nil)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `name="token"`) || !strings.Contains(body, `action="/"`) || strings.Contains(body, "{{WHY}}") {
		t.Errorf("GET / without the token: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("the login page's Content-Security-Policy %q allows scripts", csp)
	}
	if resp, body := get("GET", "/?token=wrong", nil); resp.StatusCode != 401 || !strings.Contains(body, "not this cluster's") || strings.Contains(body, "wrong") {
		t.Errorf("GET /?token=wrong: %d\n%s", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/dashboard/app.js"}, {"GET", "/api/status"}, {"POST", "/"}, {"GET", "/nope"}} {
		resp, body := get(c.method, c.path, nil)
		if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"error"`) {
			t.Errorf("%s %s without the token: %d %q %s, want the JSON 401", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}

	// The login: /?token= sets the cookie and goes to /, which the
	// cookie opens.
	resp, _ = get("GET", "/?token=tok", nil)
	if loc, err := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/" || loc.RawQuery != "" {
		t.Fatalf("GET /?token=tok: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]
	if resp, body := get("GET", "/", map[string]string{"Cookie": cookie}); resp.StatusCode != 200 || !strings.Contains(body, "rayflow dashboard") {
		t.Errorf("GET / with the cookie: %d", resp.StatusCode)
	}
	if resp, _ := get("POST", "/", bearer); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

// The page shows the cluster's and the jobs' own text (logs, names,
// messages): its script puts it in with textContent, never as HTML.
func TestDashboardScriptParsesNoHTML(t *testing.T) {
	src, err := dashboardFiles.ReadFile("dashboard/app.js")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|createContextualFragment|DOMParser`).Find(src); m != nil {
		t.Errorf("app.js uses %s: data must go in with textContent", m)
	}
}
