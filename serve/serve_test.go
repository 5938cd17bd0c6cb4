package serve

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serveInMemory deploys src on an embedded cluster and serves it on an
// in-memory listener; it returns a client of it.
func serveInMemory(t *testing.T, src string) (*App, *fasthttp.Client) {
	t.Helper()
	prog, err := rayflow.Compile("app.rayflow", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	log := &testutil.Buffer{}
	app, err := Deploy(c, prog, Options{Name: "t", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	srv := NewMux(app).Server()
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Shutdown()
		ln.Close()
		<-served
		app.Close()
		c.Shutdown("test over")
	})
	return app, &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 64}
}

func postTo(t *testing.T, c *fasthttp.Client, path, body string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://app" + path)
	req.Header.SetMethod("POST")
	req.SetBodyString(body)
	if err := c.DoTimeout(req, resp, 30*time.Second); err != nil {
		t.Errorf("POST %s: %v", path, err)
		return 0, ""
	}
	return resp.StatusCode(), string(resp.Body())
}

// Concurrent requests to a batched method and to a plain one of two
// replicas are all answered right; the batched one sees batches of more
// than one (run with -race: the mux, the batchers and the replicas'
// counters are shared by the server's goroutines).
func TestConcurrentRequests(t *testing.T) {
	_, client := serveInMemory(t, `
@serve(route="/b", max_batch=8, batch_wait_ms=20)
actor B() {
    method size(xs) { return [[x, len(xs)] for x in xs] }
}

@serve(route="/p", replicas=2)
actor P() {
    method inc(x) { return x + 1 }
}
`)
	var wg sync.WaitGroup
	var mu sync.Mutex
	biggest := 0
	for i := range 32 {
		wg.Go(func() {
			status, body := postTo(t, client, "/p/inc", fmt.Sprintf("[%d]", i))
			if status != 200 || body != fmt.Sprint(i+1) {
				t.Errorf("/p/inc %d: got %d %s", i, status, body)
			}
			status, body = postTo(t, client, "/b/size", fmt.Sprintf("[%d]", i))
			var x, n int
			if _, err := fmt.Sscanf(body, "[%d,%d]", &x, &n); status != 200 || err != nil || x != i {
				t.Errorf("/b/size %d: got %d %s", i, status, body)
			}
			mu.Lock()
			biggest = max(biggest, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	if biggest < 2 {
		t.Errorf("32 concurrent requests were never batched together")
	}
	if status, body := postTo(t, client, "/p/nope", "[]"); status != 404 || !strings.Contains(body, "POST /b/size, POST /p/inc") {
		t.Errorf("unknown method: got %d %s", status, body)
	}
}

// ReplicaName holds the application, the route, the version and the
// index.
func TestReplicaName(t *testing.T) {
	if got := ReplicaName("app", 2, "/models/policy", 3); got != "app-models_policy-v2-3" {
		t.Errorf("got %q", got)
	}
}

// A replica stopped from outside (rayflow actor stop) is made again:
// the request that finds it stopped is retried on the other replica, and
// later requests are answered by both.
func TestStoppedReplicaIsMadeAgain(t *testing.T) {
	app, client := serveInMemory(t, `
@serve(route="/p", replicas=2)
actor P() {
    method inc(x) { return x + 1 }
}
`)
	d := app.byRoute["/p"]
	for _, r := range d.replicas {
		th := app.thread()
		reg, _ := th.Registry("test")
		old := r.actor
		if err := reg.KillActor(th, old.AsActor()); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if status, body := postTo(t, client, "/p/inc", fmt.Sprintf("[%d]", i)); status != 200 || body != fmt.Sprint(i+1) {
				t.Fatalf("after a replica was stopped: got %d %s", status, body)
			}
		}
		testutil.Eventually(t, 10*time.Second, "the stopped replica made again", func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return !r.actor.IsNone() && r.actor.AsActor() != old.AsActor()
		})
	}
}

// A head's host (RunHost, here on an embedded cluster whose GCS keeps the
// records) serves a published application, swaps in its next version
// under concurrent requests without failing one, stops the old version's
// replicas, and closes the port once the application is deleted (run
// with -race: the host's goroutine, the retirement and the server's
// goroutines share the mux and the applications).
func TestHostServesRedeploysAndDeletes(t *testing.T) {
	c := recordingCluster(t, 2)
	port, err := testutil.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(version int, answer string) {
		t.Helper()
		publish(t, c, `
@serve(route="/v", replicas=2)
actor V() {
    method get() { return "`+answer+`" }
}`, Options{Name: "h", Version: version}, port) // the host serves it, from its record
	}
	deploy(1, "one")
	defer runHosts(t, ingress{c: c, log: &testutil.Buffer{}})() // RunHost, the head's
	client := &fasthttp.Client{}
	url := fmt.Sprintf("http://127.0.0.1:%d/v/get", port)
	ask := func() (int, string, error) {
		status, body, err := client.Post(nil, url, nil)
		return status, string(body), err
	}
	testutil.Eventually(t, 10*time.Second, "version 1 served", func() bool {
		status, body, err := ask()
		return err == nil && status == 200 && body == `"one"`
	})
	load := startLoad(4, func() error { return answered200(ask()) })
	deploy(2, "two")
	testutil.Eventually(t, 10*time.Second, "version 2 served", func() bool {
		_, body, _ := ask()
		return body == `"two"`
	})
	if failures := load.stop(); len(failures) > 0 {
		t.Fatalf("%d requests failed across the redeploy; the first: %s", len(failures), failures[0])
	}
	th := c.NewThread("check")
	testutil.Eventually(t, 10*time.Second, "version 1's replicas stopped", func() bool {
		_, err1 := c.LookupActor(th, Namespace, ReplicaName("h", 1, "/v", 1))
		_, err2 := c.LookupActor(th, Namespace, ReplicaName("h", 2, "/v", 1))
		return err1 != nil && err2 == nil
	})
	if found, err := Delete(c, "h"); !found || err != nil {
		t.Fatalf("Delete: %v %v", found, err)
	}
	testutil.Eventually(t, 10*time.Second, "the port closed", func() bool {
		_, _, err := ask()
		return err != nil
	})
}

// A single replica stopped from outside: the request that finds it
// stopped waits for it to be made again, and is answered.
func TestSingleReplicaStoppedIsRetriedOnItsReplacement(t *testing.T) {
	app, client := serveInMemory(t, `
@serve(route="/p")
actor P() {
    method inc(x) { return x + 1 }
}
`)
	r := app.byRoute["/p"].replicas[0]
	old := r.actor
	th := app.thread()
	reg, _ := th.Registry("test")
	if err := reg.KillActor(th, old.AsActor()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if status, body := postTo(t, client, "/p/inc", fmt.Sprintf("[%d]", i)); status != 200 || body != fmt.Sprint(i+1) {
			t.Fatalf("after the only replica was stopped: got %d %s", status, body)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actor.IsNone() || r.actor.AsActor() == old.AsActor() {
		t.Fatalf("the stopped replica was not made again")
	}
}

// Two deploys of an application that read the same version: the first
// record written wins, the second fails with ErrConcurrentDeploy and
// leaves the first's record in place; a deploy after it (the next
// version) succeeds.
func TestConcurrentDeploysDoNotOverwrite(t *testing.T) {
	c := recordingCluster(t, 2)
	prog, err := rayflow.Compile("app.rayflow", `
@serve(route="/v")
actor V() {
    method get() { return 1 }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Deploy(c, prog, Options{Name: "cd"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	first := app.Record("127.0.0.1", 31001)
	if err := Publish(c, first); err != nil {
		t.Fatal(err)
	}
	// Two deploys of version 2 (records as their deploys would make them).
	a, b := first, first
	a.Version, a.HTTPPort = 2, 31002
	b.Version, b.HTTPPort = 2, 31003
	if err := Publish(c, a); err != nil {
		t.Fatal(err)
	}
	if err := Publish(c, b); !errors.Is(err, ErrConcurrentDeploy) {
		t.Fatalf("the second deploy of version 2: %v, want ErrConcurrentDeploy", err)
	}
	recs, err := Records(c)
	if err != nil || recs["cd"].Version != 2 || recs["cd"].HTTPPort != 31002 {
		t.Fatalf("records after the conflict: %+v %v", recs, err)
	}
	b.Version = 3
	if err := Publish(c, b); err != nil {
		t.Fatalf("the next version: %v", err)
	}
	if found, err := Delete(c, "cd"); !found || err != nil {
		t.Fatalf("Delete: %v %v", found, err)
	}
	if recs, err := Records(c); err != nil || len(recs) != 0 {
		t.Fatalf("records after delete: %+v %v", recs, err)
	}
}
