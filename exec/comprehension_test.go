package exec_test

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// A comprehension of one clause with no condition, over a range or a
// list, makes its list at the length it will have: a run of 10,000
// elements allocates as often as a run of 10 (no copy per doubling;
// issue 15: [f(i) for i in range(n)] holding a million futures).
func TestComprehensionMakesItsListOnce(t *testing.T) {
	main, th := load(t, `
pipeline main(n: int) {
    let xs = [i * 2 for i in range(n)]
    let ys = [x + 1 for x in xs]
    return len(ys) + ys[n - 1]
}`)
	allocs := func(n int64) float64 {
		return testing.AllocsPerRun(3, func() {
			v, err := main.Run(th, []exec.Value{exec.Int(n)})
			if err != nil || v.AsInt() != n+2*(n-1)+1 {
				t.Fatal(err, v)
			}
		})
	}
	small, large := allocs(10), allocs(10000)
	if large != small {
		t.Fatalf("a comprehension of 10,000 allocates %.0f times, of 10 %.0f times", large, small)
	}
}

// Presizing changes no result: ranges at the ends of the ints, empty
// and backward ranges, conditions and nested clauses; and a range far
// longer than the list could ever be fails at its first element, not at
// making the list.
func TestComprehensionResultsUnchanged(t *testing.T) {
	main, th := load(t, `
pipeline main() {
    let top = [i for i in range(9223372036854775805, 9223372036854775807)]
    let bottom = [i for i in range(-9223372036854775807, -9223372036854775807 - 1, -1)]
    let back = [i for i in range(5, 0, -2)]
    let empty = [i for i in range(3, 3)]
    let odd = [i for i in range(7) if i % 2 == 1]
    let pairs = [i * 10 + j for i in range(3) for j in range(i)]
    let chars = [c for c in "héllo"]
    return [top, bottom, back, empty, odd, pairs, chars]
}`)
	v, err := main.Run(th, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `[[9223372036854775805, 9223372036854775806], [-9223372036854775807], [5, 3, 1], [], [1, 3, 5], [10, 20, 21], ["h", "é", "l", "l", "o"]]`
	if got := v.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	huge, th := load(t, `
pipeline main() { return [[][i] for i in range(1000000000000)] }`)
	if _, err := huge.Run(th, nil); err == nil || !strings.Contains(err.Error(), "index") {
		t.Fatalf("got %v, want the index error of the first element", err)
	}
}
