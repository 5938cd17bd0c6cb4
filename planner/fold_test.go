package planner

import (
	"fmt"
	"math"
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
)

// foldCases are expressions of constants, with the edge cases where a
// copy of exec's arithmetic would drift: overflow, division by zero,
// mixed int and float, big ints compared exactly, string repetition,
// float formatting in str(), ties in max, indexing by characters.
var foldCases = []string{
	// ints
	"1 + 2", "9223372036854775807 + 1", "-9223372036854775807 - 2", "3037000500 * 3037000500",
	"-3037000499 * 3037000499", "(-9223372036854775807 - 1) * -1", "-(-9223372036854775807 - 1)",
	"7 / 2", "1 / 0", "-3 // 2", "7 // -2", "1 // 0", "-3 % 2", "7 % -3", "1 % 0",
	"(-9223372036854775807 - 1) % -1", "(-9223372036854775807 - 1) // -1",
	"2 ** 62", "2 ** 63", "2 ** -1", "0 ** -1", "1 ** 100", "(-1) ** 65", "-2 ** 2", "3 ** 0",
	// floats
	"0.1 + 0.2", "1 + 2.5", "1.5 // 0.0", "1.5 % 0.0", "1.5 / 0.0", "-7.5 % 2", "7.5 // -2",
	"(-8.0) ** 0.5", "0.0 ** -1", "2.0 ** 0.5", "1e308 * 10", "-0.0", "+1.5", "-(1.5)",
	// strings and other types
	`"ab" * 3`, `3 * "ab"`, `"ab" * -1`, `"ab" * 0`, `"a" + "b"`, `"a" + 1`, `"x" % 2`,
	`-"a"`, `+"a"`, `true + 1`, `none + 1`, `"ab" * 40000`,
	// comparisons
	"1 < 2.5", "2 <= 2.0", "9007199254740993 == 9007199254740992", "9007199254740993 > 9007199254740992",
	`"a" < "b"`, `"a" in "cat"`, `"a" not in "cat"`, `1 in "abc"`, `1 == "1"`, `true == 1`,
	"true < false", "none == none", `1 < "a"`, "1 < 2 < 3", "3 > 2 > 2",
	`float("nan") == float("nan")`, `float("nan") != float("nan")`, `float("nan") < 1`,
	// truth
	"not 0", `not ""`, "not 0.0", "not none", `1 if 0 else 2`, `0 or "x"`, "1 and 0.0",
	`float("nan") and 1`,
	// built-ins
	"abs(-9223372036854775807 - 1)", "abs(-2.5)", "abs(-3)", "int(2.9)", "int(-2.9)", "int(1e19)",
	`int("12")`, `int("x")`, "int(true)", "str(1.5)", "str(1e20)", "str(0.1 + 0.2)", "str(none)",
	"str(true)", "str(-0.0)", "float(3)", `float("inf")`, "max(1, 1.0)", "min(1.0, 1)", "min(2, 1.0)",
	`max("a", "b")`, "max(1)",
	// indexing
	`"héllo"[1]`, `"abc"[-1]`, `"abc"[5]`, `"abc"[1.0]`,
}

// mayStayUnknown are cases the planner leaves unknown on purpose: a
// string longer than maxFoldedString.
var mayStayUnknown = map[string]bool{`"ab" * 40000`: true, `("x" * 40000) + ("x" * 40000)`: true}

// TestFoldingMatchesExec checks that every constant the planner folds is
// what exec computes for the same expression, and that what is an error
// at run time is not folded.
func TestFoldingMatchesExec(t *testing.T) {
	for _, src := range foldCases {
		t.Run(src, func(t *testing.T) {
			prog := compileSrc(t, "pipeline main() {\n    return "+src+"\n}\n")
			want, runErr := runMain(t, prog)
			got := planReturn(prog)
			if runErr != nil {
				if got.known {
					t.Fatalf("planner folded %s; exec fails: %v", show(got.k), runErr)
				}
				return
			}
			k, ok := fromValue(want)
			if !ok {
				t.Fatalf("exec returned %s, not a constant", want.TypeName())
			}
			if !got.known {
				if !mayStayUnknown[src] {
					t.Fatalf("planner did not fold it; exec computes %s", show(k))
				}
				return
			}
			if !sameFolded(got.k, k) {
				t.Fatalf("planner folded %s; exec computes %s", show(got.k), show(k))
			}
		})
	}
}

func compileSrc(t *testing.T, src string) *compiler.Program {
	t.Helper()
	f, err := lang.Parse("fold.rayflow", src)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(f, exec.Universe(nil))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func runMain(t *testing.T, cp *compiler.Program) (exec.Value, error) {
	t.Helper()
	th := &exec.Thread{Name: "fold"}
	prog, err := exec.Load(th, cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	main, _ := prog.Pipeline("main")
	v, runErr := main.Run(th, nil)
	if runErr != nil {
		return v, runErr
	}
	return v, nil
}

// planReturn is what the planner knows of main's return value.
func planReturn(prog *compiler.Program) *val {
	f := prog.Pipelines[0]
	w := &walker{prog: prog, opts: Options{}.withDefaults(), p: &Pipeline{Name: f.Name, Func: f},
		counts: map[NodeKind]int{}, consts: map[*compiler.Global]*val{}, constBusy: map[*compiler.Global]bool{}}
	fr := &frame{fn: f, slots: make([]*val, f.NumSlots)}
	w.block(f.Body.Stmts, fr)
	return fr.ret
}

// sameFolded compares constants exactly: same type, same bits for
// floats (so -0.0 is not 0.0), nan equal to nan.
func sameFolded(a, b any) bool {
	x, ok1 := a.(float64)
	y, ok2 := b.(float64)
	if ok1 && ok2 {
		return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
	}
	return a == b
}

// show prints a constant with its Go type, cut short.
func show(k any) string {
	s := fmt.Sprintf("%T %#v", k, k)
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

// A string the planner would build past maxFoldedString stays unknown,
// whether it grows by repetition or by concatenation (doubling a string
// in an unrolled loop made `rayflow plan` run out of memory).
func TestFoldingBoundsStrings(t *testing.T) {
	for _, src := range []string{
		`"ab" * 40000`,
		`("x" * 40000) + ("x" * 40000)`,
	} {
		if got := planReturn(compileSrc(t, "pipeline main() {\n    return "+src+"\n}\n")); got.known {
			t.Errorf("%s: folded a string of %d bytes, over the bound %d", src, len(show(got.k)), maxFoldedString)
		}
	}
}
