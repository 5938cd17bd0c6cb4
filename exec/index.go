package exec

import (
	"unicode/utf8"
)

// Index implements x[i]: lists and strings by int (negative counts from
// the end), maps by key, tensors by row.
func Index(x, k Value) (Value, error) {
	switch x.kind {
	case ListKind:
		elems := x.AsList().Elems
		i, err := listIndex(k, len(elems), "list")
		if err != nil {
			return None, err
		}
		return elems[i], nil
	case MapKind:
		v, ok, err := x.AsMap().Get(k)
		if err != nil {
			return None, err
		}
		if !ok {
			return None, Errorf(KindKey, "key %s not found in map", k.Repr())
		}
		return v, nil
	case StringKind:
		runes := []rune(x.AsString())
		i, err := listIndex(k, len(runes), "string")
		if err != nil {
			return None, err
		}
		return Str(string(runes[i])), nil
	case TensorKind:
		t := x.AsTensor()
		i, err := listIndex(k, tensorRows(t), "tensor")
		if err != nil {
			return None, err
		}
		return tensorRow(t, i), nil
	case FutureKind:
		return None, futureAsValue(x)
	}
	return None, Errorf(KindType, "%s cannot be indexed", x.TypeName())
}

func listIndex(k Value, n int, what string) (int, error) {
	if k.kind == FutureKind {
		return 0, futureAsValue(k)
	}
	if k.kind != IntKind {
		return 0, Errorf(KindType, "%s index must be an int, not %s", what, k.TypeName())
	}
	i := k.AsInt()
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, Errorf(KindIndex, "index %d out of range for %s of length %d", k.AsInt(), what, n)
	}
	return int(i), nil
}

// setIndex implements x[i] = v for lists and maps.
func setIndex(x, k, v Value) error {
	switch x.kind {
	case ListKind:
		l := x.AsList()
		i, err := listIndex(k, len(l.Elems), "list")
		if err != nil {
			return err
		}
		l.Elems[i] = v
		return nil
	case MapKind:
		return x.AsMap().Set(k, v)
	case StringKind:
		return Errorf(KindType, "strings are immutable; build a new string instead")
	case TensorKind:
		return Errorf(KindType, "tensors are immutable; build a new tensor with the nd module")
	case FutureKind:
		return futureAsValue(x)
	}
	return Errorf(KindType, "%s does not support item assignment", x.TypeName())
}

// tensorRows is the length of a tensor's first axis.
func tensorRows(t *Tensor) int {
	if len(t.Shape) == 0 {
		return 0
	}
	return t.Shape[0]
}

// tensorRow is row i of a tensor: a float for a 1-D tensor, a tensor of
// one less dimension otherwise. Rows share the parent's data, which is
// safe because tensors are immutable.
func tensorRow(t *Tensor, i int) Value {
	if len(t.Shape) == 1 {
		return Float(t.Data[i])
	}
	stride := len(t.Data) / t.Shape[0]
	return TensorValue(&Tensor{Shape: t.Shape[1:], Data: t.Data[i*stride : (i+1)*stride : (i+1)*stride]})
}

// sliceValue implements x[i:j:k] for lists, strings and tensors, with
// Python's rules for missing and out-of-range bounds.
func sliceValue(x, start, end, step Value) (Value, error) {
	var n int
	var runes []rune
	switch x.kind {
	case ListKind:
		n = len(x.AsList().Elems)
	case StringKind:
		s := x.AsString()
		if isASCII(s) {
			n = len(s)
		} else {
			runes = []rune(s)
			n = len(runes)
		}
	case TensorKind:
		n = tensorRows(x.AsTensor())
	case FutureKind:
		return None, futureAsValue(x)
	default:
		return None, Errorf(KindType, "%s cannot be sliced", x.TypeName())
	}
	idx, err := sliceIndexes(n, start, end, step)
	if err != nil {
		return None, err
	}
	switch x.kind {
	case ListKind:
		elems := x.AsList().Elems
		out := make([]Value, len(idx))
		for i, j := range idx {
			out[i] = elems[j]
		}
		return ListOf(out), nil
	case StringKind:
		s := x.AsString()
		buf := make([]rune, len(idx))
		for i, j := range idx {
			if runes != nil {
				buf[i] = runes[j]
			} else {
				buf[i] = rune(s[j])
			}
		}
		return Str(string(buf)), nil
	}
	return sliceTensor(x.AsTensor(), idx), nil
}

func sliceTensor(t *Tensor, idx []int) Value {
	stride := 1
	if len(t.Shape) > 0 && t.Shape[0] > 0 {
		stride = len(t.Data) / t.Shape[0]
	}
	data := make([]float64, 0, len(idx)*stride)
	for _, j := range idx {
		data = append(data, t.Data[j*stride:(j+1)*stride]...)
	}
	shape := append([]int{len(idx)}, t.Shape[1:]...)
	return TensorValue(&Tensor{Shape: shape, Data: data})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// sliceIndexes lists the indexes a slice selects from a sequence of n.
func sliceIndexes(n int, startV, endV, stepV Value) ([]int, error) {
	step := int64(1)
	if !stepV.IsNone() {
		if stepV.kind != IntKind {
			return nil, Errorf(KindType, "slice step must be an int, not %s", stepV.TypeName())
		}
		step = stepV.AsInt()
		if step == 0 {
			return nil, Errorf(KindValue, "slice step cannot be zero")
		}
	}
	bound := func(v Value, def int64) (int64, error) {
		if v.IsNone() {
			return def, nil
		}
		if v.kind != IntKind {
			return 0, Errorf(KindType, "slice bounds must be ints, not %s", v.TypeName())
		}
		i := v.AsInt()
		if i < 0 {
			i += int64(n)
		}
		lo, hi := int64(0), int64(n)
		if step < 0 {
			lo, hi = -1, int64(n)-1
		}
		return min(max(i, lo), hi), nil
	}
	var start, end int64
	var err error
	if step > 0 {
		if start, err = bound(startV, 0); err == nil {
			end, err = bound(endV, int64(n))
		}
	} else {
		if start, err = bound(startV, int64(n)-1); err == nil {
			end, err = bound(endV, -1)
		}
	}
	if err != nil {
		return nil, err
	}
	// Counted (rangeLen), not stepped to the end: a step near the int
	// limit would wrap past it.
	idx := make([]int, rangeLen(start, end, step))
	for k := range idx {
		idx[k] = int(start + int64(k)*step)
	}
	return idx, nil
}

// rangeBounds reads range(stop), range(start, stop) or
// range(start, stop, step).
func rangeBounds(args []Value) (start, stop, step int64, err error) {
	for _, a := range args {
		if a.kind == FutureKind {
			return 0, 0, 0, futureAsValue(a)
		}
		if a.kind != IntKind {
			return 0, 0, 0, Errorf(KindType, "range() arguments must be ints, not %s", a.TypeName())
		}
	}
	step = 1
	switch len(args) {
	case 1:
		stop = args[0].AsInt()
	case 2:
		start, stop = args[0].AsInt(), args[1].AsInt()
	case 3:
		start, stop, step = args[0].AsInt(), args[1].AsInt(), args[2].AsInt()
	default:
		return 0, 0, 0, Errorf(KindType, "range() takes 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 {
		return 0, 0, 0, Errorf(KindValue, "range() step cannot be zero")
	}
	return start, stop, step, nil
}

// rangeLen is how many values range(start, stop, step) gives, counted
// without overflow: the span between start and stop may not fit in an
// int64 (range(-2**62*2+1, 2**62*2-1)) and the last value plus step may
// pass the int limit, so loops count their iterations down instead of
// comparing a counter that could wrap.
func rangeLen(start, stop, step int64) uint64 {
	var span, by uint64
	switch {
	case step > 0 && stop > start:
		span, by = uint64(stop)-uint64(start), uint64(step)
	case step < 0 && start > stop:
		span, by = uint64(start)-uint64(stop), -uint64(step)
	default:
		return 0
	}
	n := span / by
	if span%by != 0 {
		n++
	}
	return n
}
