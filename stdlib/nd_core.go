package stdlib

import (
	"math"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/exec"
)

// This file holds the tensor kernels of the nd module: shapes,
// broadcasting and the element-wise loops. They work on []float64 with no
// allocation per element. A tensor is never changed after it is made:
// every result is a new tensor, though results that are views of their
// input (reshape, row, get, slice) share its Data.

// MaxTensorSize bounds the number of elements of a tensor the nd module
// makes (2^27 elements, 1 GiB), so that a typo in a shape gets an error
// rather than exhausting memory.
const MaxTensorSize = 1 << 27

// shapeStr prints a shape as a list: [3, 4].
func shapeStr(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// shapeSize is the number of elements of a shape, checked against
// MaxTensorSize.
func shapeSize(fn string, shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, valueErr(fn, "negative dimension in shape %s", shapeStr(shape))
		}
		if d != 0 && n > MaxTensorSize/d {
			return 0, valueErr(fn, "shape %s has more than %d elements", shapeStr(shape), MaxTensorSize)
		}
		n *= d
	}
	if n > MaxTensorSize {
		return 0, valueErr(fn, "shape %s has more than %d elements", shapeStr(shape), MaxTensorSize)
	}
	return n, nil
}

// parseShape reads a shape: a list of non-negative ints, or one int.
func parseShape(fn string, v exec.Value) ([]int, error) {
	switch v.Kind() {
	case exec.IntKind:
		shape := []int{int(v.AsInt())}
		if v.AsInt() < 0 || v.AsInt() > MaxTensorSize {
			return nil, valueErr(fn, "bad dimension %d in shape", v.AsInt())
		}
		return shape, nil
	case exec.ListKind:
		elems := v.AsList().Elems
		shape := make([]int, len(elems))
		for i, e := range elems {
			if e.Kind() != exec.IntKind {
				return nil, typeErr(fn, "a shape must be a list of ints, but element %d is %s", i, e.TypeName())
			}
			d := e.AsInt()
			if d < 0 || d > MaxTensorSize {
				return nil, valueErr(fn, "bad dimension %d in shape", d)
			}
			shape[i] = int(d)
		}
		return shape, nil
	case exec.FutureKind:
		return nil, futureErr(fn, v)
	}
	return nil, typeErr(fn, "a shape must be a list of ints, not %s", v.TypeName())
}

// makeTensor allocates a zero tensor of a checked shape.
func makeTensor(fn string, shape []int) (*exec.Tensor, error) {
	n, err := shapeSize(fn, shape)
	if err != nil {
		return nil, err
	}
	return &exec.Tensor{Shape: append([]int{}, shape...), Data: make([]float64, n)}, nil
}

// like allocates a tensor with t's shape; t's shape is known to be valid.
func like(t *exec.Tensor) *exec.Tensor {
	return &exec.Tensor{Shape: append([]int{}, t.Shape...), Data: make([]float64, len(t.Data))}
}

// tensorArg checks that v is a tensor.
func tensorArg(fn, param string, v exec.Value) (*exec.Tensor, error) {
	switch v.Kind() {
	case exec.TensorKind:
		return v.AsTensor(), nil
	case exec.FutureKind:
		return nil, futureErr(fn, v)
	}
	return nil, typeErr(fn, "argument '%s' must be a tensor, not %s", param, v.TypeName())
}

// operand reads a tensor or a number. For a number, t is nil.
func operand(fn string, v exec.Value) (t *exec.Tensor, x float64, err error) {
	switch v.Kind() {
	case exec.TensorKind:
		return v.AsTensor(), 0, nil
	case exec.IntKind, exec.FloatKind:
		return nil, v.Number(), nil
	case exec.BoolKind:
		if v.AsBool() {
			return nil, 1, nil
		}
		return nil, 0, nil
	case exec.FutureKind:
		return nil, 0, futureErr(fn, v)
	}
	return nil, 0, typeErr(fn, "expected a tensor or a number, not %s", v.TypeName())
}

// normAxis resolves a possibly negative axis of an ndim-dimensional tensor.
func normAxis(fn string, axis, ndim int) (int, error) {
	if axis < 0 {
		axis += ndim
	}
	if axis < 0 || axis >= ndim {
		return 0, exec.Errorf(exec.KindIndex, "%s: axis %d is out of range for a tensor with %d dimension%s", fn, axis, ndim, plural(ndim))
	}
	return axis, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// binOp is an element-wise operation of two operands.
type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opGT
	opLT
	opGE
	opLE
	opEQ
	opNE
	opPow
)

// binFuncs compute one element; the loops below special-case + - * /.
var binFuncs = [...]func(x, y float64) float64{
	opAdd: func(x, y float64) float64 { return x + y },
	opSub: func(x, y float64) float64 { return x - y },
	opMul: func(x, y float64) float64 { return x * y },
	opDiv: func(x, y float64) float64 { return x / y },
	opMax: math.Max,
	opMin: math.Min,
	opGT:  func(x, y float64) float64 { return b2f(x > y) },
	opLT:  func(x, y float64) float64 { return b2f(x < y) },
	opGE:  func(x, y float64) float64 { return b2f(x >= y) },
	opLE:  func(x, y float64) float64 { return b2f(x <= y) },
	opEQ:  func(x, y float64) float64 { return b2f(x == y) },
	opNE:  func(x, y float64) float64 { return b2f(x != y) },
	opPow: math.Pow,
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// loopVV sets dst[i] = a[i] op b[i]; the slices have equal lengths.
func loopVV(op binOp, dst, a, b []float64) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	switch op {
	case opAdd:
		for i, x := range a {
			dst[i] = x + b[i]
		}
	case opSub:
		for i, x := range a {
			dst[i] = x - b[i]
		}
	case opMul:
		for i, x := range a {
			dst[i] = x * b[i]
		}
	case opDiv:
		for i, x := range a {
			dst[i] = x / b[i]
		}
	default:
		f := binFuncs[op]
		for i, x := range a {
			dst[i] = f(x, b[i])
		}
	}
}

// loopVS sets dst[i] = a[i] op y.
func loopVS(op binOp, dst, a []float64, y float64) {
	dst = dst[:len(a)]
	switch op {
	case opAdd:
		for i, x := range a {
			dst[i] = x + y
		}
	case opSub:
		for i, x := range a {
			dst[i] = x - y
		}
	case opMul:
		for i, x := range a {
			dst[i] = x * y
		}
	case opDiv:
		for i, x := range a {
			dst[i] = x / y
		}
	default:
		f := binFuncs[op]
		for i, x := range a {
			dst[i] = f(x, y)
		}
	}
}

// loopSV sets dst[i] = x op b[i].
func loopSV(op binOp, dst []float64, x float64, b []float64) {
	dst = dst[:len(b)]
	switch op {
	case opAdd:
		for i, y := range b {
			dst[i] = x + y
		}
	case opSub:
		for i, y := range b {
			dst[i] = x - y
		}
	case opMul:
		for i, y := range b {
			dst[i] = x * y
		}
	case opDiv:
		for i, y := range b {
			dst[i] = x / y
		}
	default:
		f := binFuncs[op]
		for i, y := range b {
			dst[i] = f(x, y)
		}
	}
}

// broadcastShape is numpy's broadcasting rule: shapes are aligned on the
// right and each pair of dimensions must be equal or one of them 1.
func broadcastShape(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

// bstrides are the strides of shape aligned to the n-dimensional output
// shape out, with 0 for broadcast dimensions.
func bstrides(shape, out []int) []int {
	n := len(out)
	st := make([]int, n)
	stride := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := n - len(shape) + i
		if shape[i] != 1 || out[j] == 1 {
			st[j] = stride
		}
		stride *= shape[i]
	}
	return st
}

// binary applies op element-wise to two operands, each a tensor (t != nil)
// or a number, with broadcasting. Two numbers give a float.
func binaryOp(fn string, op binOp, av, bv exec.Value) (exec.Value, error) {
	a, x, err := operand(fn, av)
	if err != nil {
		return exec.None, err
	}
	b, y, err := operand(fn, bv)
	if err != nil {
		return exec.None, err
	}
	switch {
	case a == nil && b == nil:
		return exec.Float(binFuncs[op](x, y)), nil
	case b == nil:
		out := like(a)
		loopVS(op, out.Data, a.Data, y)
		return exec.TensorValue(out), nil
	case a == nil:
		out := like(b)
		loopSV(op, out.Data, x, b.Data)
		return exec.TensorValue(out), nil
	}
	t, err := binaryTT(fn, op, a, b)
	if err != nil {
		return exec.None, err
	}
	return exec.TensorValue(t), nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// binaryTT applies op to two tensors with broadcasting.
func binaryTT(fn string, op binOp, a, b *exec.Tensor) (*exec.Tensor, error) {
	if sameShape(a.Shape, b.Shape) {
		out := like(a)
		loopVV(op, out.Data, a.Data, b.Data)
		return out, nil
	}
	if len(b.Data) == 1 && len(b.Shape) <= len(a.Shape) {
		if shape, ok := broadcastShape(a.Shape, b.Shape); ok && sameShape(shape, a.Shape) {
			out := like(a)
			loopVS(op, out.Data, a.Data, b.Data[0])
			return out, nil
		}
	}
	if len(a.Data) == 1 && len(a.Shape) <= len(b.Shape) {
		if shape, ok := broadcastShape(a.Shape, b.Shape); ok && sameShape(shape, b.Shape) {
			out := like(b)
			loopSV(op, out.Data, a.Data[0], b.Data)
			return out, nil
		}
	}
	shape, ok := broadcastShape(a.Shape, b.Shape)
	if !ok {
		return nil, valueErr(fn, "shapes %s and %s do not match (they cannot be broadcast together)", shapeStr(a.Shape), shapeStr(b.Shape))
	}
	out, err := makeTensor(fn, shape)
	if err != nil {
		return nil, err
	}
	n := len(shape)
	if len(out.Data) == 0 {
		return out, nil
	}
	sa, sb := bstrides(a.Shape, shape), bstrides(b.Shape, shape)
	inner := shape[n-1]
	ia, ib := sa[n-1], sb[n-1]
	idx := make([]int, n-1)
	offA, offB := 0, 0
	for o := 0; o < len(out.Data); o += inner {
		dst := out.Data[o : o+inner]
		switch {
		case ia == 1 && ib == 1:
			loopVV(op, dst, a.Data[offA:offA+inner], b.Data[offB:offB+inner])
		case ia == 1:
			loopVS(op, dst, a.Data[offA:offA+inner], b.Data[offB])
		case ib == 1:
			loopSV(op, dst, a.Data[offA], b.Data[offB:offB+inner])
		default:
			v := binFuncs[op](a.Data[offA], b.Data[offB])
			for i := range dst {
				dst[i] = v
			}
		}
		// Advance the index over the outer dimensions, odometer style.
		for d := n - 2; d >= 0; d-- {
			idx[d]++
			offA += sa[d]
			offB += sb[d]
			if idx[d] < shape[d] {
				break
			}
			offA -= sa[d] * shape[d]
			offB -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// Arith is the evaluator's hook for the operators + - * / when either
// side is a tensor: element-wise, with a number broadcast over a tensor
// and numpy-style broadcasting between tensors (a row over a matrix, a
// column [n, 1] over [n, m], ...). op is '+', '-', '*' or '/'. Division
// follows IEEE 754 (x/0 is ±inf or nan), as in numpy. Two numbers give a
// float. A shape mismatch is a "value" error naming both shapes; an
// operand that is neither a tensor nor a number is a "type" error.
func Arith(op byte, a, b exec.Value) (exec.Value, error) {
	var bop binOp
	switch op {
	case '+':
		bop = opAdd
	case '-':
		bop = opSub
	case '*':
		bop = opMul
	case '/':
		bop = opDiv
	default:
		return exec.None, exec.Errorf(exec.KindType, "unsupported operator %q for tensors", string(op))
	}
	if a.Kind() != exec.TensorKind && b.Kind() != exec.TensorKind {
		if !a.IsNumber() || !b.IsNumber() {
			return exec.None, exec.Errorf(exec.KindType, "unsupported operand types for %c: %s and %s", op, a.TypeName(), b.TypeName())
		}
	}
	fn := "tensor " + string(op)
	if a.Kind() == exec.TensorKind && b.Kind() == exec.TensorKind {
		at, bt := a.AsTensor(), b.AsTensor()
		if _, ok := broadcastShape(at.Shape, bt.Shape); !ok {
			return exec.None, exec.Errorf(exec.KindValue, "operands of %c have shapes %s and %s, which do not match", op, shapeStr(at.Shape), shapeStr(bt.Shape))
		}
		t, err := binaryTT(fn, bop, at, bt)
		if err != nil {
			return exec.None, err
		}
		return exec.TensorValue(t), nil
	}
	if (a.Kind() != exec.TensorKind && !a.IsNumber()) || (b.Kind() != exec.TensorKind && !b.IsNumber()) {
		return exec.None, exec.Errorf(exec.KindType, "unsupported operand types for %c: %s and %s", op, a.TypeName(), b.TypeName())
	}
	return binaryOp(fn, bop, a, b)
}

// Neg is the evaluator's hook for unary minus on a tensor: a new tensor
// with every element negated.
func Neg(v exec.Value) (exec.Value, error) {
	if v.Kind() != exec.TensorKind {
		return exec.None, exec.Errorf(exec.KindType, "bad operand type for unary -: %s", v.TypeName())
	}
	t := v.AsTensor()
	out := like(t)
	for i, x := range t.Data {
		out.Data[i] = -x
	}
	return exec.TensorValue(out), nil
}

// mapUnary applies f to every element of a tensor, or to a number.
func mapUnary(fn string, v exec.Value, f func(float64) float64) (exec.Value, error) {
	t, x, err := operand(fn, v)
	if err != nil {
		return exec.None, err
	}
	if t == nil {
		return exec.Float(f(x)), nil
	}
	out := like(t)
	for i, x := range t.Data {
		out.Data[i] = f(x)
	}
	return exec.TensorValue(out), nil
}

// axisSplit splits a shape around axis into the product of the dims
// before it, the dim itself and the product of the dims after it, and
// returns the shape without axis.
func axisSplit(shape []int, axis int) (outer, n, inner int, rest []int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	rest = append(append([]int{}, shape[:axis]...), shape[axis+1:]...)
	return outer, shape[axis], inner, rest
}

// dot1 is the inner product of two equal-length slices.
func dot1(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// matmul multiplies [m, k] by [k, p] into out ([m, p], zeroed).
func matmul(out, a, b []float64, m, k, p int) {
	for i := 0; i < m; i++ {
		row := out[i*p : (i+1)*p]
		for j := 0; j < k; j++ {
			aij := a[i*k+j]
			if aij == 0 {
				continue
			}
			brow := b[j*p : (j+1)*p]
			for c, x := range brow {
				row[c] += aij * x
			}
		}
	}
}

// dotTensors is nd.dot and nd.matmul for tensors of 1 or 2 dimensions.
func dotTensors(fn string, a, b *exec.Tensor) (exec.Value, error) {
	mismatch := func() error {
		return valueErr(fn, "shapes %s and %s do not match", shapeStr(a.Shape), shapeStr(b.Shape))
	}
	switch {
	case len(a.Shape) == 1 && len(b.Shape) == 1:
		if a.Shape[0] != b.Shape[0] {
			return exec.None, mismatch()
		}
		return exec.Float(dot1(a.Data, b.Data)), nil
	case len(a.Shape) == 2 && len(b.Shape) == 1:
		m, k := a.Shape[0], a.Shape[1]
		if k != b.Shape[0] {
			return exec.None, mismatch()
		}
		out := &exec.Tensor{Shape: []int{m}, Data: make([]float64, m)}
		for i := 0; i < m; i++ {
			out.Data[i] = dot1(a.Data[i*k:(i+1)*k], b.Data)
		}
		return exec.TensorValue(out), nil
	case len(a.Shape) == 1 && len(b.Shape) == 2:
		k, p := b.Shape[0], b.Shape[1]
		if a.Shape[0] != k {
			return exec.None, mismatch()
		}
		out := &exec.Tensor{Shape: []int{p}, Data: make([]float64, p)}
		matmul(out.Data, a.Data, b.Data, 1, k, p)
		return exec.TensorValue(out), nil
	case len(a.Shape) == 2 && len(b.Shape) == 2:
		m, k, p := a.Shape[0], a.Shape[1], b.Shape[1]
		if k != b.Shape[0] {
			return exec.None, mismatch()
		}
		out, err := makeTensor(fn, []int{m, p})
		if err != nil {
			return exec.None, err
		}
		matmul(out.Data, a.Data, b.Data, m, k, p)
		return exec.TensorValue(out), nil
	}
	return exec.None, valueErr(fn, "expects tensors of 1 or 2 dimensions, got shapes %s and %s", shapeStr(a.Shape), shapeStr(b.Shape))
}

// view returns the sub-tensor at offset off with the given shape, sharing
// t's data (tensors are immutable, so sharing is safe).
func view(t *exec.Tensor, off int, shape []int) *exec.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &exec.Tensor{Shape: append([]int{}, shape...), Data: t.Data[off : off+n : off+n]}
}

// toList converts a tensor to nested lists of floats; a 0-d tensor
// becomes a float.
func toList(shape []int, data []float64) exec.Value {
	if len(shape) == 0 {
		return exec.Float(data[0])
	}
	out := make([]exec.Value, shape[0])
	if len(shape) == 1 {
		for i := range out {
			out[i] = exec.Float(data[i])
		}
		return exec.ListOf(out)
	}
	stride := len(data) / max(shape[0], 1)
	for i := range out {
		out[i] = toList(shape[1:], data[i*stride:(i+1)*stride])
	}
	return exec.ListOf(out)
}

// fromValue converts nested lists of numbers (and tensors) into a tensor.
func fromValue(fn string, v exec.Value) (*exec.Tensor, error) {
	shape, err := inferShape(fn, v, 0)
	if err != nil {
		return nil, err
	}
	t, err := makeTensor(fn, shape)
	if err != nil {
		return nil, err
	}
	if _, err := fillFrom(fn, v, shape, t.Data); err != nil {
		return nil, err
	}
	return t, nil
}

const maxNesting = 64

func inferShape(fn string, v exec.Value, depth int) ([]int, error) {
	if depth > maxNesting {
		return nil, valueErr(fn, "list nested more than %d deep", maxNesting)
	}
	switch v.Kind() {
	case exec.IntKind, exec.FloatKind, exec.BoolKind:
		return nil, nil
	case exec.TensorKind:
		return v.AsTensor().Shape, nil
	case exec.ListKind:
		elems := v.AsList().Elems
		if len(elems) == 0 {
			return []int{0}, nil
		}
		inner, err := inferShape(fn, elems[0], depth+1)
		if err != nil {
			return nil, err
		}
		return append([]int{len(elems)}, inner...), nil
	case exec.FutureKind:
		return nil, futureErr(fn, v)
	}
	return nil, typeErr(fn, "expected numbers, lists of numbers or tensors, found %s", v.TypeName())
}

// fillFrom writes v, whose shape must be shape, into dst and returns the
// number of elements written.
func fillFrom(fn string, v exec.Value, shape []int, dst []float64) (int, error) {
	switch v.Kind() {
	case exec.IntKind, exec.FloatKind, exec.BoolKind:
		if len(shape) != 0 {
			return 0, valueErr(fn, "ragged nested list: found a number where a list of %d was expected", shape[0])
		}
		x, _, _ := numberOrBool(v)
		dst[0] = x
		return 1, nil
	case exec.TensorKind:
		t := v.AsTensor()
		if !sameShape(t.Shape, shape) {
			return 0, valueErr(fn, "ragged nested list: found a tensor of shape %s where shape %s was expected", shapeStr(t.Shape), shapeStr(shape))
		}
		return copy(dst, t.Data), nil
	case exec.ListKind:
		elems := v.AsList().Elems
		if len(shape) == 0 {
			return 0, valueErr(fn, "ragged nested list: found a list where a number was expected")
		}
		if len(elems) != shape[0] {
			return 0, valueErr(fn, "ragged nested list: found a list of %d where a list of %d was expected", len(elems), shape[0])
		}
		off := 0
		for _, e := range elems {
			n, err := fillFrom(fn, e, shape[1:], dst[off:])
			if err != nil {
				return 0, err
			}
			off += n
		}
		return off, nil
	case exec.FutureKind:
		return 0, futureErr(fn, v)
	}
	return 0, typeErr(fn, "expected numbers, lists of numbers or tensors, found %s", v.TypeName())
}

func numberOrBool(v exec.Value) (float64, bool, error) {
	switch v.Kind() {
	case exec.IntKind, exec.FloatKind:
		return v.Number(), true, nil
	case exec.BoolKind:
		return b2f(v.AsBool()), true, nil
	}
	return 0, false, nil
}
