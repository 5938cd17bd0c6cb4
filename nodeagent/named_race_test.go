package nodeagent_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// startTwoHeads starts two heads in this process whose GCS is one
// (the second joins the first's Raft group), each serving the cluster
// protocol on its own port.
func startTwoHeads(t *testing.T) (*nodeagent.Head, *nodeagent.Head) {
	t.Helper()
	port, err := testutil.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Shards: 1,
		RaftAddr: fmt.Sprintf("127.0.0.1:%d", port), Node: nodeagent.Config{CPUs: 1, NodeID: "h1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Shards: 1, Join: a.Cluster.Address(),
		RaftAddr: fmt.Sprintf("127.0.0.1:%d", port+1), Node: nodeagent.Config{CPUs: 1, NodeID: "h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return a, b
}

// Two heads registering one name for two actors at the same instant:
// exactly one gets it, the other the taken error, for every name (each
// head used to check only its own table and the bound rows of the GCS).
func TestNameRegisteredThroughTwoHeadsAtOnce(t *testing.T) {
	a, b := startTwoHeads(t)
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("raced-%d", i)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for j, h := range []*nodeagent.Head{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[j] = nodeagent.ReserveName(h.Cluster, "default", name, fmt.Sprintf("job%d.%d", j, i))
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !strings.Contains(err.Error(), `an actor named "`+name+`" already lives`):
				t.Fatalf("%s: a reservation failed with %v, want the taken error", name, err)
			}
		}
		if won != 1 {
			t.Fatalf("%s: %d of two heads reserved it at once (%v), want exactly one", name, won, errs)
		}
	}
}

// Two drivers, each through its own head, make detached actors of the
// same names with Class.options at the same time: every name is made
// once, by one driver; the other driver's creation fails as taken.
func TestDetachedActorsRacedThroughTwoHeads(t *testing.T) {
	a, b := startTwoHeads(t)
	const n = 30
	src := fmt.Sprintf(`
actor A() {
    method ping() { return 1 }
}
pipeline main() {
    let won = []
    for i in range(%d) {
        try {
            let x = A.options(name="race-" + str(i), lifetime="detached")()
            won.append(i)
        } catch e {
            if e.kind != "value" { fail(e.message) }
        }
    }
    print(won)
}`, n)
	outs := make([]*testutil.Buffer, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for j, h := range []*nodeagent.Head{a, b} {
		outs[j] = &testutil.Buffer{}
		driver, err := nodeagent.ConnectDriver([]string{h.Cluster.Address()}, nodeagent.Config{Stdout: outs[j]})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { driver.Shutdown("test over") })
		prog, err := rayflow.Compile("race.rayflow", src, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[j] = prog.Run(context.Background(), rayflow.RunOptions{Cluster: driver})
		}()
	}
	close(start)
	wg.Wait()
	made := map[string]int{}
	for j := range outs {
		if errs[j] != nil {
			t.Fatalf("driver %d: %v", j, errs[j])
		}
		list := strings.Trim(strings.TrimSpace(outs[j].String()), "[]")
		for _, k := range strings.Split(list, ", ") {
			if k != "" {
				made[k]++
			}
		}
	}
	for i := 0; i < n; i++ {
		if k := fmt.Sprint(i); made[k] != 1 {
			t.Fatalf("race-%d was made %d times (outputs %q, %q), want once", i, made[k], outs[0].String(), outs[1].String())
		}
	}
}

// A name claimed in the GCS for an actor that was never bound to it is
// free again once the head that claimed it is not making it: that head
// is dead or gone, or is the one asking (and has no record of making
// it), or claimed it long ago; a fresh claim of another live head holds.
func TestUnboundNameClaimGoesStale(t *testing.T) {
	head, _, _, _ := startClusterOf(t, nodeagent.Config{CPUs: 1, NodeID: "head"}, nodeagent.Config{CPUs: 1, NodeID: "worker-a"})
	claim := func(name, by string, age time.Duration) {
		t.Helper()
		n := gcs.ActorName{Namespace: "default", Name: name, ActorID: "gone." + name, Head: by, Claimed: time.Now().Add(-age).UnixNano()}
		if err := head.Store.ClaimActorName(n, "").ErrorTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	claim("live-fresh", "worker-a", time.Second)
	claim("live-old", "worker-a", time.Hour)
	claim("dead-head", "h9", time.Second)
	claim("this-head", "head", time.Second)
	if err := nodeagent.ReserveName(head.Cluster, "default", "live-fresh", "job1.1"); err == nil || !strings.Contains(err.Error(), "already lives") {
		t.Fatalf("a name another live head claimed a second ago: %v, want taken", err)
	}
	for _, name := range []string{"live-old", "dead-head", "this-head"} {
		if err := nodeagent.ReserveName(head.Cluster, "default", name, "job1."+name); err != nil {
			t.Fatalf("%s: %v, want the stale claim replaced", name, err)
		}
		if n, err := head.Store.GetActorName("default", name, gcs.Linearizable); err != nil || n.ActorID != "job1."+name || n.Head != "head" {
			t.Fatalf("%s: the stale claim was not replaced: %+v %v", name, n, err)
		}
	}
}
