package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent/head"
)

// The state API checks its questions before it asks the head: a bad
// state or limit is 400 naming what is allowed, a timeline needs a job,
// an unknown path is 404, a write is 405, and all of it wants the token.
// The jobs list comes from the Server's own table.
func TestStateRoutesCheckTheirQuestions(t *testing.T) {
	const token = "secret-token"
	api, err := Serve("127.0.0.1:0", "127.0.0.1:9", Options{Token: []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	base := "http://" + api.Addr()
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/api/v0/tasks?state=SLEEPING", http.StatusBadRequest, "PENDING, RUNNING, FINISHED, FAILED, CANCELLED"},
		{"/api/v0/actors?state=RUNNING", http.StatusBadRequest, "ALIVE, RESTARTING, DEAD"},
		{"/api/v0/tasks?limit=0", http.StatusBadRequest, "from 1 to 10000"},
		{"/api/v0/tasks?limit=10001", http.StatusBadRequest, "from 1 to 10000"},
		{"/api/v0/timeline", http.StatusBadRequest, "is required: the job"},
		{"/api/v0/nothing", http.StatusNotFound, "/api/v0/tasks"},
		{"/api/v0/jobs", http.StatusOK, `{"result":[]}`},
	}
	for _, c := range cases {
		if code, body := getWith(t, base+c.path, token); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", c.path, code, body, c.code, c.want)
		}
		if code, _ := getWith(t, base+c.path, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", c.path, code)
		}
	}
	req, _ := http.NewRequest("POST", base+"/api/v0/tasks", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/v0/tasks: %d, want 405", resp.StatusCode)
	}
}

// A node's row gives its heartbeat's age and whether it is a head.
func TestStateNodesOf(t *testing.T) {
	now := time.Now()
	st := &head.Status{Nodes: []head.NodeStatus{{ID: "h", State: "alive", IsHead: true,
		LastHeartbeat: now.Add(-1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)}}}
	got := stateNodesOf(st, now)
	if len(got) != 1 || got[0].State != "ALIVE" || !got[0].IsHead || got[0].HeartbeatAgeS < 1.4 || got[0].HeartbeatAgeS > 1.6 {
		t.Fatalf("got %+v", got)
	}
}
