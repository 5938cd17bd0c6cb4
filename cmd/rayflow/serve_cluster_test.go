package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/serve"
)

// servedStatus is `rayflow serve status --json`.
type servedStatus struct {
	Applications []struct {
		Name     string          `json:"name"`
		URL      string          `json:"url"`
		ServedBy []serve.Ingress `json:"served_by"`
		Routes   []struct {
			Route    string                `json:"route"`
			Replicas []serve.ReplicaStatus `json:"replicas"`
		} `json:"routes"`
	} `json:"applications"`
}

func servedStatusOf(t *testing.T, bin, head string) servedStatus {
	t.Helper()
	out, err := exec.Command(bin, "serve", "status", "--json", "--address", head).Output()
	if err != nil {
		t.Fatalf("rayflow serve status: %v", err)
	}
	var st servedStatus
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("rayflow serve status --json printed %q: %v", out, err)
	}
	return st
}

// `rayflow serve FILE --address` deploys an application of two replicas
// (spread: one per worker, though one worker has room for both) and
// returns; the head
// serves it; `serve status` lists its replicas alive on the two nodes. A
// replica's node is SIGKILLed under a stream of requests: no request
// fails (each lost in flight is retried once, on the other replica),
// and the replica is made again on the node left. `serve delete` stops
// the application: the port closes and status lists nothing.
func TestServeClusterDeploySurvivesNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	prog := writeProgram(t, `
@serve(route="/echo", replicas=2)
@resources(cpu=1)
actor Echo(scale = 2) {
    method double(x) { return x * scale }
    method where() { return sys.node() }
}
`)
	port := freePort(t)
	out, err := exec.Command(fc.bin, "serve", prog, "--address", fc.head, "--http-port", fmt.Sprint(port), "--name", "echoapp", "scale=3").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "deployed application echoapp version 1") {
		t.Fatalf("rayflow serve --address: %v\n%s", err, out)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if a := post(t, "POST", url+"/echo/double", "[7]"); a.status != 200 || a.raw != "21" {
		t.Fatalf("the deployed application answered %d %s, want 21", a.status, a.raw)
	}
	st := servedStatusOf(t, fc.bin, fc.head)
	if len(st.Applications) != 1 || len(st.Applications[0].Routes) != 1 || len(st.Applications[0].Routes[0].Replicas) != 2 {
		t.Fatalf("serve status: %+v", st)
	}
	reps := st.Applications[0].Routes[0].Replicas
	if reps[0].State != "alive" || reps[1].State != "alive" || reps[0].Address == reps[1].Address {
		t.Fatalf("want two replicas alive on two nodes, got %+v", reps)
	}
	// The victim holds a replica and does not serve the port (the head
	// does, or the other worker).
	serving := map[string]bool{}
	for _, in := range st.Applications[0].ServedBy {
		serving[in.ID] = in.URL == url && in.State == serve.IngressServing
	}
	victim := ""
	for id, p := range fc.workers {
		if strings.Contains(p.ready, reps[0].Address) && !serving[id] {
			victim = id
		}
	}
	if victim == "" { // the worker of replica 1 serves the port
		reps[0], reps[1] = reps[1], reps[0]
		for id, p := range fc.workers {
			if strings.Contains(p.ready, reps[0].Address) {
				victim = id
			}
		}
	}
	if victim == "" {
		t.Fatalf("no worker is at %s", reps[0].Address)
	}

	var answered, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(url+"/echo/double", "application/json", strings.NewReader("[1]"))
				if err == nil && resp.StatusCode == 200 {
					answered.Add(1)
				} else {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprint(err, resp))
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	testutil.Eventually(t, 10*time.Second, "requests answered before the kill", func() bool { return answered.Load() >= 20 })
	fc.kill(t, victim)
	testutil.Eventually(t, 60*time.Second, "the lost replica made again on the node left", func() bool {
		reps := servedStatusOf(t, fc.bin, fc.head).Applications[0].Routes[0].Replicas
		return reps[0].State == "alive" && reps[0].Address == reps[1].Address
	})
	before := answered.Load()
	testutil.Eventually(t, 20*time.Second, "requests answered after the replacement", func() bool { return answered.Load() >= before+20 })
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed across the node's loss; the first: %v", n, n+answered.Load(), firstFailure.Load())
	}

	out, err = exec.Command(fc.bin, "serve", "delete", "echoapp", "--address", fc.head).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "deleted application echoapp") {
		t.Fatalf("rayflow serve delete: %v\n%s", err, out)
	}
	testutil.Eventually(t, 10*time.Second, "the port closed after serve delete", func() bool {
		_, err := client.Post(url+"/echo/double", "application/json", strings.NewReader("[1]"))
		return err != nil
	})
	if st := servedStatusOf(t, fc.bin, fc.head); len(st.Applications) != 0 {
		t.Fatalf("after serve delete, status lists %+v", st)
	}
}

// Deploying a changed FILE again under the same name rolls the
// application over to the new version under a stream of requests: no
// request fails, the answers turn to the new version's, and the head
// stops the old version's replicas once it is no longer served.
func TestServeClusterRollingUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	version := func(v string) string {
		return writeProgram(t, `
@serve(route="/m", replicas=2)
@resources(cpu=1)
actor Model() {
    method version() { return "`+v+`" }
}
`)
	}
	port := freePort(t)
	deploy := func(file, want string) {
		t.Helper()
		out, err := exec.Command(fc.bin, "serve", file, "--address", fc.head, "--http-port", fmt.Sprint(port), "--name", "roll").CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("rayflow serve --address: %v\n%s", err, out)
		}
	}
	// A node with no CPUs whose ingress serves the application too
	// (--serve-port): the head stops version 1 only once it routes 2.
	nodePort := freePort(t)
	fc.addWorker(t, "ingress", freePort(t), "--cpus", "0", "--serve-port", fmt.Sprint(nodePort))
	deploy(version("v1"), "deployed application roll version 1")
	headURL := fmt.Sprintf("http://127.0.0.1:%d/m/version", port)
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d/m/version", nodePort)
	testutil.Eventually(t, 10*time.Second, "the node's ingress serving", func() bool {
		resp, err := http.Post(nodeURL, "application/json", strings.NewReader("[]"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	var answers sync.Map // answer -> count (*atomic.Int64)
	var failed atomic.Int64
	var firstFailure atomic.Value
	count := func(a string) int64 {
		n, _ := answers.LoadOrStore(a, new(atomic.Int64))
		return n.(*atomic.Int64).Load()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 4 {
		url := []string{headURL, nodeURL}[i%2]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(url, "application/json", strings.NewReader("[]"))
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprint(err, resp))
				} else {
					body, _ := io.ReadAll(resp.Body)
					n, _ := answers.LoadOrStore(url+" "+string(body), new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	testutil.Eventually(t, 10*time.Second, "version 1 answering at the head and the node", func() bool {
		return count(headURL+` "v1"`) >= 20 && count(nodeURL+` "v1"`) >= 20
	})
	deploy(version("v2"), "deployed application roll version 2")
	testutil.Eventually(t, 20*time.Second, "version 2 answering at the head and the node", func() bool {
		return count(headURL+` "v2"`) >= 20 && count(nodeURL+` "v2"`) >= 20
	})
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d requests failed across the rolling update; the first: %v", n, firstFailure.Load())
	}
	testutil.Eventually(t, 30*time.Second, "the old version's replicas stopped", func() bool {
		out := runOnCluster(t, fc, `
pipeline main() {
    for name in ["roll-m-v1-1", "roll-m-v1-2", "roll-m-v2-1"] {
        try { actors.get(name, namespace="serve")
            print(name, "alive")
        } catch e { print(name, e.kind) }
    }
}`)
		return out == "roll-m-v1-1 key\nroll-m-v1-2 key\nroll-m-v2-1 alive\n"
	})
}

// A node that holds a replica of a deployed application serves it on
// the application's port (no flag needed), its own replica first; a node
// whose port is taken (the other worker, on this same machine) still
// runs and says so once; `serve status` says which processes serve the
// application. The head serves on a port of its own (--serve-port), so
// that the deployed port is free for the nodes.
func TestServeNodeIngress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, headServe := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHeadDeadAfter(t, bin, testDeadAfter, "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head", "--serve-port", fmt.Sprint(headServe))
	workers := map[string]*proc{}
	for _, id := range []string{"w1", "w2"} {
		workers[id] = startWorker(t, bin, head, id, freePort(t), "--cpus", "2")
	}
	prog := writeProgram(t, `
@serve(route="/n", replicas=2, min_replicas=2)
@resources(cpu=1)
actor N() {
    method where() { return sys.node() }
}
`)
	port := freePort(t)
	out, err := exec.Command(bin, "serve", prog, "--address", head, "--http-port", fmt.Sprint(port), "--name", "nodes").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "deployed application nodes version 1") {
		t.Fatalf("rayflow serve --address: %v\n%s", err, out)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	var server string // the worker that serves the deployed port
	testutil.Eventually(t, 10*time.Second, "status listing the head and one worker as serving", func() bool {
		st := servedStatusOf(t, bin, head)
		if len(st.Applications) != 1 {
			return false
		}
		var by []serve.Ingress
		for _, in := range st.Applications[0].ServedBy {
			if in.State == serve.IngressServing {
				by = append(by, in)
			}
		}
		if len(by) != 2 {
			return false
		}
		if by[0].ID != "head" || by[0].URL != fmt.Sprintf("http://127.0.0.1:%d", headServe) || by[1].URL != url {
			t.Fatalf("serve status: served by %+v", by)
		}
		server = by[1].ID
		return true
	})
	other := map[string]string{"w1": "w2", "w2": "w1"}[server]
	if other == "" {
		t.Fatalf("the deployed port is served by %q, no worker", server)
	}
	// serve status lists the other worker too, its port taken.
	testutil.Eventually(t, 10*time.Second, "status listing the other worker's port as taken", func() bool {
		for _, in := range servedStatusOf(t, bin, head).Applications[0].ServedBy {
			if in.ID == other && in.State == serve.IngressPortTaken && in.URL == url {
				return true
			}
		}
		return false
	})
	text, err := exec.Command(bin, "serve", "status", "--address", head).CombinedOutput()
	if want := "; port taken at " + other + " (" + url + ")"; err != nil || !strings.Contains(string(text), want) {
		t.Errorf("serve status says no %q: %v\n%s", want, err, text)
	}
	taken := fmt.Sprintf("application nodes is not served by this process on 127.0.0.1:%d", port)
	testutil.Eventually(t, 10*time.Second, "the other worker saying its port is taken", func() bool {
		return strings.Contains(workers[other].stderr.String(), taken)
	})
	answers := func(url string) map[string]int {
		got := map[string]int{}
		for range 20 {
			a := post(t, "POST", url+"/n/where", "[]")
			if a.status != 200 {
				t.Fatalf("%s answered %d %s", url, a.status, a.raw)
			}
			got[a.raw]++
		}
		return got
	}
	if got := answers(url); got[`"`+server+`"`] != 20 {
		t.Errorf("the node's ingress sent requests to %v, want all 20 to its own replica on %s", got, server)
	}
	if got := answers(fmt.Sprintf("http://127.0.0.1:%d", headServe)); got[`"w1"`] == 0 || got[`"w2"`] == 0 {
		t.Errorf("the head (no replica of its own) sent requests to %v, want both workers' replicas", got)
	}
	if n := strings.Count(workers[other].stderr.String(), taken); n != 1 {
		t.Errorf("the worker whose port is taken said so %d times, want once:\n%s", n, workers[other].stderr.String())
	}
}
