package repl

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// session runs input through Run, as a pipe would, and returns what went
// to stdout and stderr.
func session(t *testing.T, input string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(Options{CPUs: 2, Stdin: strings.NewReader(input), Stdout: &out, Stderr: &errOut})
	if code != 0 {
		t.Errorf("exit code %d", code)
	}
	return out.String(), errOut.String()
}

func TestSessionBasics(t *testing.T) {
	out, errs := session(t, `task sq(x) { return x * x }
let x = get(sq(4))
x + 1
print("x is", x)
"text"
none
[1, "a", 2.5]
`)
	want := "17\nx is 16\n\"text\"\n[1, \"a\", 2.5]\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if errs != "" {
		t.Errorf("stderr = %q", errs)
	}
}

func TestVariablesPersist(t *testing.T) {
	out, errs := session(t, `let a = 1
a = a + 1
a += 10
a
let a = "again"
a
let xs = [1, 2]
xs.append(3)
xs
let p, q = [3, 4]
p * q
for i in range(3) { a = a + str(i) }
a
if true { let inner = 1 }
:vars
`)
	want := "12\n\"again\"\n[1, 2, 3]\n12\n\"again012\"\n" +
		"a = \"again012\"\nxs = [1, 2, 3]\np = 3\nq = 4\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if errs != "" {
		t.Errorf("stderr = %q", errs)
	}
}

func TestDeclarationsReplace(t *testing.T) {
	out, errs := session(t, `task f(x) { return x + 1 }
fn g(x) { return get(f(x)) * 10 }
g(1)
task f(x) { return x + 2 }
g(1)
const K = 7
K
let f = 3
f
fn f(x) { return "fn again" }
f(0)
:vars
`)
	want := "20\n30\n7\n3\n\"fn again\"\ndeclared: K, f, g\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if errs != "" {
		t.Errorf("stderr = %q", errs)
	}
}

func TestActorsAndFuturesAcrossInputs(t *testing.T) {
	out, errs := session(t, `@restarts(1)
actor Counter(start: int = 0) {
    let count = start
    method inc(by: int = 1) -> int {
        count += by
        return count
    }
}
let c = Counter(10)
get(c.inc())
let fut = c.inc(5)
get(fut)
get(c.inc())
let stored = put([1, 2])
get(stored)
`)
	want := "11\n16\n17\n[1, 2]\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if errs != "" {
		t.Errorf("stderr = %q", errs)
	}
}

func TestContinuation(t *testing.T) {
	out, errs := session(t, `let m = {"a": 1,
   "b": 2}
m
1 +
  2
if m["a"] == 1 {
    print("one")
} else {
    print("other")
}
task t(x) {
    let y = x * 2

    return y
}
get(t(21))
let unfinished = [1,

"next input"
`)
	want := "{\"a\": 1, \"b\": 2}\n3\none\n\"next input\"\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	// An empty line ends an input, even inside a block: t is cut short
	// (and not declared), its `return y` then runs on its own and fails,
	// and so does the list cut by an empty line.
	for _, w := range []string{"<repl>:2:18: error: expected '}' to close the block opened at 1:11", "'return' outside a function", "undefined name 't'",
		"<repl>:1:21: error: expected an expression after ','"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, errs)
		}
	}
}

func TestErrorsKeepTheSession(t *testing.T) {
	out, errs := session(t, `task bad(x) {
    if x > 1 { fail("boom " + str(x)) }
    return x
}
let ok = 5
undefined_name + 1
ok
let q = [1,
  2 +
  "a"]
ok + 1
get(bad(5))
x = )
1 / 0
ok + 2
:nonsense
ok + 3
`)
	if want := "5\n6\n7\n8\n"; out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	for _, w := range []string{
		"<repl>:1:1: error: undefined name 'undefined_name'",
		"<repl>:2:5: error: unsupported operand types for +: int and string", // relative to the input's lines
		"<repl:bad>:2:16: error: task 'bad' failed: boom 5",
		"  <repl>:1:1 in <input>\n  <repl:bad>:2:16 in bad (on node node-1)\n",
		"<repl>:1:5: error: unexpected ')'\n    x = )\n        ^\n",
		"<repl>:1:3: error: division by zero",
		"unknown command ':nonsense'",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, errs)
		}
	}
	if strings.Contains(errs, hiddenPipeline) || strings.Contains(errs, valueName) {
		t.Errorf("stderr shows the hidden pipeline:\n%s", errs)
	}
}

func TestBadDeclarationIsNotKept(t *testing.T) {
	out, errs := session(t, `fn f(x) { return x + 1 }
fn f(x) { return y }
fn g(x) { return f(x) * 10 }
fn f() { return 0 }
f(1)
@nosuch
task h() { return 1 }
h
`)
	if want := "2\n"; out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	for _, w := range []string{"<repl>:1:18: error: undefined name 'y'",
		"<repl:g>:1:20: error: too many arguments in call to 'f': it takes 0, got 1\n    fn g(x) { return f(x) * 10 }\n",
		"<repl>:1:1: error: unknown decorator '@nosuch'", "undefined name 'h'"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, errs)
		}
	}
}

func TestCommands(t *testing.T) {
	out, errs := session(t, `:help
task sq(x) { return x * x }
pipeline main(n: int = 3) { return get([sq(i) for i in range(n)]) }
fn lone() { return 1 }
:plan main
:plan lone
:plan nothing
:run main
:run main n=4
:run main n=x
:run lone
let v = 1
:reset
:vars
v
:quit
print("not run")
`)
	for _, w := range []string{":plan [NAME]", "pipeline main", "sq", "nothing in the plan for lone",
		"session reset", "no variables or declarations yet", "[0, 1, 4]\n", "[0, 1, 4, 9]\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout does not contain %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "not run") {
		t.Errorf(":quit did not stop the session:\n%s", out)
	}
	for _, w := range []string{"nothing named 'nothing'", "undefined name 'v'", "parameter 'n':", "no pipeline named 'lone'"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, errs)
		}
	}
}

func TestInterruptCancelsOnlyTheInput(t *testing.T) {
	var out, errOut bytes.Buffer
	w := &syncWriter{mu: new(sync.Mutex), w: &out}
	s, err := NewSession(2, w, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.Eval(ctx, "task slow(x) { time.sleep(x)\nreturn x }")
	s.Eval(ctx, "let f = slow(0.2)")
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	s.Eval(cctx, "let lost = 1\ntime.sleep(30)")
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the interrupted input took %v", el)
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr = %q, want interrupted", errOut.String())
	}
	// The future made before survives; the interrupted input's variables do not.
	s.Eval(ctx, "get(f)")
	s.Eval(ctx, "lost")
	if got := out.String(); got != "0.2\n" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(errOut.String(), "undefined name 'lost'") {
		t.Errorf("stderr = %q", errOut.String())
	}
}

func TestNeedsMore(t *testing.T) {
	for text, want := range map[string]bool{
		"":                      false,
		"x + 1":                 false,
		"x +":                   true,
		"let a =":               true,
		"f(1,":                  true,
		"f(1, 2)":               false,
		"[1, 2":                 true,
		"task t() {":            true,
		"task t() {\n}":         false,
		"@retries(2)":           true,
		"@retries(2)\ntask":     true,
		"@retries(2)\ntask t()": false,
		"a and":                 true,
		"x if c else":           true,
		"return":                false,
		"x)":                    false,
		"\"open":                false,
		"print(\"(\")":          false,
		"# only a comment":      false,
	} {
		if got := needsMore(text); got != want {
			t.Errorf("needsMore(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestIsDeclaration(t *testing.T) {
	for text, want := range map[string]bool{
		"task t() {}":                    true,
		"@resources(cpu=1)\ntask t() {}": true,
		"@hint(x, k=[1, 2]) fn f() {}":   true,
		"const K = 1":                    true,
		"let x = 1":                      false,
		"f()":                            false,
		"@retries(2)":                    true,
		"print(1)":                       false,
	} {
		if got := isDeclaration(text); got != want {
			t.Errorf("isDeclaration(%q) = %v, want %v", text, got, want)
		}
	}
}

// :explain prints the planner's decisions for the session's declarations,
// with the source's hints or those an --opt value turns on.
func TestExplainCommand(t *testing.T) {
	out, errs := session(t, `@hint(pipeline, depth=3)
task sq(x) { return x * x }
pipeline main(n: int = 3) {
    let t = 0
    for i in range(n) {
        t += get(sq(i))
    }
    return t
}
:explain
:explain none
:explain bogus
:run main
`)
	for _, w := range []string{"pipeline applied: the loop at 3:5 keeps up to 3 calls of 'sq' in flight",
		"no hints: --opt none turns every hint off", "5\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout does not contain %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errs, "unknown optimisation 'bogus'") {
		t.Errorf("stderr lacks the bad option:\n%s", errs)
	}
}

// :plan shows the decisions on the graph, as `rayflow plan` does.
func TestPlanCommandNotesDecisions(t *testing.T) {
	out, _ := session(t, `@hint(fuse)
task inc(x) { return x + 1 }
pipeline main() {
    let x = inc(0)
    x = inc(x)
    return get(x)
}
:plan main
`)
	if !strings.Contains(out, "note: fuse: runs right after t1, on the same worker") {
		t.Errorf(":plan does not note the fused call:\n%s", out)
	}
}

// An input runs planned as `rayflow run` runs a file: a hint of a
// declaration refused at the input's calls is warned about once in the
// session (not again at each input that calls it), and :explain says
// what the last input decided and did as it ran.
func TestInputsRunThePlan(t *testing.T) {
	out, errs := session(t, `@hint(fuse)
task stamp(x) { return [x, time.now() > 0] }
get(stamp(stamp(1)))[0][0]
get(stamp(stamp(2)))[0][0]
task sq(i) { return i * i }
sum(get([sq(i) for i in range(300)]))
:explain
`)
	if n := strings.Count(errs, "fuse refused: 'stamp' is nondeterministic"); n != 1 {
		t.Errorf("warned %d times of the refused fuse, want once:\n%s", n, errs)
	}
	if strings.Contains(errs, "no call of 'stamp'") {
		t.Errorf("warned of a declaration an input does not call:\n%s", errs)
	}
	for _, w := range []string{"1\n2\n8955050\n", "the last input, as it ran:", "adaptive applied: calls of 'sq' are measured",
		"calls went to the scheduler in"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout does not contain %q:\n%s", w, out)
		}
	}
}
