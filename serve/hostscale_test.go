package serve

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/internal/testutil"
)

// On a cluster only a head's ingress runs an application's scalers: one
// head scales it on the load of every ingress (TestOneHeadScales), and a
// node's ingress follows the replica counts it records
// (TestNodeIngressLoadScales).
func TestOnlyHeadsAutoscale(t *testing.T) {
	c := recordingCluster(t, 2)
	prog, err := rayflow.Compile("app.rayflow", `
@serve(route="/s", replicas=1, max_replicas=3)
actor S() {
    method get() { return 1 }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Deploy(c, prog, Options{Name: "sc"})
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	rec := app.Record("127.0.0.1", 1)
	for _, node := range []bool{true, false} {
		served, err := attach(c, rec, &testutil.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		h := &host{opts: HostOptions{Node: node}}
		h.startScaling(served)
		if scales := served.byRoute["/s"].scaler != nil; scales == node {
			t.Errorf("an ingress with Node %v scales: %v", node, scales)
		}
		served.Close()
	}
}

// A head that begins to serve an application, on a port it opens for
// it, does not scale it before reportEvery has passed: by then every
// other head serving it has reported so, and two heads never scale at
// once. Then it scales it.
func TestHeadWaitsBeforeScaling(t *testing.T) {
	c := recordingCluster(t, 2)
	httpPort, err := testutil.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	rec := publish(t, c, `
@serve(route="/s", replicas=1, max_replicas=3)
actor S() {
    method get() { return 1 }
}`, Options{Name: "w"}, httpPort)
	h := newHost(c, &testutil.Buffer{}, HostOptions{ID: "head"})
	defer h.closeAll()
	h.mount(rec)
	m := h.mounted["w"]
	if m == nil || !m.served {
		t.Fatalf("application not served on port %d: %+v", httpPort, m)
	}
	h.steerScaling(rows{apps: map[string]Record{"w": rec}})
	if !m.app.follows.Load() {
		t.Errorf("the head scales the application at once, %s after it began to serve it (since %s), want after %s",
			time.Since(m.since), m.since, reportEvery)
	}
	m.since = m.since.Add(-reportEvery) // as if it had served that long
	h.steerScaling(rows{apps: map[string]Record{"w": rec}})
	if m.app.follows.Load() {
		t.Errorf("the head, alone and serving the application for %s, does not scale it", reportEvery)
	}
}
