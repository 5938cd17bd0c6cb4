package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// metricsBody stands for a process's metrics handler.
var metricsBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	io.WriteString(w, "rayflow_up 1\n")
})

func getWith(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// GET /metrics on the API and on a node's metrics server is behind the
// token; the metrics server serves nothing else, and an API without
// metrics answers 404.
func TestMetricsRoutes(t *testing.T) {
	const token = "secret-token"
	api, err := Serve("127.0.0.1:0", "127.0.0.1:9", Options{Token: []byte(token), Metrics: metricsBody})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	node, err := ServeMetrics("127.0.0.1:0", Options{Token: []byte(token), Metrics: metricsBody})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	bare, err := Serve("127.0.0.1:0", "127.0.0.1:9", Options{Token: []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	for _, addr := range []string{api.Addr(), node.Addr()} {
		url := "http://" + addr + "/metrics"
		if code, _ := getWith(t, url, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", url, code)
		}
		if code, body := getWith(t, url, token); code != http.StatusOK || !strings.Contains(body, "rayflow_up 1") {
			t.Errorf("GET %s: %d %q", url, code, body)
		}
	}
	if code, _ := getWith(t, "http://"+node.Addr()+"/api/status", token); code != http.StatusNotFound {
		t.Errorf("the metrics server answered /api/status with %d, want 404", code)
	}
	if code, _ := getWith(t, "http://"+bare.Addr()+"/metrics", token); code != http.StatusNotFound {
		t.Errorf("an API without metrics answered /metrics with %d, want 404", code)
	}
}
