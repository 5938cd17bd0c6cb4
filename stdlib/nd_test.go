package stdlib

import (
	"math"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestNDConstruct(t *testing.T) {
	nd := NDModule()
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"zeros", []any{L(I(2), I(3))}, "tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])"},
		{"zeros", []any{I(2)}, "tensor([0.0, 0.0])"},
		{"zeros", []any{L()}, "tensor(0.0)"},
		{"ones", []any{L(I(2))}, "tensor([1.0, 1.0])"},
		{"full", []any{L(I(1), I(2)), F(2.5)}, "tensor([[2.5, 2.5]])"},
		{"arange", []any{I(4)}, "tensor([0.0, 1.0, 2.0, 3.0])"},
		{"arange", []any{I(1), I(2), F(0.25)}, "tensor([1.0, 1.25, 1.5, 1.75])"},
		{"arange", []any{I(3), I(0), I(-1)}, "tensor([3.0, 2.0, 1.0])"},
		{"arange", []any{I(3), I(0)}, "tensor([])"},
		{"linspace", []any{I(0), I(1), I(3)}, "tensor([0.0, 0.5, 1.0])"},
		{"eye", []any{I(2)}, "tensor([[1.0, 0.0], [0.0, 1.0]])"},
		{"array", []any{L(L(I(1), F(2)), L(exec.True, I(4)))}, "tensor([[1.0, 2.0], [1.0, 4.0]])"},
		{"array", []any{L(tensor([]int{2}, 1, 2), tensor([]int{2}, 3, 4))}, "tensor([[1.0, 2.0], [3.0, 4.0]])"},
		{"array", []any{F(3)}, "tensor(3.0)"},
		{"array", []any{L()}, "tensor([])"},
	}
	for _, tt := range tests {
		got := mustCall(t, nd, tt.name, tt.args...)
		if got.Repr() != tt.want {
			t.Errorf("nd.%s%v = %s, want %s", tt.name, tt.args, got.Repr(), tt.want)
		}
	}
	errs := []struct {
		name string
		args []any
		kind string
		msg  string
	}{
		{"zeros", []any{L(I(-1))}, exec.KindValue, "bad dimension -1"},
		{"zeros", []any{L(I(1<<20), I(1<<20))}, exec.KindValue, "more than"},
		{"zeros", []any{L(F(1))}, exec.KindType, "list of ints"},
		{"array", []any{L(L(I(1), I(2)), L(I(3)))}, exec.KindValue, "ragged"},
		{"array", []any{L(L(I(1)), I(3))}, exec.KindValue, "ragged"},
		{"array", []any{L(S("a"))}, exec.KindType, "found string"},
		{"arange", []any{I(0), I(1), I(0)}, exec.KindValue, "step must not be zero"},
		{"arange", []any{F(1e300)}, exec.KindValue, "more than"},
	}
	for _, tt := range errs {
		_, err := call(t, nd, tt.name, tt.args...)
		wantErr(t, err, tt.kind, tt.msg)
	}
}

func TestNDArith(t *testing.T) {
	m := tensor([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	row := tensor([]int{3}, 10, 20, 30)
	col := tensor([]int{2, 1}, 100, 200)
	tests := []struct {
		op   byte
		a, b exec.Value
		want string
	}{
		{'+', m, F(1), "tensor([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])"},
		{'-', I(1), m, "tensor([[0.0, -1.0, -2.0], [-3.0, -4.0, -5.0]])"},
		{'*', m, m, "tensor([[1.0, 4.0, 9.0], [16.0, 25.0, 36.0]])"},
		{'/', m, I(2), "tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]])"},
		{'+', m, row, "tensor([[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]])"},
		{'-', row, m, "tensor([[9.0, 18.0, 27.0], [6.0, 15.0, 24.0]])"},
		{'+', m, col, "tensor([[101.0, 102.0, 103.0], [204.0, 205.0, 206.0]])"},
		{'*', col, row, "tensor([[1000.0, 2000.0, 3000.0], [2000.0, 4000.0, 6000.0]])"},
		{'+', m, tensor(nil, 1), "tensor([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])"},
		{'+', tensor([]int{1}, 5), row, "tensor([15.0, 25.0, 35.0])"},
		{'/', tensor([]int{2}, 1, -1), F(0), "tensor([inf, -inf])"},
		{'+', I(1), F(2), "3.0"},
	}
	for _, tt := range tests {
		got, err := Arith(tt.op, tt.a, tt.b)
		if err != nil {
			t.Errorf("%s %c %s: %v", tt.a.Repr(), tt.op, tt.b.Repr(), err)
			continue
		}
		if got.Repr() != tt.want {
			t.Errorf("%s %c %s = %s, want %s", tt.a.Repr(), tt.op, tt.b.Repr(), got.Repr(), tt.want)
		}
	}
	// Inputs are never changed.
	if m.Repr() != "tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])" || row.Repr() != "tensor([10.0, 20.0, 30.0])" {
		t.Error("Arith changed an operand")
	}
	_, err := Arith('+', tensor([]int{3}, 1, 2, 3), tensor([]int{4}, 1, 2, 3, 4))
	wantErr(t, err, exec.KindValue, "shapes [3] and [4]")
	_, err = Arith('*', m, S("x"))
	wantErr(t, err, exec.KindType, "tensor and string")
	_, err = Arith('%', m, I(1))
	wantErr(t, err, exec.KindType, "unsupported operator")
	neg, _ := Neg(row)
	if neg.Repr() != "tensor([-10.0, -20.0, -30.0])" {
		t.Errorf("Neg = %s", neg.Repr())
	}

	// The module functions give the same results, plus comparisons.
	nd := NDModule()
	cmp := []struct {
		name string
		a, b exec.Value
		want string
	}{
		{"add", m, row, "tensor([[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]])"},
		{"sub", m, F(1), "tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])"},
		{"mul", F(2), row, "tensor([20.0, 40.0, 60.0])"},
		{"div", row, row, "tensor([1.0, 1.0, 1.0])"},
		{"gt", m, I(3), "tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])"},
		{"lt", m, I(3), "tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])"},
		{"eq", m, tensor([]int{3}, 1, 5, 3), "tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])"},
		{"maximum", m, I(4), "tensor([[4.0, 4.0, 4.0], [4.0, 5.0, 6.0]])"},
		{"minimum", m, row, "tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])"},
		{"pow", row, I(2), "tensor([100.0, 400.0, 900.0])"},
	}
	for _, tt := range cmp {
		got := mustCall(t, nd, tt.name, tt.a, tt.b)
		if got.Repr() != tt.want {
			t.Errorf("nd.%s(%s, %s) = %s, want %s", tt.name, tt.a.Repr(), tt.b.Repr(), got.Repr(), tt.want)
		}
	}
	_, err = call(t, nd, "add", tensor([]int{2, 3}), tensor([]int{2}, 1, 2))
	wantErr(t, err, exec.KindValue, "nd.add: shapes [2, 3] and [2] do not match")
}

func TestNDGeneralBroadcast(t *testing.T) {
	// [2, 1, 3] + [4, 1] -> [2, 4, 3], checked against a naive loop.
	a := &exec.Tensor{Shape: []int{2, 1, 3}, Data: []float64{1, 2, 3, 4, 5, 6}}
	b := &exec.Tensor{Shape: []int{4, 1}, Data: []float64{10, 20, 30, 40}}
	got, err := Arith('+', exec.TensorValue(a), exec.TensorValue(b))
	if err != nil {
		t.Fatal(err)
	}
	g := got.AsTensor()
	if shapeStr(g.Shape) != "[2, 4, 3]" {
		t.Fatalf("shape %s", shapeStr(g.Shape))
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 4; j++ {
			for k := 0; k < 3; k++ {
				want := a.Data[i*3+k] + b.Data[j]
				if g.Data[(i*4+j)*3+k] != want {
					t.Fatalf("[%d %d %d] = %v, want %v", i, j, k, g.Data[(i*4+j)*3+k], want)
				}
			}
		}
	}
}

func TestNDReduce(t *testing.T) {
	nd := NDModule()
	m := tensor([]int{2, 3}, 1, 5, 3, 4, 2, 6)
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"sum", []any{m}, "21.0"},
		{"sum", []any{m, kw("axis", I(0))}, "tensor([5.0, 7.0, 9.0])"},
		{"sum", []any{m, kw("axis", I(1))}, "tensor([9.0, 12.0])"},
		{"sum", []any{m, kw("axis", I(-1))}, "tensor([9.0, 12.0])"},
		{"mean", []any{m}, "3.5"},
		{"mean", []any{m, kw("axis", I(0))}, "tensor([2.5, 3.5, 4.5])"},
		{"max", []any{m}, "6.0"},
		{"min", []any{m, kw("axis", I(1))}, "tensor([1.0, 2.0])"},
		{"argmax", []any{m}, "5"},
		{"argmax", []any{tensor([]int{3}, 1, 9, 9)}, "1"},
		{"argmax", []any{m, kw("axis", I(1))}, "[1, 2]"},
		{"argmin", []any{m, kw("axis", I(0))}, "[0, 1, 0]"},
		{"var", []any{tensor([]int{4}, 1, 2, 3, 4)}, "1.25"},
		{"var", []any{tensor([]int{4}, 1, 2, 3, 4), kw("ddof", I(1))}, "1.6666666666666667"},
		{"std", []any{tensor([]int{2}, 1, 3)}, "1.0"},
		{"prod", []any{m}, "720.0"},
		{"sum", []any{tensor([]int{0})}, "0.0"},
		{"max", []any{tensor([]int{3}, 1, math.NaN(), 2)}, "nan"},
	}
	for _, tt := range tests {
		got := mustCall(t, nd, tt.name, tt.args...)
		if got.Repr() != tt.want {
			t.Errorf("nd.%s%v = %s, want %s", tt.name, tt.args, got.Repr(), tt.want)
		}
	}
	_, err := call(t, nd, "mean", tensor([]int{0}))
	wantErr(t, err, exec.KindValue, "empty")
	_, err = call(t, nd, "sum", m, kw("axis", I(2)))
	wantErr(t, err, exec.KindIndex, "axis 2 is out of range")
}

func TestNDLinalg(t *testing.T) {
	nd := NDModule()
	a := tensor([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := tensor([]int{3, 2}, 7, 8, 9, 10, 11, 12)
	v3 := tensor([]int{3}, 1, 0, -1)
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"dot", []any{v3, tensor([]int{3}, 2, 3, 4)}, "-2.0"},
		{"dot", []any{a, v3}, "tensor([-2.0, -2.0])"},
		{"dot", []any{tensor([]int{2}, 1, 1), a}, "tensor([5.0, 7.0, 9.0])"},
		{"dot", []any{a, b}, "tensor([[58.0, 64.0], [139.0, 154.0]])"},
		{"dot", []any{F(2), v3}, "tensor([2.0, 0.0, -2.0])"},
		{"matmul", []any{a, b}, "tensor([[58.0, 64.0], [139.0, 154.0]])"},
		{"outer", []any{tensor([]int{2}, 1, 2), v3}, "tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]])"},
		{"transpose", []any{a}, "tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])"},
		{"norm", []any{tensor([]int{2}, 3, 4)}, "5.0"},
	}
	for _, tt := range tests {
		got := mustCall(t, nd, tt.name, tt.args...)
		if got.Repr() != tt.want {
			t.Errorf("nd.%s = %s, want %s", tt.name, got.Repr(), tt.want)
		}
	}
	if n := mustCall(t, nd, "norm", tensor([]int{2}, 3e200, 4e200)).AsFloat(); math.Abs(n/5e200-1) > 1e-15 {
		t.Errorf("norm without overflow = %v", n)
	}
	_, err := call(t, nd, "dot", tensor([]int{3}, 1, 2, 3), tensor([]int{4}, 1, 2, 3, 4))
	wantErr(t, err, exec.KindValue, "nd.dot: shapes [3] and [4] do not match")
	_, err = call(t, nd, "matmul", a, a)
	wantErr(t, err, exec.KindValue, "nd.matmul: shapes [2, 3] and [2, 3] do not match")
}

func TestNDShapes(t *testing.T) {
	nd := NDModule()
	a := tensor([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"shape", []any{a}, "[2, 3]"},
		{"size", []any{a}, "6"},
		{"ndim", []any{a}, "2"},
		{"reshape", []any{a, L(I(3), I(2))}, "tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])"},
		{"reshape", []any{a, L(I(-1))}, "tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])"},
		{"reshape", []any{a, L(I(3), I(-1))}, "tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])"},
		{"flatten", []any{a}, "tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])"},
		{"tolist", []any{a}, "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]"},
		{"tolist", []any{tensor(nil, 2)}, "2.0"},
		{"get", []any{a, I(1)}, "tensor([4.0, 5.0, 6.0])"},
		{"get", []any{a, I(1), I(-1)}, "6.0"},
		{"row", []any{a, I(-2)}, "tensor([1.0, 2.0, 3.0])"},
		{"item", []any{tensor([]int{1, 1}, 7)}, "7.0"},
		{"slice", []any{a, I(1), I(5)}, "tensor([[4.0, 5.0, 6.0]])"},
		{"set", []any{a, L(I(0), I(1)), F(9)}, "tensor([[1.0, 9.0, 3.0], [4.0, 5.0, 6.0]])"},
		{"set", []any{a, I(1), tensor([]int{3}, 7, 8, 9)}, "tensor([[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]])"},
		{"concat", []any{L(a, a)}, "tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])"},
		{"concat", []any{L(a, tensor([]int{2, 1}, 0, 0)), kw("axis", I(1))}, "tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 6.0, 0.0]])"},
		{"stack", []any{L(tensor([]int{2}, 1, 2), tensor([]int{2}, 3, 4))}, "tensor([[1.0, 2.0], [3.0, 4.0]])"},
		{"stack", []any{L(tensor([]int{2}, 1, 2), tensor([]int{2}, 3, 4)), kw("axis", I(1))}, "tensor([[1.0, 3.0], [2.0, 4.0]])"},
		{"zeros_like", []any{a}, "tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])"},
		{"ones_like", []any{tensor([]int{2}, 5, 5)}, "tensor([1.0, 1.0])"},
		{"clip", []any{a, I(2), I(4)}, "tensor([[2.0, 2.0, 3.0], [4.0, 4.0, 4.0]])"},
		{"clip", []any{a, exec.None, I(2)}, "tensor([[1.0, 2.0, 2.0], [2.0, 2.0, 2.0]])"},
		{"abs", []any{tensor([]int{2}, -1, 2)}, "tensor([1.0, 2.0])"},
		{"sqrt", []any{tensor([]int{2}, 4, 9)}, "tensor([2.0, 3.0])"},
		{"exp", []any{tensor([]int{1}, 0)}, "tensor([1.0])"},
		{"log", []any{tensor([]int{1}, 1)}, "tensor([0.0])"},
		{"tanh", []any{F(0)}, "0.0"},
		{"softmax", []any{tensor([]int{2}, 1, 1)}, "tensor([0.5, 0.5])"},
		{"allclose", []any{a, a}, "true"},
	}
	for _, tt := range tests {
		got := mustCall(t, nd, tt.name, tt.args...)
		if got.Repr() != tt.want {
			t.Errorf("nd.%s = %s, want %s", tt.name, got.Repr(), tt.want)
		}
	}
	if a.Repr() != "tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])" {
		t.Errorf("an nd function changed its argument: %s", a.Repr())
	}
	errs := []struct {
		name string
		args []any
		kind string
		msg  string
	}{
		{"reshape", []any{a, L(I(4))}, exec.KindValue, "cannot reshape a tensor of shape [2, 3] (6 elements) into [4]"},
		{"reshape", []any{a, L(I(4), I(-1))}, exec.KindValue, "cannot reshape"},
		{"get", []any{a, I(2)}, exec.KindIndex, "index 2 is out of range for axis 0 with size 2"},
		{"get", []any{a, I(0), I(0), I(0)}, exec.KindIndex, "3 indexes"},
		{"row", []any{tensor([]int{2}, 1, 2), I(0)}, exec.KindValue, "2-D"},
		{"item", []any{a}, exec.KindValue, "exactly one element"},
		{"concat", []any{L(a, tensor([]int{3}, 1, 2, 3))}, exec.KindValue, "do not match"},
		{"concat", []any{L()}, exec.KindValue, "at least one"},
		{"stack", []any{L(a, tensor([]int{3}, 1, 2, 3))}, exec.KindValue, "same shape"},
		{"clip", []any{a, I(3), I(1)}, exec.KindValue, "greater than"},
		{"sum", []any{L(I(1))}, exec.KindType, "must be a tensor"},
		{"set", []any{a, I(0), tensor([]int{2}, 1, 2)}, exec.KindValue, "of shape [3] to a tensor of shape [2]"},
	}
	for _, tt := range errs {
		_, err := call(t, nd, tt.name, tt.args...)
		wantErr(t, err, tt.kind, tt.msg)
	}
}

func TestNDRandom(t *testing.T) {
	nd := NDModule()
	r := RandomModule()
	a := mustCall(t, nd, "randn", mustCall(t, r, "new", I(3)), L(I(100), I(10)))
	b := mustCall(t, nd, "randn", mustCall(t, r, "new", I(3)), L(I(100), I(10)))
	if a.Repr() != b.Repr() {
		t.Error("randn with the same seed differs")
	}
	if shapeStr(a.AsTensor().Shape) != "[100, 10]" {
		t.Errorf("randn shape %v", a.AsTensor().Shape)
	}
	mean := mustCall(t, nd, "mean", a).AsFloat()
	std := mustCall(t, nd, "std", a).AsFloat()
	if math.Abs(mean) > 0.15 || math.Abs(std-1) > 0.1 {
		t.Errorf("randn mean %v std %v", mean, std)
	}
	u := mustCall(t, nd, "rand", mustCall(t, r, "new", I(3)), I(1000))
	if mustCall(t, nd, "min", u).AsFloat() < 0 || mustCall(t, nd, "max", u).AsFloat() >= 1 {
		t.Error("rand out of [0, 1)")
	}
	_, err := call(t, nd, "randn", I(3), L(I(2)))
	wantErr(t, err, exec.KindType, "generator")
}

func BenchmarkArithAdd1e6(b *testing.B) {
	x := &exec.Tensor{Shape: []int{1000, 1000}, Data: make([]float64, 1e6)}
	y := &exec.Tensor{Shape: []int{1000, 1000}, Data: make([]float64, 1e6)}
	for i := range x.Data {
		x.Data[i], y.Data[i] = float64(i), float64(2*i)
	}
	xv, yv := exec.TensorValue(x), exec.TensorValue(y)
	b.SetBytes(8e6)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Arith('+', xv, yv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArithScalar1e6(b *testing.B) {
	x := exec.TensorValue(&exec.Tensor{Shape: []int{1e6}, Data: make([]float64, 1e6)})
	b.SetBytes(8e6)
	for i := 0; i < b.N; i++ {
		if _, err := Arith('*', x, exec.Float(1.5)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArithRowBroadcast1e6(b *testing.B) {
	x := exec.TensorValue(&exec.Tensor{Shape: []int{1000, 1000}, Data: make([]float64, 1e6)})
	r := exec.TensorValue(&exec.Tensor{Shape: []int{1000}, Data: make([]float64, 1000)})
	b.SetBytes(8e6)
	for i := 0; i < b.N; i++ {
		if _, err := Arith('-', x, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDot1e6(b *testing.B) {
	x := &exec.Tensor{Shape: []int{1e6}, Data: make([]float64, 1e6)}
	for i := range x.Data {
		x.Data[i] = 1
	}
	b.SetBytes(16e6)
	for i := 0; i < b.N; i++ {
		if _, err := dotTensors("nd.dot", x, x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatmul256(b *testing.B) {
	x := &exec.Tensor{Shape: []int{256, 256}, Data: make([]float64, 256*256)}
	for i := range x.Data {
		x.Data[i] = float64(i % 7)
	}
	for i := 0; i < b.N; i++ {
		if _, err := dotTensors("nd.matmul", x, x); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTensorArithInstalled(t *testing.T) {
	// exec's own operator path reaches the broadcasting Arith.
	v, err := exec.Arith("+", tensor([]int{2, 2}, 1, 2, 3, 4), tensor([]int{2}, 10, 20))
	if err != nil {
		t.Fatal(err)
	}
	if v.Repr() != "tensor([[11.0, 22.0], [13.0, 24.0]])" {
		t.Errorf("exec.Arith = %s", v.Repr())
	}
}
