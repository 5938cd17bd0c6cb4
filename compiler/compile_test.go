package compiler_test

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// universe is a small stand-in for the stdlib: time.now is
// nondeterministic, random.new only without a seed.
var universe = &compiler.Universe{
	Builtins: map[string]compiler.Member{"print": {Callable: true}, "get": {Callable: true},
		"wait": {Callable: true, Nondeterministic: true}, "range": {Callable: true}},
	Modules: map[string]map[string]compiler.Member{
		"time":   {"now": {Callable: true, Nondeterministic: true}},
		"random": {"new": {Callable: true, NondeterministicWithoutArgs: true}},
		"math":   {"sqrt": {Callable: true}},
	},
}

func compile(t *testing.T, src string) (*compiler.Program, error) {
	t.Helper()
	f, err := lang.Parse("t.rayflow", src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return compiler.Compile(f, universe)
}

func funcNamed(p *compiler.Program, name string) *compiler.Func {
	for _, f := range p.Funcs {
		if f.QualifiedName() == name {
			return f
		}
	}
	return nil
}

func TestDeterminismIsTransitive(t *testing.T) {
	p, err := compile(t, `
fn clock() { return time.now() }
fn uses_clock() { return clock() + 1 }
task pure(x) { return math.sqrt(x) }
task seeded() { return random.new(1) }
task unseeded() { return random.new() }
task calls_unseeded() { return get(unseeded()) }
task gets_in_time() { return get(pure(1), timeout=0.5) }
@nondeterministic
fn declared() { return 1 }
fn a() { return b() }
fn b() { return a() }
actor A() { method m() { return 1 } }
task uses_actor(h) { return h.m() }
pipeline main() { }
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"clock": false, "uses_clock": false, "pure": true, "seeded": true,
		"unseeded": false, "calls_unseeded": false, "gets_in_time": false, "declared": false, "a": true, "b": true, "uses_actor": false}
	for name, det := range want {
		f := funcNamed(p, name)
		if f == nil {
			t.Fatalf("no function %s", name)
		}
		if f.Deterministic != det {
			t.Errorf("%s: deterministic = %v, want %v (reason %q)", name, f.Deterministic, det, f.NondeterministicReason())
		}
		if !det && f.NondeterministicReason() == "" {
			t.Errorf("%s: nondeterministic without a reason", name)
		}
	}
}

func TestCallSitesCarryLineage(t *testing.T) {
	p, err := compile(t, `
@resources(cpu=2, memory="1GB", disk=1)
@retries(4)
task work(x, y) { return x + y }
actor Acc() { method add(v) { return v } }
pipeline main(n: int = 3) {
    let f = work(1, n)
    let g = work(f, y=2)
    let acc = Acc()
    acc.add(g)
}
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Sites {
		got = append(got, s.Kind+" "+s.Callee+" "+strings.Join(s.ArgSources, ","))
		switch s.Kind {
		case "task":
			if s.Resources["cpu"] != 2 || s.Resources["memory"] != 1e9 || s.Resources["disk"] != 1 || s.Retries != 4 || !s.Deterministic {
				t.Errorf("task site %+v", s)
			}
		case "method":
			if s.Deterministic || s.Func == nil {
				t.Errorf("method site %+v: want nondeterministic with a known method", s)
			}
		}
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"task work literal,name n", "task work name f,y=literal", "actor Acc ", "method add name g"} {
		if !strings.Contains(joined, want) {
			t.Errorf("sites lack %q:\n%s", want, joined)
		}
	}
}

func TestEveryErrorIsReported(t *testing.T) {
	_, err := compile(t, `
fn f(a) { return b }
@frobnicate
task t() { return 1 }
pipeline main() {
    f(1, 2)
    x = 3
    math.sqr(2)
}
`)
	if err == nil {
		t.Fatal("compiled; want errors")
	}
	msg := err.Error()
	for _, want := range []string{"2:18: error: undefined name 'b'", "3:1: error: unknown decorator '@frobnicate'",
		"too many arguments in call to 'f'", "undefined name 'x'", "module 'math' has no member 'sqr'; did you mean 'sqrt'?"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[any]int64{"256MB": 256e6, "1GiB": 1 << 30, "1.5KB": 1500, int64(42): 42, "7": 7} {
		got, err := compiler.ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%v) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []any{"12XB", "-1MB", int64(-5), "MB"} {
		if _, err := compiler.ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%v) succeeded; want an error", bad)
		}
	}
}

// A task that reduces with a nondeterministic task is nondeterministic:
// reduce(f, xs) calls f.
func TestReduceCallsItsTask(t *testing.T) {
	u := &compiler.Universe{Builtins: map[string]compiler.Member{"reduce": {Callable: true}}, Modules: universe.Modules}
	f, err := lang.Parse("t.rayflow", `
task stamp(a, b) { return a + b + time.now() }
task add(a, b) { return a + b }
task stamped(xs) { return reduce(stamp, xs) }
task added(xs) { return reduce(add, xs) }
pipeline main() { }
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(f, u)
	if err != nil {
		t.Fatal(err)
	}
	if s := funcNamed(p, "stamped"); s.Deterministic || !strings.Contains(s.NondeterministicReason(), "stamp") {
		t.Errorf("stamped: deterministic = %v (%q), want false: it reduces with stamp", s.Deterministic, s.NondeterministicReason())
	}
	if !funcNamed(p, "added").Deterministic {
		t.Errorf("added: nondeterministic (%q)", funcNamed(p, "added").NondeterministicReason())
	}
}

// Constants may be declared in any order: ConstOrder puts each after
// the constants it names; a cycle is an error.
func TestConstOrder(t *testing.T) {
	p, err := compile(t, "const A = B + C\nconst B = C * 2\nconst C = 1\nconst D = 4\npipeline main() { }\n")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range p.ConstOrder {
		names = append(names, p.Globals[i].Name)
	}
	if got := strings.Join(names, " "); got != "C B A D" {
		t.Errorf("ConstOrder = %s, want C B A D", got)
	}
	_, err = compile(t, "const A = B\nconst B = A\npipeline main() { }\n")
	if err == nil || !strings.Contains(err.Error(), "2:11: error: const 'B' uses 'A', which depends on 'B'") {
		t.Errorf("cycle: %v", err)
	}
}

// A let in a while loop that updates a variable the condition reads
// would hide it and loop forever: a compile error. A let of the same name
// that does not read it, or outside the loop, is fine.
func TestWhileLetHidingTheConditionVariable(t *testing.T) {
	_, err := compile(t, "pipeline main() {\n  let xs = [1, 2]\n  while xs != [] {\n    let x, xs = [xs[0], xs[1:]]\n  }\n}\n")
	if err == nil || !strings.Contains(err.Error(), "4:5: error: this let declares a new 'xs' that hides the one the while condition at 3:9 reads") {
		t.Errorf("got %v", err)
	}
	for _, src := range []string{
		"pipeline main() {\n  let xs = [1, 2]\n  while xs != [] {\n    let x, rest = [xs[0], xs[1:]]\n    xs = rest\n  }\n}\n",
		"pipeline main() {\n  let n = 3\n  while n > 0 {\n    let n2 = n - 1\n    n = n2\n    let k = 0\n  }\n}\n",
		"pipeline main() {\n  let n = 3\n  while n > 0 {\n    n -= 1\n    let n = 10\n  }\n}\n",
	} {
		if _, err := compile(t, src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}
