package stdlib

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func stream(t *testing.T, g exec.Value, n int) []string {
	out := make([]string, 0, 4*n)
	for i := 0; i < n; i++ {
		out = append(out,
			mustMethod(t, g, "float").Repr(),
			mustMethod(t, g, "int", I(1), I(6)).Repr(),
			mustMethod(t, g, "normal", kw("mean", I(5)), kw("std", F(0.5))).Repr(),
			mustMethod(t, g, "choice", L(S("a"), S("b"), S("c"))).Repr())
	}
	return out
}

func TestRandomDeterminism(t *testing.T) {
	r := RandomModule()
	a := stream(t, mustCall(t, r, "new", I(42)), 50)
	b := stream(t, mustCall(t, RandomModule(), "new", I(42)), 50)
	c := stream(t, mustCall(t, r, "new", I(43)), 50)
	same, diff := true, false
	for i := range a {
		same = same && a[i] == b[i]
		diff = diff || a[i] != c[i]
	}
	if !same {
		t.Error("the same seed gave different streams")
	}
	if !diff {
		t.Error("different seeds gave the same stream")
	}
	// The stream is fixed across machines and Go versions of math/rand/v2's PCG.
	g := mustCall(t, r, "new", I(1))
	if got := mustMethod(t, g, "float").AsFloat(); got < 0 || got >= 1 {
		t.Errorf("float() = %v", got)
	}
	if s, _ := g.AsObject().Attr("seed"); s.AsInt() != 1 {
		t.Errorf("seed field = %s", s.Repr())
	}
	if s, _ := mustCall(t, r, "new").AsObject().Attr("seed"); !s.IsNone() {
		t.Errorf("unseeded seed field = %s", s.Repr())
	}
	if g.TypeName() != "rng" {
		t.Errorf("type name %s", g.TypeName())
	}
}

func TestRandomFlags(t *testing.T) {
	r := RandomModule()
	if b := fn(t, r, "new").(*exec.Builtin); !b.NondeterministicWithoutArgs || b.Nondeterministic {
		t.Error("random.new flags")
	}
	for _, n := range []string{"float", "int", "normal", "choice", "shuffle", "sample"} {
		if !fn(t, r, n).(*exec.Builtin).Nondeterministic {
			t.Errorf("random.%s is not marked nondeterministic", n)
		}
	}
}

func TestRandomRanges(t *testing.T) {
	g := mustCall(t, RandomModule(), "new", I(7))
	seen := map[int64]bool{}
	for i := 0; i < 1000; i++ {
		v := mustMethod(t, g, "int", I(-2), I(2)).AsInt()
		if v < -2 || v > 2 {
			t.Fatalf("int(-2, 2) = %d", v)
		}
		seen[v] = true
	}
	if len(seen) != 5 {
		t.Errorf("int(-2, 2) hit only %v", seen)
	}
	if v := mustMethod(t, g, "int", I(-1<<63), I(1<<63-1)); v.Kind() != exec.IntKind {
		t.Error("full range")
	}
	_, err := method(t, g, "int", I(3), I(2))
	wantErr(t, err, exec.KindValue, "empty range")
	_, err = method(t, g, "choice", L())
	wantErr(t, err, exec.KindIndex, "empty list")
	_, err = method(t, g, "sample", L(I(1)), I(2))
	wantErr(t, err, exec.KindValue, "sample size 2")

	// shuffle permutes its argument in place, as Python's does, and
	// returns it.
	orig := L(I(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8))
	sh := mustMethod(t, g, "shuffle", orig)
	if len(sh.AsList().Elems) != 8 || sh.AsList() != orig.AsList() {
		t.Errorf("shuffle = %s, want the same list permuted", sh.Repr())
	}
	sum := int64(0)
	for _, e := range sh.AsList().Elems {
		sum += e.AsInt()
	}
	if sum != 36 {
		t.Errorf("shuffle lost elements: %s", sh.Repr())
	}
	s := mustMethod(t, g, "sample", orig, I(3))
	if len(s.AsList().Elems) != 3 {
		t.Errorf("sample = %s", s.Repr())
	}
	seen2 := map[int64]bool{}
	for _, e := range s.AsList().Elems {
		if seen2[e.AsInt()] {
			t.Errorf("sample repeated an element: %s", s.Repr())
		}
		seen2[e.AsInt()] = true
	}
	// Mean and spread of normal().
	var sumN, sumSq float64
	const n = 20000
	for i := 0; i < n; i++ {
		x := mustMethod(t, g, "normal", F(1), F(2)).AsFloat()
		sumN += x
		sumSq += x * x
	}
	mean := sumN / n
	std := sumSq/n - mean*mean
	if mean < 0.9 || mean > 1.1 || std < 3.6 || std > 4.4 {
		t.Errorf("normal(1, 2): mean %v variance %v", mean, std)
	}
	_, err = call(t, RandomModule(), "new", exec.None)
	wantErr(t, err, exec.KindType, "seed must be an int, not none")
	_, err = call(t, RandomModule(), "new", S("x"))
	wantErr(t, err, exec.KindType, "seed must be an int")
	if v := mustCall(t, RandomModule(), "int", I(1), I(1)); v.AsInt() != 1 {
		t.Error("random.int(1, 1)")
	}
}

// A generator crosses the wire in its state: the decoded copy draws what
// the original draws next.
func TestGeneratorEncodes(t *testing.T) {
	for _, g := range []*Generator{NewGenerator(7), NewUnseededGenerator()} {
		g.r.Int64() // not at its start
		data, err := exec.Encode(nil, exec.ObjectValue(g))
		if err != nil {
			t.Fatal(err)
		}
		v, err := exec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		decoded := v.AsObject().(*Generator)
		if a, b := g.r.Int64(), decoded.r.Int64(); a != b || decoded.seeded != g.seeded || decoded.seed != g.seed {
			t.Fatalf("the decoded generator draws %d, the original %d", b, a)
		}
	}
}
