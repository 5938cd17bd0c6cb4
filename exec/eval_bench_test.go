package exec_test

import (
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
)

// load compiles src and returns its main pipeline, ready to run.
func load(tb testing.TB, src string) (*exec.Function, *exec.Thread) {
	tb.Helper()
	f, err := lang.Parse("bench.rayflow", src)
	if err != nil {
		tb.Fatal(err)
	}
	cp, err := compiler.Compile(f, exec.Universe(nil))
	if err != nil {
		tb.Fatal(err)
	}
	th := &exec.Thread{Name: "bench"}
	prog, err := exec.Load(th, cp, nil)
	if err != nil {
		tb.Fatal(err)
	}
	main, _ := prog.Pipeline("")
	return main, th
}

const fibSrc = `
fn fib(n) {
    if n < 2 { return n }
    return fib(n - 1) + fib(n - 2)
}
pipeline main() { return fib(27) }
`

// BenchmarkFib27 is fib(27) as a plain fn, for comparison with CPython
// (bench/peers/cpython_eval.py).
func BenchmarkFib27(b *testing.B) {
	main, th := load(b, fibSrc)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 196418 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkFib27Typed is fib(27) with its parameter and result typed.
func BenchmarkFib27Typed(b *testing.B) {
	main, th := load(b, `
fn fib(n: int) -> int {
    if n < 2 { return n }
    return fib(n - 1) + fib(n - 2)
}
pipeline main() { return fib(27) }
`)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 196418 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkSumLoop sums 10 million ints in a for loop.
func BenchmarkSumLoop(b *testing.B) {
	main, th := load(b, `
pipeline main() {
    let s = 0
    for i in range(10000000) { s += i }
    return s
}`)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 49999995000000 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkWhileSum is CPython's loop in bench/peers/cpython_eval.py
// written the same way: a while loop over two locals in a plain fn.
func BenchmarkWhileSum(b *testing.B) {
	main, th := load(b, `
fn sum_loop(n) {
    let total = 0
    let i = 0
    while i < n {
        total += i
        i += 1
    }
    return total
}
pipeline main() { return sum_loop(10000000) }`)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 49999995000000 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkCalls2 is a million calls of a two-argument fn in a loop.
func BenchmarkCalls2(b *testing.B) {
	main, th := load(b, `
fn add(a, b) { return a + b }
fn run(n) {
    let s = 0
    let i = 0
    while i < n {
        s = add(s, i)
        i += 1
    }
    return s
}
pipeline main() { return run(1000000) }`)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 499999500000 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkIntOps is a loop of *, // and % on ints.
func BenchmarkIntOps(b *testing.B) {
	main, th := load(b, `
pipeline main() {
    let s = 0
    for i in range(1000000) { s += i * 3 // 2 % 7 }
    return s
}`)
	for i := 0; i < b.N; i++ {
		v, err := main.Run(th, nil)
		if err != nil || v.AsInt() != 2999995 {
			b.Fatal(err, v)
		}
	}
}
