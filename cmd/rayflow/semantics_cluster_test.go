package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"testing"
)

// One semantics everywhere (issue 11): a program gives the same stdout,
// stderr and exit code embedded, with --nodes 3 and on a real cluster of
// three `rayflow start` processes, node names aside. Each program below
// differed on the cluster before the change that made it agree.
var semanticsPrograms = []struct {
	name, src string
	// want is a line the (normalised) stdout must hold: a check that the
	// runs agree on the right thing, not only with each other.
	want string
}{
	{"function values", `
fn double(x) { return x * 2 }
task sq(x) { return x * x }
actor Counter(n) {
    method inc(k) { n += k; return n }
}
task apply_task(f, x) { return f(x) }
task apply_get(f, x) { return get(f(x)) }
task make(cls) { let c = cls(10); return get(c.inc(5)) }
task each(fs) { return [f(3) for f in fs] }
task give() { return double }
task draws(f) { return [f(1, 100) for i in range(3)] }
pipeline main() {
    print(get(apply_task(double, 21)))
    print(get(apply_task(len, [1, 2, 3])), get(apply_task(math.sqrt, 16.0)))
    print(get(apply_get(sq, 7)), get(make(Counter)))
    let c = Counter(1)
    print(get(apply_get(c.inc, 2)))
    print(get(each([double, str, abs])))
    let g = get(give())
    print(g(4), g, get(apply_task(g, 5)))
    let r = random.new(7)
    let a = get(draws(r.randint))
    let b = get(draws(r.randint))
    print(a == b, [r.randint(1, 100) for i in range(3)] == a)
}`, "true true"},
	{"failed futures in a list", `
task boom(i) { fail("bad input " + str(i)) }
task collect(xs) { return get(xs) }
pipeline main() {
    try { get(collect([boom(i) for i in range(3)])) } catch e {
        print(e.kind, e.message)
        print(e.stack)
    }
    get(collect([boom(i) for i in range(3)]))
}`, "task task 'boom' failed: bad input 0"},
	{"failed dependency", `
task boom(i) { fail("bad input " + str(i)) }
task add1(x) { return x + 1 }
actor Acc() {
    method add(x) { return x }
}
pipeline main() {
    try { get(add1(boom(1))) } catch e { print(e.kind, e.message) }
    let a = Acc()
    try { get(a.add(boom(2))) } catch e { print(e.kind, e.message) }
    get(add1(boom(3)))
}`, "task task 'add1' could not start: its argument 1, from task 'boom', failed: bad input 1"},
	{"error kinds", `
task boom(i) { fail("bad input " + str(i)) }
task collect(xs) { return get(xs) }
task add1(x) { return x + 1 }
task div(a, b) { return a / b }
task key(m) { return m["nope"] }
actor Box() {
    method at(i) { return [1, 2][i] }
}
@resources(cpu=64)
task huge() { return 1 }
task nested() { return get(huge()) }
pipeline main() {
    try { get(div(1, 0)) } catch e { print(e.kind, e.cause, e.task, e.message) }
    try { get(key({})) } catch e { print(e.kind, e.cause, e.task) }
    try { get(collect([boom(i) for i in range(2)])) } catch e { print(e.kind, e.cause, e.task) }
    try { get(add1(boom(1))) } catch e { print(e.kind, e.cause, e.task) }
    let b = Box()
    try { get(b.at(5)) } catch e { print(e.kind, e.cause, e.task) }
    try { get(huge()) } catch e { print(e.kind, e.cause, e.task, e.message) }
    try { get(nested()) } catch e { print(e.kind, e.cause, e.task) }
    try { 1 / 0 } catch e { print(e.kind, e.cause, e.task) }
}`, "resource resource none no node can run task 'huge': it needs cpu=64; the largest node, node-N, has cpu=1"},
	{"infeasible", `
@resources(cpu=64)
task huge() { return 1 }
@resources(cpu=64)
actor Big() { method m() { return 1 } }
pipeline main() {
    try { print(Big()) } catch e { print(e.kind, e.message) }
    let f = huge()
    print("submitted")
    print(get(f))
}`, "resource no node can run actor Big: it needs cpu=64; the largest node, node-N, has cpu=1"},
}

// nodeNames matches the names of nodes, which differ between an embedded
// run (node-1...) and a cluster (node-PORT).
var nodeNames = regexp.MustCompile(`node-[0-9]+`)

// runOutcome is what a run shows: its stdout, stderr and exit code, node
// names normalised.
type runOutcome struct {
	stdout, stderr string
	code           int
}

func runProgram(t *testing.T, bin string, args ...string) runOutcome {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("rayflow %v: %v", args, err)
	}
	norm := func(s string) string { return nodeNames.ReplaceAllString(s, "node-N") }
	return runOutcome{norm(stdout.String()), norm(stderr.String()), code}
}

func TestSemanticsEmbeddedNodesCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	hp := freePortRange(t, 5)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--data-dir", t.TempDir())
	for range 2 {
		startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(freePort(t)), "--cpus", "1", "--data-dir", t.TempDir())
	}
	for _, p := range semanticsPrograms {
		t.Run(p.name, func(t *testing.T) {
			prog := writeProgram(t, p.src)
			embedded := runProgram(t, bin, "run", "--cpus", "1", prog)
			if !bytes.Contains([]byte(embedded.stdout), []byte(p.want+"\n")) {
				t.Fatalf("embedded stdout lacks %q:\n%s\nstderr:\n%s", p.want, embedded.stdout, embedded.stderr)
			}
			for _, mode := range [][]string{{"--cpus", "1", "--nodes", "3"}, {"--address", head}} {
				args := append(append([]string{"run"}, mode...), prog)
				if got := runProgram(t, bin, args...); got != embedded {
					t.Errorf("rayflow %v differs from the embedded run:\n--- embedded (exit %d)\n%s%s--- %v (exit %d)\n%s%s",
						mode, embedded.code, embedded.stdout, embedded.stderr, mode, got.code, got.stdout, got.stderr)
				}
			}
		})
	}
}
