package serve

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// recordingCluster starts an embedded cluster of cpus CPUs whose GCS
// keeps records (it has a data directory); it is shut down when t ends.
func recordingCluster(t *testing.T, cpus int) *nodeagent.Cluster {
	t.Helper()
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: cpus, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown("test over") })
	return c
}

// publish compiles src, deploys it on c as opts say, closes the
// deployment (the hosts serve it from its record) and publishes its
// record at port.
func publish(t *testing.T, c *nodeagent.Cluster, src string, opts Options, port int) Record {
	t.Helper()
	prog, err := rayflow.Compile("app.rayflow", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Deploy(c, prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	rec := app.Record("127.0.0.1", port)
	if err := Publish(c, rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// ingress is one host a test runs: on c, as opts say (no ID: as RunHost
// runs the head's), writing log.
type ingress struct {
	c    *nodeagent.Cluster
	opts HostOptions
	log  *testutil.Buffer
}

// runHosts runs each ingress until the returned stop is called; stop
// waits for them to end and, if t failed, logs what each wrote.
func runHosts(t *testing.T, ingresses ...ingress) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var hosts sync.WaitGroup
	for _, in := range ingresses {
		hosts.Go(func() {
			if in.opts.ID == "" {
				RunHost(ctx, in.c, in.log)
				return
			}
			RunHostWith(ctx, in.c, in.log, in.opts)
		})
	}
	return func() {
		cancel()
		hosts.Wait()
		if t.Failed() {
			for _, in := range ingresses {
				t.Logf("host %q's log:\n%s", in.opts.ID, in.log.String())
			}
		}
	}
}

// load sends requests from goroutines, each over and over, until it is
// stopped; a send that returns an error is a failed request.
type load struct {
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	failures []string
}

// startLoad runs clients goroutines per send.
func startLoad(clients int, sends ...func() error) *load {
	l := &load{done: make(chan struct{})}
	for _, send := range sends {
		for range clients {
			l.wg.Go(func() {
				for {
					select {
					case <-l.done:
						return
					default:
					}
					if err := send(); err != nil {
						l.mu.Lock()
						l.failures = append(l.failures, err.Error())
						l.mu.Unlock()
					}
				}
			})
		}
	}
	return l
}

// failed returns how many requests failed so far.
func (l *load) failed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.failures)
}

// stop ends the load, waits for its requests, and returns the failures.
func (l *load) stop() []string {
	close(l.done)
	l.wg.Wait()
	return l.failures
}

// answered200 is a send's error for an answer that is not a 200.
func answered200(status int, body string, err error) error {
	if err != nil || status != 200 {
		return fmt.Errorf("%d %s %v", status, body, err)
	}
	return nil
}

// headAndNode starts a head with no CPUs and joins it a node w1 of cpus
// CPUs, over real sockets; both are stopped when t ends.
func headAndNode(t testing.TB, cpus int) (*nodeagent.Head, *nodeagent.Cluster) {
	t.Helper()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Node: nodeagent.Config{CPUs: -1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	node, err := nodeagent.JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", nodeagent.Config{CPUs: cpus, NodeID: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Shutdown("test over") })
	return head, node
}

// incApp is an application of two replicas on the node of headAndNode,
// each taking 8 calls at once: the served method inc(x) = x + 1.
const incApp = `
@serve(route="/e", replicas=2, min_replicas=2)
@resources(cpu=1)
@concurrency(8)
actor E() {
    method inc(x) { return x + 1 }
}`

// deployOn compiles src and deploys it on c as name; the application is
// closed when t ends.
func deployOn(t testing.TB, c *nodeagent.Cluster, name, src string) *App {
	t.Helper()
	prog, err := rayflow.Compile("app.rayflow", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Deploy(c, prog, Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	return app
}

// callFromClients calls method on app's route /e requests times from
// clients goroutines at once, request i with the argument i, and fails t
// unless each answers want(i).
func callFromClients(t *testing.T, app *App, method string, requests, clients int, want func(i int64) int64) {
	t.Helper()
	d := app.byRoute["/e"]
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := int64(c); i < int64(requests); i += int64(clients) {
				v, err := app.call(d, method, []exec.Value{exec.Int(i)}, nil)
				if err == nil && v.AsInt() != want(i) {
					err = exec.Errorf(exec.KindValue, "%s(%d) answered %s", method, i, v)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
