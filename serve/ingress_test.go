package serve

import (
	"fmt"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/valyala/fasthttp"
)

// A node's ingress (RunHostWith, Node, on a port of its own) serves the
// recorded application too, and a rolling update drops no request there
// though it reads the records far less often than the head retires old
// versions: the head stops version 1's replicas only once the node's
// ingress reports that it routes version 2 (run with -race: two hosts,
// their retirements and the servers' goroutines).
func TestRollingUpdateWaitsForEveryIngress(t *testing.T) {
	c := recordingCluster(t, 4)
	ports, err := testutil.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	headPort, nodePort := ports, ports+1
	deploy := func(version int, answer string) {
		t.Helper()
		publish(t, c, `
@serve(route="/v", replicas=2)
actor V() {
    method get() { return "`+answer+`" }
}`, Options{Name: "i", Version: version}, headPort)
	}
	deploy(1, "one")
	// The node's ingress reads the records every 3 s: the head, left
	// alone, would stop version 1 a second after it serves version 2.
	defer runHosts(t,
		ingress{c, HostOptions{ID: "head"}, &testutil.Buffer{}},
		ingress{c, HostOptions{ID: "n1", Node: true, Port: nodePort, Poll: 3 * time.Second}, &testutil.Buffer{}})()

	client := &fasthttp.Client{}
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d/v/get", nodePort)
	ask := func(url string) (int, string, error) {
		status, body, err := client.Post(nil, url, nil)
		return status, string(body), err
	}
	testutil.Eventually(t, 10*time.Second, "version 1 served at the node's ingress", func() bool {
		status, body, err := ask(nodeURL)
		return err == nil && status == 200 && body == `"one"`
	})
	load := startLoad(4, func() error { return answered200(ask(nodeURL)) })
	deploy(2, "two")
	testutil.Eventually(t, 15*time.Second, "version 2 served at the node's ingress", func() bool {
		_, body, _ := ask(nodeURL)
		return body == `"two"`
	})
	if failures := load.stop(); len(failures) > 0 {
		t.Fatalf("%d requests failed at the node's ingress across the update; the first: %s", len(failures), failures[0])
	}
	th := c.NewThread("check")
	testutil.Eventually(t, 15*time.Second, "version 1's replicas stopped", func() bool {
		_, err1 := c.LookupActor(th, Namespace, ReplicaName("i", 1, "/v", 1))
		_, err2 := c.LookupActor(th, Namespace, ReplicaName("i", 1, "/v", 2))
		_, err3 := c.LookupActor(th, Namespace, ReplicaName("i", 2, "/v", 1))
		return err1 != nil && err2 != nil && err3 == nil
	})
	if recs, err := Records(c); err != nil || len(recs) != 1 {
		t.Fatalf("the ingresses' reports are listed as applications: %v %v", recs, err)
	}
}
