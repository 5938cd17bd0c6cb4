package exec_test

import (
	"fmt"
	"strings"
	"testing"
)

// The evaluator's specialised paths (an operand that is a local or an int
// literal, a condition that is one comparison, `x += v` on a local, a
// range loop into one name, a positional fn call) must give what the
// generic paths give: the same value, or the same error with the same
// kind, message, position and stack. Each program below is run twice:
// as written, where «x» is " x " (the specialised path), and with «x»
// written "(x)" or as a keyword argument, which the compiler does not
// recognise as a plain operand or a positional call (the generic path).
var fastPathPrograms = []string{
	// + and - with a local and a literal, or two locals; overflow.
	`fn f(n) { return n - «1» }
pipeline main() { return [f(5), f(-9223372036854775807)] }`,
	`fn f(n) { return n - «1» }
pipeline main() { return f(-9223372036854775807 - 1) }`,
	`fn f(n) { return n + «1» }
pipeline main() { return f(9223372036854775807) }`,
	`fn f(a, b) { return a + «b» }
pipeline main() { return [f(1, 2), f(1.5, 2), f("a", "b"), f([1], [2])] }`,
	`fn f(a, b) { return a - «b» }
pipeline main() { return f(-9223372036854775807, 2) }`,
	`fn f(a, b) { return a + «b» }
pipeline main() { return f(1, "b") }`,
	`fn f(n) { return n - «1» }
pipeline main() { return f(none) }`,
	`fn f(n) { return n + «2» }
pipeline main() { return [f(0.5), f(true)] }`,
	// Comparisons, in a condition and as a value.
	`fn f(n) {
    if n < «2» { return "small" }
    return "big"
}
pipeline main() { return [f(1), f(2), f(1.5), f(-3)] }`,
	`fn f(n) {
    if n < «2» { return 1 }
    return 0
}
pipeline main() { return f("x") }`,
	`fn f(a, b) { return [a < «b», a <= «b», a > «b», a >= «b», a == «b», a != «b»] }
pipeline main() { return [f(1, 2), f(2, 2), f(3, 2), f(1, 1.0), f("a", "b"), f([1], [1, 0])] }`,
	`fn f(a, b) { return [a == «b», a != «b»] }
pipeline main() { return [f(1, "1"), f(none, none), f(true, 1)] }`,
	`fn f(a, b) { return a <= «b» }
pipeline main() { return f(1, "x") }`,
	`fn f(n) { return [n == «3», n != «3», n >= «3», n > «3», n <= «3»] }
pipeline main() { return [f(3), f(4), f(3.0), f(none)] }`,
	`fn f(n) { return n >= «3» }
pipeline main() { return f(none) }`,
	// A condition that is not a comparison.
	`fn f(x) {
    if x { return "yes" }
    return "no"
}
pipeline main() { return [f([]), f([0]), f(none), f(0.0), f("s")] }`,
	// A while loop like CPython's benchmark.
	`fn f(n) {
    let total = 0
    let i = 0
    while i < «n» {
        total += «i»
        i += «1»
    }
    return [total, i]
}
pipeline main() { return [f(1000), f(0), f(-5)] }`,
	`fn f(n) {
    let i = 0
    let s = 0
    while i < «n» {
        i += «1»
        if i == «3» { continue }
        if i > «7» { break }
        s -= «i»
        if s < «-100» { return "early" }
    }
    return [s, i]
}
pipeline main() { return [f(5), f(100), f(2.5)] }`,
	`fn f(n) {
    let s = 0
    for i in «range(n)» {
        s += «i»
        if i == «40» { return s }
    }
    return s
}
pipeline main() { return [f(10), f(100)] }`,
	// += and -= on a local: overflow, other kinds, strings and lists.
	`pipeline main() {
    let s = 9223372036854775800
    for i in «range(10)» { s += «i» }
    return s
}`,
	`pipeline main() {
    let s = -9223372036854775800
    for i in «range(10)» { s -= «i» }
    return s
}`,
	`pipeline main() {
    let s = ""
    let t = 1.5
    let l = []
    for i in «range(3)» {
        s += «"ab"»
        t -= «i»
        l += «[i]»
    }
    return [s, t, l]
}`,
	`pipeline main() {
    let s = "a"
    let one = 1
    s += «one»
    return s
}`,
	`pipeline main() {
    let s = none
    s -= «1»
    return s
}`,
	// Range loops: strides, break, continue, return, bad bounds.
	`fn f(a, b, c) {
    let out = []
    for i in «range(a, b, c)» {
        if i == «7» { continue }
        if i > «20» { break }
        out = out + [i]
    }
    return out
}
pipeline main() { return [f(0, 10, 1), f(10, 0, -3), f(0, 100, 7), f(5, 5, 1)] }`,
	`fn first(xs, n) {
    for i in «range(n)» {
        if xs[i] == «9» { return i }
    }
    return -1
}
pipeline main() { return [first([1, 9, 9], 3), first([1, 2], 2)] }`,
	`pipeline main() {
    for i in «range(0, 10, 0)» { print(i) }
    return 0
}`,
	`pipeline main() {
    for i in «range("x")» { print(i) }
    return 0
}`,
	// Calls with locals, literals and n - 1 as arguments (calls by
	// position against calls by name: TestPositionalCallsMatchKeywordCalls).
	`fn add(a, b) { return a + b }
fn f(n) { return add(n, «n» * 2) }
pipeline main() { return [f(1), f(2.5)] }`,
	`fn g(n) { return g(n + «1») }
pipeline main() { return g(0) }`,
	`fn fib(n) {
    if n < «2» { return n }
    return fib(n - «1») + fib(n - «2»)
}
pipeline main() { return fib(15) }`,
	`fn id(x) { return x }
fn f(n) { return [id(n - «1»), id(n + «2»)] }
pipeline main() { return [f(5), f(2.5), f(-9223372036854775807)] }`,
	`fn id(x) { return x }
fn f(n) { return id(n - «2») }
pipeline main() { return f(-9223372036854775807) }`,
	`fn id(x) { return x }
fn f(n) { return id(n + «2») }
pipeline main() { return f("s") }`,
	// Bodies that only return, typed or not.
	`fn sign(n) {
    if n < «0» { return -1 }
    if n == «0» { return 0 }
    if n { return 1 }
    return none
}
fn tsign(n: int) -> int {
    if n < «0» { return -1 }
    return 1
}
pipeline main() { return [sign(-3), sign(0), sign(4), sign(0.0), tsign(-2), tsign(2)] }`,
	`fn tsign(n: int) -> int {
    if n < «0» { return -1 }
    return "pos"
}
pipeline main() { return tsign(2) }`,
	`fn f(n) {
    if n > «0» { return n }
    return n
}
pipeline main() { return f("s") }`,
	`fn h(n: int) { return n * 2 }
fn f(x) { return h(x + «0») }
pipeline main() { return f(1.5) }`,
}

// runFastPath runs src with its markers replaced as mark says.
func runFastPath(t *testing.T, src string, mark func(string) string, maxSteps int64) string {
	t.Helper()
	for {
		i := strings.Index(src, "«")
		if i < 0 {
			break
		}
		j := strings.Index(src[i:], "»") + i
		src = src[:i] + mark(src[i+len("«"):j]) + src[j+len("»"):]
	}
	main, th := load(t, src)
	th.MaxSteps = maxSteps
	v, err := main.Run(th, nil)
	if err != nil {
		return fmt.Sprintf("error %s %q at %v, stack %v", err.Kind, err.Msg, err.Pos, err.Stack)
	}
	return "value " + v.Repr()
}

// plain and parens keep every column where it was, so that positions
// in errors and stacks compare equal.
func plain(x string) string  { return " " + x + " " }
func parens(x string) string { return "(" + x + ")" }

func TestFastPathsMatchGenericPaths(t *testing.T) {
	for i, src := range fastPathPrograms {
		fast := runFastPath(t, src, plain, 0)
		generic := runFastPath(t, src, parens, 0)
		if fast != generic {
			t.Errorf("program %d:\n%s\nspecialised: %s\ngeneric:     %s", i, src, fast, generic)
		}
	}
}

// A call made by position and the same call with a keyword argument (the
// generic inline call) fail the same way at the recursion limit.
func TestPositionalCallKeepsTheRecursionLimit(t *testing.T) {
	src := `fn g(n) { return g(«n + 1») }
pipeline main() { return g(0) }`
	byName := func(x string) string { return "n=" + x }
	plain := func(x string) string { return "  " + x }
	fast := runFastPath(t, src, plain, 0)
	generic := runFastPath(t, src, byName, 0)
	if !strings.Contains(fast, "call depth exceeded 10000") || !strings.HasPrefix(fast, "error value") {
		t.Fatalf("got %s, want the recursion limit (kind value)", fast)
	}
	if fast != generic {
		t.Fatalf("positional: %s\nby name:    %s", fast, generic)
	}
}

// The step limit stops a specialised range loop, a while loop with a
// compiled condition and a positional call, at the same place as the
// generic paths.
func TestFastPathsKeepTheStepLimit(t *testing.T) {
	for _, src := range []string{
		`pipeline main() {
    let s = 0
    for i in «range(1000000)» { s += «i» }
    return s
}`,
		`pipeline main() {
    let i = 0
    while i < «1000000» { i += «1» }
    return i
}`,
		`fn fib(n) {
    if n < «2» { return n }
    return fib(n - «1») + fib(n - «2»)
}
pipeline main() { return fib(25) }`,
	} {
		fast := runFastPath(t, src, plain, 5000)
		generic := runFastPath(t, src, parens, 5000)
		if !strings.HasPrefix(fast, "error step_limit") {
			t.Errorf("%s\ngot %s, want a step_limit error", src, fast)
		}
		if fast != generic {
			t.Errorf("%s\nspecialised: %s\ngeneric:     %s", src, fast, generic)
		}
	}
}

// Ints are not boxed and plain fn calls take no memory: loops of
// 200,000 iterations and fib(20)'s 21,891 calls allocate only what a
// run of main does once.
func TestLoopsAndCallsDoNotAllocate(t *testing.T) {
	main, th := load(t, `
fn fib(n) {
    if n < 2 { return n }
    return fib(n - 1) + fib(n - 2)
}
fn add(a, b) { return a + b }
pipeline main() {
    let s = 0
    let i = 0
    for k in range(100000) { s += k }
    while i < 100000 { i = add(i, 1) }
    return s + i + fib(20)
}`)
	allocs := testing.AllocsPerRun(3, func() {
		if v, err := main.Run(th, nil); err != nil || v.AsInt() != 4999950000+100000+6765 {
			t.Fatal(err, v)
		}
	})
	if allocs > 20 {
		t.Fatalf("%.0f allocations per run", allocs)
	}
}

// A one-argument call of a fn whose body only returns runs the body
// directly after checking the argument's kind against the parameter's
// type; a keyword call goes through the generic checks. Both accept and
// reject the same values with the same errors.
func TestTypedCallsMatchGenericCalls(t *testing.T) {
	byName := func(x string) string { return "v=" + x }
	byPosition := func(x string) string { return "  " + x }
	for i, src := range []string{
		`fn f(v: float) -> float { return v }
pipeline main() { return [f(«1»), f(«2.5»)] }`,
		`fn f(v: float) -> float { return v }
pipeline main() { return f(«"x"») }`,
		`fn f(v: any) -> any { return v }
pipeline main() { return [f(«none»), f(«[1]»), f(«{"a": 1}»)] }`,
		`fn f(v: list) -> int { return len(v) }
pipeline main() { return f(«{"a": 1}») }`,
		`fn f(v: map) -> list { return keys(v) }
pipeline main() { return f(«{"a": 1}») }`,
		`fn f(v: int) -> string { return v }
pipeline main() { return f(«1») }`,
		`fn f(v: int) -> none { return none }
pipeline main() { return f(«1») }`,
		`fn f(v: string) -> bool {
    if v == "" { return false }
    return v
}
pipeline main() { return [f(«""»), f(«"s"»)] }`,
		`fn f(v: function) -> int { return v(2) }
fn sq(x) { return x * x }
pipeline main() { return [f(«sq»), f(«len»)] }`,
		`fn f(v: function) -> int { return 1 }
pipeline main() { return f(«3») }`,
	} {
		fast := runFastPath(t, src, byPosition, 0)
		generic := runFastPath(t, src, byName, 0)
		if fast != generic {
			t.Errorf("program %d:\n%s\npositional: %s\nby name:    %s", i, src, fast, generic)
		}
	}
}

// A call that gives every parameter by position (inlineCallPositional:
// argument i straight into slot i) and the same call with its last
// argument by name (the generic inline call, which binds by name and
// fills defaults) give the same value or the same error.
func TestPositionalCallsMatchKeywordCalls(t *testing.T) {
	byName := func(x string) string { return "b=" + x }
	byPosition := func(x string) string { return "  " + x }
	for i, src := range []string{
		`fn sub(a, b) { return a - b }
fn f(n) { return [sub(n, «1»), sub(1, «n»), sub(n * 2, «n + 1»)] }
pipeline main() { return [f(5), f(2.5)] }`,
		`fn three(a, c, b) { return [a, b, c] }
pipeline main() { return three(1, 2, «3») }`,
		`fn d(a, b = 10) { return a - b }
pipeline main() { return [d(5, «3»), d(5)] }`,
		`fn walk(n, b) {
    if n == 0 { return b }
    let k = n * 2
    return walk(n - 1, «b + k»)
}
pipeline main() { return walk(100, 0) }`,
		`fn h(a: int, b: int) -> int { return a * b }
pipeline main() { return h(2, «"x"») }`,
		`fn h(a: int, b: int) -> int { return a * b }
pipeline main() { return [h(2, «3»), h(-4, «3»)] }`,
		`fn g(a, b) { return g(a, «b + 1») }
pipeline main() { return g(0, 0) }`,
	} {
		fast := runFastPath(t, src, byPosition, 0)
		generic := runFastPath(t, src, byName, 0)
		if fast != generic {
			t.Errorf("program %d:\n%s\npositional: %s\nby name:    %s", i, src, fast, generic)
		}
	}
}

// A fn body that only returns (ifs that each return, then a return) runs
// as one expression (returnExpr); the same body behind a statement of
// another kind runs statement by statement. Both give the same value or
// the same error. The marker opens each body, on the line of its brace,
// so that no other position moves.
func TestReturnBodiesMatchStatementBodies(t *testing.T) {
	asExpr := func(string) string { return "" }
	asStmts := func(string) string { return " let pad = 0" }
	for i, src := range []string{
		`fn sign(n) {«»
    if n < 0 { return -1 }
    if n == 0 { return 0 }
    if n { return 1 }
    return none
}
pipeline main() { return [sign(-3), sign(0), sign(4), sign(0.0), sign(""), sign(-2.5)] }`,
		`fn pick(a, b) {«»
    if a > b { return a }
    if [a, b] == [1, 1] { return "ones" }
    return b
}
pipeline main() { return [pick(1, 2), pick(3, 2), pick(1, 1), pick("b", "a")] }`,
		`fn tsign(n: int) -> int {«»
    if n < 0 { return -1 }
    return "pos"
}
pipeline main() { return [tsign(-1), tsign(2)] }`,
		`fn f(n) {«»
    if n > 0 { return n }
    return n
}
pipeline main() { return f("s") }`,
		`fn fib(n) {«»
    if n < 2 { return n }
    return fib(n - 1) + fib(n - 2)
}
pipeline main() { return [fib(15), fib(1.5)] }`,
		`fn g(n) {«»
    return g(n + 1)
}
pipeline main() { return g(0) }`,
	} {
		fast := runFastPath(t, src, asExpr, 0)
		generic := runFastPath(t, src, asStmts, 0)
		if fast != generic {
			t.Errorf("program %d:\n%s\nas an expression: %s\nas statements:    %s", i, src, fast, generic)
		}
	}
}
