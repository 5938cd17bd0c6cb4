package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent"
)

// Named and detached actors on a cluster of real processes
// (spec/declarations.md#named-and-detached-actors).

// A named actor made by one job is found by another job (another
// driver) through actors.get, a second actor of the same name is
// refused, and the name ends with the job that made it.
func TestNamedActorAcrossJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
@name("across")
actor Counter() {
    let n = 0
    method inc(k) {
        n += k
        return n
    }
}
pipeline main() {
    let c = Counter()
    print("made", get(c.inc(1)))
    # the other job adds 100: wait for it
    while get(c.inc(0)) < 100 { time.sleep(0.05) }
    print("seen", get(c.inc(0)))
}`)
	if line := next(); line != "made 1" {
		t.Fatalf("first line %q", line)
	}
	out := runOnCluster(t, fc, `
@name("across")
actor Counter() {
    let n = 0
    method inc(k) {
        n += k
        return n
    }
}
pipeline main() {
    try { Counter() } catch e { print(e.kind, e.message) }
    print("got", get(actors.get("across").inc(100)))
}`)
	want := "value an actor named \"across\" already lives in namespace \"default\": use actors.get(\"across\") to call it, or kill it first\ngot 101\n"
	if out != want {
		t.Fatalf("second job printed:\n%s\nwant:\n%s", out, want)
	}
	if got, err := wait(); err != nil || !strings.Contains(got, "seen 101") {
		t.Fatalf("first job: %v\n%s", err, got)
	}
	out = runOnCluster(t, fc, `
pipeline main() {
    try { actors.get("across") } catch e { print(e.kind) }
}`)
	if out != "key\n" {
		t.Fatalf("after the job that made it ended, actors.get printed %q, want key", out)
	}
}

// A detached actor outlives the job that made it, is restarted with its
// state on another node after its node is SIGKILLed (@restarts), and is
// stopped by `rayflow actor stop`, after which actors.get fails.
func TestDetachedActorSurvivesJobAndNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	out := runOnCluster(t, fc, `
@name("policy")
@lifetime("detached")
@restarts(2)
@resources(cpu=1)
actor Policy(w) {
    let weight = w
    let calls = 0
    method bump(k) {
        weight += k
        calls += 1
        return [weight, calls, sys.node()]
    }
}
pipeline main() {
    let p = Policy(10)
    p.bump(1)
    print(get(p.bump(2))[0:2])
}`)
	if out != "[13, 2]\n" {
		t.Fatalf("the job that made the actor printed %q", out)
	}
	bumpAcrossKill(t, fc, "policy", 113, 3)
	stop, err := exec.Command(fc.bin, "actor", "stop", "policy", "--address", fc.head).CombinedOutput()
	if err != nil || !strings.Contains(string(stop), `stopped actor "policy"`) {
		t.Fatalf("rayflow actor stop: %v\n%s", err, stop)
	}
	out = runOnCluster(t, fc, `
pipeline main() {
    try { actors.get("policy") } catch e { print(e.kind, e.message) }
}`)
	if !strings.HasPrefix(out, `key no live actor is named "policy"`) {
		t.Fatalf("after rayflow actor stop, actors.get printed %q", out)
	}
	again, err := exec.Command(fc.bin, "actor", "stop", "policy", "--address", fc.head).CombinedOutput()
	if err == nil || !strings.Contains(string(again), "no live actor") {
		t.Fatalf("a second rayflow actor stop: %v\n%s", err, again)
	}
}

// bumpAcrossKill calls bump(100) on the detached Policy actor named name
// from a later job and wants the state weight after calls calls; then it
// SIGKILLs the node that hosts the actor and wants the next job's
// bump(100) to find the state weight+100 after calls+1 calls on another
// node (the actor was restarted with its state).
func bumpAcrossKill(t *testing.T, fc *faultCluster, name string, weight, calls int) {
	t.Helper()
	bump := fmt.Sprintf(`
pipeline main() {
    let r = get(actors.get(%q).bump(100))
    print(r[0], r[1], r[2])
}`, name)
	first := strings.Fields(runOnCluster(t, fc, bump))
	if len(first) != 3 || first[0] != fmt.Sprint(weight) || first[1] != fmt.Sprint(calls) {
		t.Fatalf("a later job found %v, want the state %d after %d calls", first, weight, calls)
	}
	host := first[2]
	fc.kill(t, host)
	second := strings.Fields(runOnCluster(t, fc, bump))
	if len(second) != 3 || second[0] != fmt.Sprint(weight+100) || second[1] != fmt.Sprint(calls+1) || second[2] == host {
		t.Fatalf("after its node %s was killed, the actor answered %v, want %d after %d calls on another node", host, second, weight+100, calls+1)
	}
}

// runOnCluster runs a program to its end on the cluster and returns its
// stdout; it fails the test if the program fails.
func runOnCluster(t *testing.T, fc *faultCluster, src string) string {
	t.Helper()
	cmd := exec.Command(fc.bin, "run", "--address", fc.head, writeProgram(t, src))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rayflow run: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	return string(out)
}

// A detached actor is a row of the GCS actors table, with its name,
// namespace and lifetime, while it lives; kill deletes the row. (The
// head runs in this process, so that -race checks its side: it owns the
// actor, which lives on the worker.)
func TestDetachedActorInActorsTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	h, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", DeadAfter: testDeadAfter,
		Node: nodeagent.Config{CPUs: -1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	fc := &faultCluster{bin: buildCLI(t), head: h.Cluster.Address(), workers: map[string]*proc{}}
	fc.addWorker(t, "w1", freePort(t), "--cpus", "2")
	runOnCluster(t, fc, `
@name("listed", namespace="serving")
@lifetime("detached")
@resources(cpu=1)
actor Model() {
    method ping() { return "pong" }
}
pipeline main() { print(get(Model().ping())) }`)
	rows, err := h.Store.ListActors()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, r := range rows {
		found = append(found, fmt.Sprintf("%s/%s %s %s %s", r.Namespace, r.Name, r.Lifetime, r.Class, r.State))
	}
	if len(found) != 1 || found[0] != "serving/listed detached Model alive" {
		t.Fatalf("actors table after the job: %v", found)
	}
	out := runOnCluster(t, fc, `
pipeline main() {
    let m = actors.get("listed", namespace="serving")
    print(get(m.ping()))
    kill(m)
}`)
	if out != "pong\n" {
		t.Fatalf("a later job printed %q", out)
	}
	if rows, err := h.Store.ListActors(); err != nil || len(rows) != 0 {
		t.Fatalf("actors table after kill: %v %v", rows, err)
	}
}

// An actor made with Class.options(name=, namespace=, lifetime=
// "detached", ...) by one job, of a class declared with no decorator,
// is found by later jobs through actors.get and keeps every option: it
// outlives its job, runs two calls at once (concurrency=2, on the node
// that hosts it), and another one (restarts=2) is restarted with its
// state after its node is SIGKILLed (its owner, a head, read the option).
func TestActorOptionsAcrossJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	decl := `
actor Policy(w) {
    let weight = w
    let calls = 0
    method bump(k) {
        weight += k
        calls += 1
        return [weight, calls, sys.node()]
    }
    method nap(s) {
        let t0 = time.monotonic()
        time.sleep(s)
        return [t0, time.monotonic()]
    }
}
`
	out := runOnCluster(t, fc, decl+`
pipeline main() {
    let p = Policy.options(name="opt-policy", namespace="ns", lifetime="detached", concurrency=2)(10)
    let q = Policy.options(name="opt-restarted", lifetime="detached", restarts=2, resources={"cpu": 1})(20)
    print(get(p.bump(1))[0:2], get(q.bump(1))[0:2])
}`)
	if out != "[11, 1] [21, 1]\n" {
		t.Fatalf("the job that made the actors printed %q", out)
	}
	out = runOnCluster(t, fc, `
pipeline main() {
    let p = actors.get("opt-policy", namespace="ns")
    print(get(p.bump(100))[0:2])
    let spans = get([p.nap(0.3), p.nap(0.3)])
    print("overlap:", max(spans[0][0], spans[1][0]) < min(spans[0][1], spans[1][1]))
    try { actors.get("opt-policy") } catch e { print(e.kind) }
}`)
	if out != "[111, 2]\noverlap: true\nkey\n" {
		t.Fatalf("a later job printed %q", out)
	}
	bumpAcrossKill(t, fc, "opt-restarted", 121, 2)
	for _, stop := range [][]string{{"opt-policy", "--namespace", "ns"}, {"opt-restarted"}} {
		args := append([]string{"actor", "stop"}, stop...)
		if b, err := exec.Command(fc.bin, append(args, "--address", fc.head)...).CombinedOutput(); err != nil {
			t.Fatalf("rayflow actor stop %v: %v\n%s", stop, err, b)
		}
	}
}
