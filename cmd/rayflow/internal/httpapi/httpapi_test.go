package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent"
)

func TestStatusAndJobs(t *testing.T) {
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Node: nodeagent.Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	api, err := Serve("127.0.0.1:0", head.Cluster.Address(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	base := "http://" + api.Addr()

	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"head"`) {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}

	for _, c := range []struct {
		body       string
		code       int
		want, out  string
		wantsError bool
	}{
		{`{"source": "task sq(x) { return x * x }\npipeline main(n: int = 3) { print(\"hi\")\n return sum(get([sq(i) for i in range(n)])) }", "params": {"n": 10}}`, 200, "285", "hi\n", false},
		{`{"source": "pipeline main() { fail(\"no\") }"}`, 200, "", "", true},
		{`{"source": "pipeline main( {"}`, 422, "", "", true},
		{`{"source": "pipeline main(n: int) { }", "params": {"n": "x"}}`, 400, "", "", true},
		{`not json`, 400, "", "", true},
		{`{"source": "task sq(x) { return x * x }\npipeline main() { let t = 0\n for i in range(5) { t += get(sq(i)) }\n return t }", "opt": "pipeline,batch"}`, 200, "30", "", false},
		{`{"source": "pipeline main() { }", "opt": "batching"}`, 400, "", "", true},
	} {
		resp, err := http.Post(base+"/api/jobs", "application/json", bytes.NewBufferString(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var res JobResult
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != c.code || res.Result != c.want || res.Output != c.out || (res.Error != "") != c.wantsError {
			t.Errorf("POST %s: %d %+v", c.body, resp.StatusCode, res)
		}
	}
}
