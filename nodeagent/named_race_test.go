package nodeagent_test

import (
	"context"
	"errors"
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

// A name freed through one head is free through the other: a named
// actor made through head A and stopped through head B (rayflow actor
// stop, or kill(handle) from a job on B) is not found through A, and the
// actor made of that name next, through B, is the one A answers. Head A
// used to answer from its own table, which B's stop reaches only when A
// owns the actor (detached); a job's named actor is its driver's.
func TestNameFreedThroughAnotherHead(t *testing.T) {
	for _, tc := range []struct{ lifetime, stop string }{
		{"detached", "actor stop"}, {"detached", "kill"}, {"job", "actor stop"}, {"job", "kill"},
	} {
		t.Run(tc.lifetime+"_"+strings.ReplaceAll(tc.stop, " ", "_"), func(t *testing.T) {
			a, b := startTwoHeads(t)
			onA, onB := driverAt(t, a), driverAt(t, b)
			// B vouches for A's address once A's node registered with it
			// (the driver on B dials A, the actor's host, to kill it).
			testutil.Eventually(t, 20*time.Second, "head A registered with head B", func() bool {
				return b.Membership.HasAddress(a.Cluster.Address())
			})
			const decl = `
actor P(tag) {
    method tag() { return tag }
}
`
			jobDone := makeNamedThroughA(t, a, tc.lifetime, decl)
			switch tc.stop {
			case "actor stop": // B reads the name linearizably: no wait for its replica
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := nodeagent.StopNamedActor(ctx, b.Cluster.Address(), nil, nil, "default", "policy"); err != nil {
					t.Fatal(err)
				}
			case "kill":
				// A lookup through B reads B's replica: it finds the
				// name once the replica applied A's writes.
				testutil.Eventually(t, 10*time.Second, "head B's replica applying the name's row", func() bool {
					n, err := b.Store.GetActorName("default", "policy")
					if err != nil {
						return false
					}
					_, err = b.Store.GetActor(n.ActorID)
					return err == nil
				})
				if _, err := runSrc(t, onB, `pipeline main() { kill(actors.get("policy")) }`); err != nil {
					t.Fatal(err)
				}
			}
			// Head A learns of the release when its GCS replica applies
			// it (at once when it leads; a follower may lag a heartbeat).
			testutil.Eventually(t, 10*time.Second, "head A's replica applying the release", func() bool {
				_, err := a.Store.GetActorName("default", "policy")
				return errors.Is(err, gcs.ErrNotFound)
			})
			got, err := runSrc(t, onA, `pipeline main() {
    try { actors.get("policy"); return "found" } catch e { return e.kind + ": " + e.message }
}`)
			want := `key: no live actor is named "policy" in namespace "default" (it was never made, was stopped, or its job ended)`
			if err != nil || got != want {
				t.Fatalf("actors.get through A after the stop through B: %q %v, want %q", got, err, want)
			}
			if _, err := runSrc(t, onB, decl+`pipeline main() { P.options(name="policy", lifetime="detached")("second") }`); err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 10*time.Second, "head A's replica applying the new claim", func() bool {
				n, err := a.Store.GetActorName("default", "policy")
				if err != nil {
					return false
				}
				_, err = a.Store.GetActor(n.ActorID)
				return err == nil
			})
			got, err = runSrc(t, onA, `pipeline main() { return get(actors.get("policy").tag()) }`)
			if err != nil || got != "second" {
				t.Fatalf("actors.get through A after B made the name again: %q %v, want the second actor", got, err)
			}
			if _, err := runSrc(t, onB, decl+`pipeline main() { P.options(name="go", lifetime="detached")("go") }`); err != nil {
				t.Fatal(err)
			}
			if err := <-jobDone; err != nil {
				t.Fatalf("the job that made the first actor: %v", err)
			}
		})
	}
}

// makeNamedThroughA makes the actor "policy" of class P (in decl) with
// tag "first" through head A, detached or of a job that runs until an
// actor named "go" lives; the channel answers that job's end.
func makeNamedThroughA(t *testing.T, a *nodeagent.Head, lifetime, decl string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	if lifetime == "detached" {
		_, err := runSrc(t, driverAt(t, a), decl+`pipeline main() { get(P.options(name="policy", lifetime="detached")("first").tag()) }`)
		done <- err
		return done
	}
	out := &testutil.Buffer{}
	maker, err := nodeagent.ConnectDriver([]string{a.Cluster.Address()}, nodeagent.Config{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { maker.Shutdown("test over") })
	prog, err := rayflow.Compile("maker.rayflow", decl+`
pipeline main() {
    let p = P.options(name="policy")("first")
    get(p.tag())
    print("made")
    while true {
        try { actors.get("go"); return } catch e { time.sleep(0.02) }
    }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: maker})
		done <- err
	}()
	testutil.Eventually(t, 20*time.Second, "the job on A making its named actor", func() bool {
		return strings.Contains(out.String(), "made")
	})
	return done
}

// driverAt connects a driver to the head h alone.
func driverAt(t *testing.T, h *nodeagent.Head) *nodeagent.Cluster {
	t.Helper()
	d, err := nodeagent.ConnectDriver([]string{h.Cluster.Address()}, nodeagent.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown("test over") })
	return d
}

// runSrc runs a program's main on the driver d and returns what it
// returned, printed.
func runSrc(t *testing.T, d *nodeagent.Cluster, src string) (string, error) {
	t.Helper()
	prog, err := rayflow.Compile("job.rayflow", src, nil)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := prog.Run(ctx, rayflow.RunOptions{Cluster: d})
	if err != nil {
		return "", err
	}
	return v.String(), nil
}
