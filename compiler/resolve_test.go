package compiler_test

import (
	"testing"

	"github.com/rayflow/rayflow/lang"
)

// TestResolverReachesEveryName puts names in every position an
// expression can take and checks that the resolver gave each a Ref.
func TestResolverReachesEveryName(t *testing.T) {
	p, err := compile(t, `
const K = 2
fn g(a, b = K) { return a }
task sq(x) { return x * x }
actor Acc(start) {
    let total = start
    method add(v) { total += v
        return total }
}
pipeline main(n = K) {
    let xs = [n, -n, +n, n ** K, not n, n if n > K else K]
    let m = {K: xs[n:n:K], "k": g(n, b = n)}
    let ys = [x + y for x in xs if x > n for y in range(x) if y < K]
    let acc = Acc(n)
    acc.add(sq(n))
    xs[n] = m[K]
    while n < K and n != K or n in xs { n += 1 }
    try { print(ys) } catch e { print(e) }
    return math.sqrt(n)
}
`)
	if err != nil {
		t.Fatal(err)
	}
	names := 0
	lang.Walk(p.File, func(n lang.Node) bool {
		if pr, ok := n.(*lang.Primary); ok && pr.Name != "" {
			names++
			if pr.Ref == nil {
				t.Errorf("%d:%d: %s was not resolved", pr.Pos.Line, pr.Pos.Column, pr.Name)
			}
		}
		return true
	})
	if names != 58 {
		t.Errorf("found %d names, want 58", names)
	}
}
