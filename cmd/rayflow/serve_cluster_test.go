package main

import (
	"encoding/json"
	"fmt"
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
		Name   string `json:"name"`
		URL    string `json:"url"`
		Routes []struct {
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
// (one per worker: each needs both CPUs of one) and returns; the head
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
@resources(cpu=2)
actor Echo(scale = 2) {
    method double(x) { return x * scale }
    method where() { return sys.node() }
}
`)
	port := freePort(t)
	out, err := exec.Command(fc.bin, "serve", prog, "--address", fc.head, "--http-port", fmt.Sprint(port), "--name", "echoapp", "scale=3").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "deployed application echoapp") {
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
	victim := ""
	for id, p := range fc.workers {
		if strings.Contains(p.ready, reps[0].Address) {
			victim = id
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
