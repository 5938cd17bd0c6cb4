package serve

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
)

// A served application on a head and a node keeps nothing per request
// once it is answered: thousands of requests later, the head keeps no
// call for a replay (its replicas' logs hold at most the calls in
// flight, even behind a call never answered; no order place, no kept
// call) and the GCS took no row for
// them (no lineage record, no actor-order outcome), though the replicas
// declare @restarts and lineage is on. Ray Serve's way: a replica lost
// is made again fresh from its constructor (spec/serving.md).
func TestServedRequestsKeepNothingOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a head and a node")
	}
	head, _ := headAndNode(t, 2)
	rows, err := head.Store.Subscribe(gcs.TableTasks, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	prog, err := rayflow.Compile("app.rayflow", `
@serve(route="/e", replicas=2)
@restarts(3)
@resources(cpu=1)
@concurrency(4)
actor E() {
    let n = 0
    method echo(x) { n += 1; return x }
    method hang() { time.sleep(20) }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Deploy(head.Cluster, prog, Options{Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	const requests, clients = 2000, 8
	d := app.byRoute["/e"]
	// A call on each replica that is not answered while the requests
	// run: what a log keeps behind it is what is in flight, no more.
	for _, r := range d.replicas {
		actor, err := app.handle(d, r)
		if err != nil {
			t.Fatal(err)
		}
		hang, err := exec.BindMethod(actor, "hang")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hang.AsCallable().Call(app.thread(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	callFromClients(t, app, "echo", requests, clients, func(i int64) int64 { return i })

	logged, places, kept := head.Cluster.KeptCalls()
	if inFlight := clients + len(d.replicas); logged > inFlight || places > 0 || kept > 0 {
		t.Errorf("after %d requests the head keeps %d logged calls, %d order places, %d kept calls; want at most the %d in flight and none",
			requests, logged, places, kept, inFlight)
	}

	// A call of a plain actor on the same node after them: once its
	// lineage row is in the GCS, the node's stash has written what it
	// had of the requests before it.
	probe, err := rayflow.Compile("probe.rayflow", `
actor Probe() { method ping() { return 1 } }
pipeline main() { let p = Probe(); get(p.ping()) }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.Run(context.Background(), rayflow.RunOptions{Cluster: head.Cluster}); err != nil {
		t.Fatal(err)
	}
	served := 0
	deadline := time.After(30 * time.Second)
	for probed := false; !probed; {
		select {
		case ev := <-rows.C():
			rec, ok := ev.Value.(gcs.TaskRecord)
			switch {
			case ok && strings.HasSuffix(rec.Function, "ping"):
				probed = true
			case ev.Op == gcs.OpPut && (strings.HasPrefix(ev.Key, app.jobID) || strings.HasPrefix(ev.Key, "detached-")):
				served++
			}
		case <-deadline:
			t.Fatalf("the probe's lineage row never reached the GCS (%d rows of the application seen)", served)
		}
	}
	// The replicas' creation rows only.
	if served > 2*d.spec.Replicas {
		t.Errorf("the GCS took %d rows of the application's %d requests, want only its replicas' creations", served, requests)
	}
}
