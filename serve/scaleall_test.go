package serve

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/valyala/fasthttp"
)

// scaledProgram is an autoscaled deployment whose replicas count the
// requests they answered. With @concurrency(2) a node's ingress sends a
// request to other replicas than its own once its own have 4
// outstanding (spec/serving.md).
const scaledProgram = `
@serve(route="/s", replicas=1, min_replicas=1, max_replicas=3)
@concurrency(2)
actor S() {
    let n = 0
    method slow(x) { n += 1; time.sleep(x); return n }
    method calls() { return n }
}`

// postJSON posts body to url and returns the answer's status.
func postJSON(client *fasthttp.Client, url, body string) (int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBodyString(body)
	err := client.Do(req, resp)
	return resp.StatusCode(), err
}

// loadOn sends requests that take 200 ms from clients goroutines to
// each url until it is stopped.
func loadOn(clients int, urls ...string) *load {
	client := &fasthttp.Client{}
	var sends []func() error
	for _, url := range urls {
		sends = append(sends, func() error {
			status, err := postJSON(client, url, "[0.2]")
			return answered200(status, "", err)
		})
	}
	return startLoad(clients, sends...)
}

// Load that comes only through a node's ingress scales the application
// (the head sums the load every ingress reports), the node's ingress
// routes to the replicas the head added (it follows the record), and
// the application scales back down once the load stops: a head and a
// node joined over real sockets, the node holding the replicas.
func TestNodeIngressLoadScales(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a head and a node")
	}
	head, node := headAndNode(t, 4)
	c := head.Cluster
	ports, err := testutil.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	headPort, nodePort := ports, ports+1
	rec := publish(t, c, scaledProgram, Options{Name: "ns"}, headPort)
	headLog, nodeLog := &testutil.Buffer{}, &testutil.Buffer{}
	defer runHosts(t,
		ingress{c, HostOptions{ID: "head", Poll: 100 * time.Millisecond}, headLog},
		ingress{node, HostOptions{ID: "w1", Node: true, Port: nodePort, Poll: 100 * time.Millisecond}, nodeLog})()
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d/s/slow", nodePort)
	testutil.Eventually(t, 10*time.Second, "the node's ingress serving", func() bool {
		status, err := postJSON(&fasthttp.Client{}, nodeURL, "[0]")
		return err == nil && status == 200
	})

	load := loadOn(8, nodeURL)
	testutil.Eventually(t, 10*time.Second, "the head scaling up on the node's load", func() bool {
		return strings.Contains(headLog.String(), "scaled up to 3 replicas")
	})
	// The added replicas answer requests, which only the node's ingress
	// sends.
	probe, err := attach(c, rec, &testutil.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	d := probe.byRoute["/s"]
	defer func() {
		if t.Failed() {
			recs, err := Records(c)
			t.Logf("record's scaled counts: %v %v", recs["ns"].Scaled, err)
			for i := 1; i <= 3; i++ {
				_, v, err := probe.callReplica(d, &replica{name: ReplicaName("ns", 1, "/s", i)}, "calls", nil, nil)
				t.Logf("replica %d: %v calls %v", i, v, err)
			}
		}
	}()
	testutil.Eventually(t, 10*time.Second, "the node's ingress routing to the added replicas", func() bool {
		for i := 2; i <= 3; i++ {
			_, v, err := probe.callReplica(d, &replica{name: ReplicaName("ns", 1, "/s", i)}, "calls", nil, nil)
			if err != nil || v.Kind() != exec.IntKind || v.AsInt() == 0 {
				return false
			}
		}
		return true
	})
	if failed := load.stop(); len(failed) > 0 {
		t.Errorf("%d requests failed; the first: %s", len(failed), failed[0])
	}
	testutil.Eventually(t, 15*time.Second, "the head scaling down once the load stopped", func() bool {
		return strings.Contains(headLog.String(), "scaled down to 1 replicas")
	})
	if strings.Contains(nodeLog.String(), "scaled") {
		t.Errorf("the node's ingress scaled:\n%s", nodeLog.String())
	}
}

// Of two heads that both see load, exactly one scales the application,
// on the load of both.
func TestOneHeadScales(t *testing.T) {
	c := recordingCluster(t, 4)
	ports, err := testutil.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, c, scaledProgram, Options{Name: "two"}, ports)
	logs := map[string]*testutil.Buffer{"h1": {}, "h2": {}}
	defer runHosts(t,
		ingress{c, HostOptions{ID: "h1", Port: ports, Poll: 100 * time.Millisecond}, logs["h1"]},
		ingress{c, HostOptions{ID: "h2", Port: ports + 1, Poll: 100 * time.Millisecond}, logs["h2"]})()
	testutil.Eventually(t, 10*time.Second, "both heads reported serving", func() bool {
		by, err := ServedBy(c)
		return err == nil && len(by["two"]) == 2
	})
	// Three clients per head: neither alone calls for more than 2
	// replicas, both together for 3.
	load := loadOn(3, fmt.Sprintf("http://127.0.0.1:%d/s/slow", ports), fmt.Sprintf("http://127.0.0.1:%d/s/slow", ports+1))
	testutil.Eventually(t, 10*time.Second, "a head scaling up to 3", func() bool {
		return strings.Contains(logs["h1"].String()+logs["h2"].String(), "scaled up to 3 replicas")
	})
	if failed := load.stop(); len(failed) > 0 {
		t.Errorf("%d requests failed; the first: %s", len(failed), failed[0])
	}
	if !strings.Contains(logs["h1"].String(), "scaled up") || strings.Contains(logs["h2"].String(), "scaled") {
		t.Errorf("want h1 (the least ID) alone to scale")
	}
}
