package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A restarted actor can be recreated at the address where an earlier
// incarnation lived (its node restarted on the same port). A call its
// creator sent to the earlier incarnation, still on its way, must not
// run on the new one ahead of the replay (it ran on the empty actor, and
// then once more in the replay): the host drops it, since the replay
// sends it again. Handles given to other processes, which name the actor
// without an incarnation, reach the newest one; the earlier incarnation
// is stopped.
func TestCallForAnEarlierIncarnationIsDropped(t *testing.T) {
	head, prog := startAccHead(t)
	nw := head.Cluster.net
	for gen := 0; gen < 2; gen++ {
		if err := nw.hostActor(prog, &wire.Submit{Kind: wire.SubmitActor, ID: actorhost.Key("a1", gen), Owner: nw.addr, Function: "Acc"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	call := func(id, actorID string, x int64) *objstore.Object {
		o := objstore.NewObject(id, "method add")
		nw.ow.Await(o, nw.addr)
		if err := nw.callHosted(&wire.Submit{Kind: wire.SubmitMethod, ID: id, ActorID: actorID, Owner: nw.addr, Function: "add"},
			[]exec.Value{exec.Int(x)}); err != nil {
			t.Fatal(err)
		}
		return o
	}
	stale := call("c1", actorhost.Key("a1", 0), 5)
	current := call("c2", actorhost.Key("a1", 1), 7)
	byHandle := call("c3", "a1", 1)
	for _, o := range []*objstore.Object{current, byHandle} {
		select {
		case <-o.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no answer", o.ID())
		}
	}
	if v, err := current.Result(); err != nil || v.AsInt() != 7 {
		t.Fatalf("call to the current incarnation: %v %v, want 7 (the stale call must not have run on it)", v, err)
	}
	if v, err := byHandle.Result(); err != nil || v.AsInt() != 8 {
		t.Fatalf("call through the actor's ID: %v %v, want 8", v, err)
	}
	// Every way the stale call could be answered (run on an incarnation,
	// refused by a stopped one, found no actor) answers it before the
	// calls made after it: synchronously in callHosted, or ahead of them
	// in the actor's order, and an answer to this process is delivered
	// in the goroutine that completes the call. So with current and
	// byHandle answered, an answer to the stale call would be here.
	if stale.IsReady() {
		v, err := stale.Result()
		t.Fatalf("call to the replaced incarnation was answered: %v %v", v, err)
	}
	if n := head.Cluster.Alive(); n != 1 {
		t.Fatalf("%d actors alive, want 1: the replaced incarnation stops", n)
	}
}

// A call that reaches an actor twice (sent again by a caller after a
// failure, or by a task re-run elsewhere with the same call IDs) runs
// once; both senders get its answer.
func TestRepeatedCallRunsOnce(t *testing.T) {
	head, prog := startAccHead(t)
	nw := head.Cluster.net
	if err := nw.hostActor(prog, &wire.Submit{Kind: wire.SubmitActor, ID: actorhost.Key("a1", 0), Owner: nw.addr, Function: "Acc"}, nil); err != nil {
		t.Fatal(err)
	}
	var answers []*objstore.Object
	for i, id := range []string{"c1", "c2", "c1", "c3"} {
		o := objstore.NewObject(id, "method add")
		if i != 2 {
			nw.ow.Await(o, nw.addr)
		}
		if err := nw.callHosted(&wire.Submit{Kind: wire.SubmitMethod, ID: id, ActorID: actorhost.Key("a1", 0), Owner: nw.addr, Function: "add"},
			[]exec.Value{exec.Int(10)}); err != nil {
			t.Fatal(err)
		}
		answers = append(answers, o)
	}
	last := answers[3]
	select {
	case <-last.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
	if v, err := last.Result(); err != nil || v.AsInt() != 30 {
		t.Fatalf("third distinct call answered %v %v, want 30: the repeated call must not run again", v, err)
	}
}

// startAccHead starts a head that can host the Acc actor of the program
// it returns (a counter whose add returns the running total).
func startAccHead(t *testing.T) (*Head, *exec.Program) {
	t.Helper()
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 2, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	prog, err := LoadProgram(head.Cluster.Head().newThread("test", "test"), "acc.rayflow", `
actor Acc() {
    let n = 0
    method add(x) {
        n += x
        return n
    }
}
pipeline main() {}`)
	if err != nil {
		t.Fatal(err)
	}
	prog.Hash = "acc"
	return head, prog
}
