package stdlib

import (
	"math"

	"github.com/rayflow/rayflow/exec"
)

// NDModule returns the nd module: dense, immutable float64 tensors in the
// style of numpy.
func NDModule() *exec.Module {
	m := newModule("nd")
	for name, fn := range ndFuncs {
		m.AddFunc(name, fn)
	}
	// Element-wise functions of one tensor (or number).
	for name, f := range ndUnary {
		name, f := name, f
		m.AddFunc(name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var t exec.Value
			if err := args.Unpack("t", &t); err != nil {
				return exec.None, err
			}
			return mapUnary(args.Fn, t, f)
		})
	}
	// Element-wise functions of two operands, with broadcasting.
	for name, op := range ndBinary {
		name, op := name, op
		m.AddFunc(name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var a, b exec.Value
			if err := args.Unpack("a", &a, "b", &b); err != nil {
				return exec.None, err
			}
			return binaryOp(args.Fn, op, a, b)
		})
	}
	// Reductions, over everything or along one axis.
	for name, kind := range ndReductions {
		name, kind := name, kind
		m.AddFunc(name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var t, axis exec.Value
			ddof := 0
			var err error
			if kind == redVar || kind == redStd {
				err = args.Unpack("t", &t, "axis?", &axis, "ddof?", &ddof)
			} else {
				err = args.Unpack("t", &t, "axis?", &axis)
			}
			if err != nil {
				return exec.None, err
			}
			return reduce(args.Fn, kind, t, axis, ddof)
		})
	}
	return m
}

var ndUnary = map[string]func(float64) float64{
	"exp":      math.Exp,
	"log":      math.Log,
	"log1p":    math.Log1p,
	"tanh":     math.Tanh,
	"sqrt":     math.Sqrt,
	"abs":      math.Abs,
	"neg":      func(x float64) float64 { return -x },
	"square":   func(x float64) float64 { return x * x },
	"sign":     sign,
	"sin":      math.Sin,
	"cos":      math.Cos,
	"floor":    math.Floor,
	"ceil":     math.Ceil,
	"round":    math.RoundToEven,
	"sigmoid":  func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
	"relu":     func(x float64) float64 { return math.Max(x, 0) },
	"isnan":    func(x float64) float64 { return b2f(math.IsNaN(x)) },
	"isfinite": func(x float64) float64 { return b2f(!math.IsNaN(x) && !math.IsInf(x, 0)) },
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, -0 or nan
}

var ndBinary = map[string]binOp{
	"add": opAdd, "sub": opSub, "mul": opMul, "div": opDiv,
	"maximum": opMax, "minimum": opMin, "pow": opPow,
	"gt": opGT, "lt": opLT, "ge": opGE, "le": opLE, "eq": opEQ, "ne": opNE,
}

type redKind uint8

const (
	redSum redKind = iota
	redMean
	redMax
	redMin
	redVar
	redStd
	redProd
	redArgmax
	redArgmin
)

var ndReductions = map[string]redKind{
	"sum": redSum, "mean": redMean, "max": redMax, "min": redMin,
	"var": redVar, "std": redStd, "prod": redProd,
	"argmax": redArgmax, "argmin": redArgmin,
}

// reduce is nd.sum, nd.mean, ... : over all elements (axis none), giving a
// number, or along one axis, giving a tensor (a list of ints for argmax
// and argmin).
func reduce(fn string, kind redKind, tv, axisV exec.Value, ddof int) (exec.Value, error) {
	t, err := tensorArg(fn, "t", tv)
	if err != nil {
		return exec.None, err
	}
	outer, n, inner := 1, len(t.Data), 1
	var rest []int
	whole := axisV.IsNone()
	if !whole {
		if axisV.Kind() != exec.IntKind {
			return exec.None, typeErr(fn, "axis must be an int or none, not %s", axisV.TypeName())
		}
		axis, err := normAxis(fn, int(axisV.AsInt()), len(t.Shape))
		if err != nil {
			return exec.None, err
		}
		outer, n, inner, rest = axisSplit(t.Shape, axis)
	}
	if n == 0 && kind != redSum && kind != redProd {
		return exec.None, valueErr(fn, "of an empty tensor (shape %s)", shapeStr(t.Shape))
	}
	if (kind == redVar || kind == redStd) && (ddof < 0 || ddof >= n) {
		return exec.None, valueErr(fn, "ddof %d is not less than the number of elements %d", ddof, n)
	}
	out := make([]float64, outer*inner)
	d := t.Data
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for i := 0; i < inner; i++ {
			at := func(k int) float64 { return d[base+k*inner+i] }
			var r float64
			switch kind {
			case redSum, redMean, redVar, redStd:
				var s float64
				if inner == 1 {
					for _, x := range d[base : base+n] {
						s += x
					}
				} else {
					for k := 0; k < n; k++ {
						s += at(k)
					}
				}
				r = s
				if kind != redSum {
					r = s / float64(n)
				}
				if kind == redVar || kind == redStd {
					mean := r
					var ss float64
					for k := 0; k < n; k++ {
						dx := at(k) - mean
						ss += dx * dx
					}
					r = ss / float64(n-ddof)
					if kind == redStd {
						r = math.Sqrt(r)
					}
				}
			case redProd:
				r = 1
				for k := 0; k < n; k++ {
					r *= at(k)
				}
			case redMax, redMin, redArgmax, redArgmin:
				best, bi := at(0), 0
				isMax := kind == redMax || kind == redArgmax
				for k := 1; k < n && best == best; k++ {
					x := at(k)
					if x != x || (isMax && x > best) || (!isMax && x < best) {
						best, bi = x, k
					}
				}
				r = best
				if kind == redArgmax || kind == redArgmin {
					r = float64(bi)
				}
			}
			out[o*inner+i] = r
		}
	}
	isArg := kind == redArgmax || kind == redArgmin
	if whole {
		if isArg {
			return exec.Int(int64(out[0])), nil
		}
		return exec.Float(out[0]), nil
	}
	if isArg {
		return intTensorList(rest, out), nil
	}
	return exec.TensorValue(&exec.Tensor{Shape: rest, Data: out}), nil
}

// intTensorList converts integral floats with a shape into nested lists of ints.
func intTensorList(shape []int, data []float64) exec.Value {
	if len(shape) == 0 {
		return exec.Int(int64(data[0]))
	}
	out := make([]exec.Value, shape[0])
	stride := len(data) / max(shape[0], 1)
	for i := range out {
		if len(shape) == 1 {
			out[i] = exec.Int(int64(data[i]))
		} else {
			out[i] = intTensorList(shape[1:], data[i*stride:(i+1)*stride])
		}
	}
	return exec.ListOf(out)
}

// index resolves a possibly negative index into a dimension of size n.
func index(fn string, i int64, n, axis int) (int, error) {
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, exec.Errorf(exec.KindIndex, "%s: index %d is out of range for axis %d with size %d", fn, i, axis, n)
	}
	return int(i), nil
}

// locate resolves leading indexes into an offset and the remaining shape.
func locate(fn string, t *exec.Tensor, idx []exec.Value) (int, []int, error) {
	if len(idx) > len(t.Shape) {
		return 0, nil, exec.Errorf(exec.KindIndex, "%s: %d indexes for a tensor of shape %s", fn, len(idx), shapeStr(t.Shape))
	}
	off, stride := 0, len(t.Data)
	for ax, v := range idx {
		if v.Kind() != exec.IntKind {
			return 0, nil, typeErr(fn, "an index must be an int, not %s", v.TypeName())
		}
		i, err := index(fn, v.AsInt(), t.Shape[ax], ax)
		if err != nil {
			return 0, nil, err
		}
		stride /= t.Shape[ax]
		off += i * stride
	}
	return off, t.Shape[len(idx):], nil
}

// tensorList reads a non-empty list of tensors.
func tensorList(fn string, l *exec.List) ([]*exec.Tensor, error) {
	if len(l.Elems) == 0 {
		return nil, valueErr(fn, "needs at least one tensor")
	}
	ts := make([]*exec.Tensor, len(l.Elems))
	for i, v := range l.Elems {
		t, err := tensorArg(fn, "tensors", v)
		if err != nil {
			return nil, typeErr(fn, "element %d of the list is %s, not a tensor", i, v.TypeName())
		}
		ts[i] = t
	}
	return ts, nil
}

// concat joins tensors along an existing axis.
func concat(fn string, ts []*exec.Tensor, axis int) (*exec.Tensor, error) {
	first := ts[0]
	if len(first.Shape) == 0 {
		return nil, valueErr(fn, "cannot join 0-dimensional tensors; use nd.stack")
	}
	ax, err := normAxis(fn, axis, len(first.Shape))
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, first.Shape...)
	shape[ax] = 0
	for _, t := range ts {
		ok := len(t.Shape) == len(first.Shape)
		for d := 0; ok && d < len(t.Shape); d++ {
			ok = d == ax || t.Shape[d] == first.Shape[d]
		}
		if !ok {
			return nil, valueErr(fn, "shapes %s and %s do not match along axes other than %d", shapeStr(first.Shape), shapeStr(t.Shape), ax)
		}
		shape[ax] += t.Shape[ax]
	}
	out, err := makeTensor(fn, shape)
	if err != nil {
		return nil, err
	}
	outer, _, inner, _ := axisSplit(shape, ax)
	pos := 0
	for o := 0; o < outer; o++ {
		for _, t := range ts {
			n := t.Shape[ax] * inner
			pos += copy(out.Data[pos:], t.Data[o*n:(o+1)*n])
		}
	}
	return out, nil
}

var ndFuncs = map[string]exec.BuiltinFunc{
	"zeros": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filled(args, 0, false)
	},
	"ones": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filled(args, 1, false)
	},
	"full": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filled(args, 0, true)
	},
	"zeros_like": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filledLike(args, 0, false)
	},
	"ones_like": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filledLike(args, 1, false)
	},
	"full_like": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return filledLike(args, 0, true)
	},
	"eye": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var n int
		if err := args.Unpack("n", &n); err != nil {
			return exec.None, err
		}
		t, err := makeTensor(args.Fn, []int{n, n})
		if err != nil {
			return exec.None, err
		}
		for i := 0; i < n; i++ {
			t.Data[i*n+i] = 1
		}
		return exec.TensorValue(t), nil
	},
	"arange": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b exec.Value
		step := 1.0
		if err := args.Unpack("start", &a, "stop?", &b, "step?", &step); err != nil {
			return exec.None, err
		}
		start, err := numberArg(args.Fn, "start", a)
		if err != nil {
			return exec.None, err
		}
		var stop float64
		if b.IsNone() {
			start, stop = 0, start
		} else if stop, err = numberArg(args.Fn, "stop", b); err != nil {
			return exec.None, err
		}
		if step == 0 || math.IsNaN(step) {
			return exec.None, valueErr(args.Fn, "step must not be zero")
		}
		cnt := math.Ceil((stop - start) / step)
		if math.IsNaN(cnt) || cnt < 0 {
			cnt = 0
		}
		if cnt > MaxTensorSize {
			return exec.None, valueErr(args.Fn, "range has more than %d elements", MaxTensorSize)
		}
		n := int(cnt)
		t := &exec.Tensor{Shape: []int{n}, Data: make([]float64, n)}
		for i := range t.Data {
			t.Data[i] = start + float64(i)*step
		}
		return exec.TensorValue(t), nil
	},
	"linspace": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var start, stop float64
		num := 50
		if err := args.Unpack("start", &start, "stop", &stop, "num?", &num); err != nil {
			return exec.None, err
		}
		t, err := makeTensor(args.Fn, []int{num})
		if err != nil {
			return exec.None, err
		}
		for i := range t.Data {
			if num == 1 {
				t.Data[i] = start
			} else {
				t.Data[i] = start + (stop-start)*float64(i)/float64(num-1)
			}
		}
		return exec.TensorValue(t), nil
	},
	"array": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var v exec.Value
		if err := args.Unpack("data", &v); err != nil {
			return exec.None, err
		}
		if v.Kind() == exec.TensorKind {
			return v, nil
		}
		t, err := fromValue(args.Fn, v)
		if err != nil {
			return exec.None, err
		}
		return exec.TensorValue(t), nil
	},
	"randn": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return randomTensor(args, true)
	},
	"rand": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return randomTensor(args, false)
	},
	"shape": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		return intList(t.Shape), nil
	},
	"size": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		return exec.Int(int64(len(t.Data))), nil
	},
	"ndim": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		return exec.Int(int64(len(t.Shape))), nil
	},
	"reshape": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		var sv exec.Value
		if err := args.Unpack("t", &t, "shape", &sv); err != nil {
			return exec.None, err
		}
		// Allow one -1 dimension, inferred from the size.
		var shape []int
		if sv.Kind() == exec.ListKind {
			shape = make([]int, len(sv.AsList().Elems))
			infer := -1
			known := 1
			for i, e := range sv.AsList().Elems {
				if e.Kind() != exec.IntKind {
					return exec.None, typeErr(args.Fn, "a shape must be a list of ints, but element %d is %s", i, e.TypeName())
				}
				d := e.AsInt()
				switch {
				case d == -1 && infer < 0:
					infer = i
					continue
				case d < 0 || d > MaxTensorSize:
					return exec.None, valueErr(args.Fn, "bad dimension %d in shape", d)
				}
				shape[i] = int(d)
				known *= int(d)
				if known > MaxTensorSize {
					return exec.None, valueErr(args.Fn, "cannot reshape a tensor of shape %s into %s", shapeStr(t.Shape), sv.Repr())
				}
			}
			if infer >= 0 {
				if known == 0 || len(t.Data)%known != 0 {
					return exec.None, valueErr(args.Fn, "cannot reshape a tensor of shape %s (%d elements) into %s", shapeStr(t.Shape), len(t.Data), sv.Repr())
				}
				shape[infer] = len(t.Data) / known
			}
		} else {
			var err error
			if shape, err = parseShape(args.Fn, sv); err != nil {
				return exec.None, err
			}
		}
		n, err := shapeSize(args.Fn, shape)
		if err != nil {
			return exec.None, err
		}
		if n != len(t.Data) {
			return exec.None, valueErr(args.Fn, "cannot reshape a tensor of shape %s (%d elements) into %s (%d elements)", shapeStr(t.Shape), len(t.Data), shapeStr(shape), n)
		}
		return exec.TensorValue(view(t, 0, shape)), nil
	},
	"flatten": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		return exec.TensorValue(view(t, 0, []int{len(t.Data)})), nil
	},
	"dot": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b exec.Value
		if err := args.Unpack("a", &a, "b", &b); err != nil {
			return exec.None, err
		}
		if a.Kind() != exec.TensorKind || b.Kind() != exec.TensorKind {
			return binaryOp(args.Fn, opMul, a, b) // a number times a tensor
		}
		return dotTensors(args.Fn, a.AsTensor(), b.AsTensor())
	},
	"matmul": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b *exec.Tensor
		if err := args.Unpack("a", &a, "b", &b); err != nil {
			return exec.None, err
		}
		return dotTensors(args.Fn, a, b)
	},
	"outer": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b *exec.Tensor
		if err := args.Unpack("a", &a, "b", &b); err != nil {
			return exec.None, err
		}
		out, err := makeTensor(args.Fn, []int{len(a.Data), len(b.Data)})
		if err != nil {
			return exec.None, err
		}
		p := len(b.Data)
		for i, x := range a.Data {
			loopVS(opMul, out.Data[i*p:(i+1)*p], b.Data, x)
		}
		return exec.TensorValue(out), nil
	},
	"transpose": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		switch len(t.Shape) {
		case 0, 1:
			return exec.TensorValue(t), nil
		case 2:
			m, n := t.Shape[0], t.Shape[1]
			out := &exec.Tensor{Shape: []int{n, m}, Data: make([]float64, len(t.Data))}
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					out.Data[j*m+i] = t.Data[i*n+j]
				}
			}
			return exec.TensorValue(out), nil
		}
		return exec.None, valueErr(args.Fn, "expects a tensor of at most 2 dimensions, got shape %s", shapeStr(t.Shape))
	},
	"norm": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		var plain float64
		for _, x := range t.Data {
			plain += x * x
		}
		if !math.IsInf(plain, 0) && (plain > 1e-290 || plain == 0) {
			return exec.Float(math.Sqrt(plain)), nil
		}
		// Scaled to avoid overflow and underflow, like math.Hypot.
		var scale float64
		for _, x := range t.Data {
			if ax := math.Abs(x); ax > scale || x != x {
				scale = ax
			}
		}
		if scale == 0 || math.IsInf(scale, 0) || scale != scale {
			return exec.Float(scale), nil
		}
		var s float64
		for _, x := range t.Data {
			y := x / scale
			s += y * y
		}
		return exec.Float(scale * math.Sqrt(s)), nil
	},
	"clip": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var tv, lov, hiv exec.Value
		if err := args.Unpack("t", &tv, "lo", &lov, "hi", &hiv); err != nil {
			return exec.None, err
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		var err error
		if !lov.IsNone() {
			if lo, err = numberArg(args.Fn, "lo", lov); err != nil {
				return exec.None, err
			}
		}
		if !hiv.IsNone() {
			if hi, err = numberArg(args.Fn, "hi", hiv); err != nil {
				return exec.None, err
			}
		}
		if lo > hi {
			return exec.None, valueErr(args.Fn, "lo (%s) is greater than hi (%s)", exec.FormatFloat(lo), exec.FormatFloat(hi))
		}
		return mapUnary(args.Fn, tv, func(x float64) float64 {
			if x < lo {
				return lo
			}
			if x > hi {
				return hi
			}
			return x
		})
	},
	"concat": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var l *exec.List
		axis := 0
		if err := args.Unpack("tensors", &l, "axis?", &axis); err != nil {
			return exec.None, err
		}
		ts, err := tensorList(args.Fn, l)
		if err != nil {
			return exec.None, err
		}
		t, err := concat(args.Fn, ts, axis)
		if err != nil {
			return exec.None, err
		}
		return exec.TensorValue(t), nil
	},
	"stack": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var l *exec.List
		axis := 0
		if err := args.Unpack("tensors", &l, "axis?", &axis); err != nil {
			return exec.None, err
		}
		ts, err := tensorList(args.Fn, l)
		if err != nil {
			return exec.None, err
		}
		ax, err := normAxis(args.Fn, axis, len(ts[0].Shape)+1)
		if err != nil {
			return exec.None, err
		}
		// Stacking is concatenation of the tensors with a new axis of 1.
		expanded := make([]*exec.Tensor, len(ts))
		for i, t := range ts {
			if !sameShape(t.Shape, ts[0].Shape) {
				return exec.None, valueErr(args.Fn, "all tensors must have the same shape, got %s and %s", shapeStr(ts[0].Shape), shapeStr(t.Shape))
			}
			shape := append(append(append([]int{}, t.Shape[:ax]...), 1), t.Shape[ax:]...)
			expanded[i] = &exec.Tensor{Shape: shape, Data: t.Data}
		}
		t, err := concat(args.Fn, expanded, ax)
		if err != nil {
			return exec.None, err
		}
		return exec.TensorValue(t), nil
	},
	"get": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if len(args.Kw) > 0 {
			return exec.None, typeErr(args.Fn, "takes no keyword arguments")
		}
		if len(args.Pos) < 2 {
			return exec.None, exec.Errorf(exec.KindType, "%s() takes a tensor and at least one index", args.Fn)
		}
		t, err := tensorArg(args.Fn, "t", args.Pos[0])
		if err != nil {
			return exec.None, err
		}
		off, rest, err := locate(args.Fn, t, args.Pos[1:])
		if err != nil {
			return exec.None, err
		}
		if len(rest) == 0 {
			return exec.Float(t.Data[off]), nil
		}
		return exec.TensorValue(view(t, off, rest)), nil
	},
	"row": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		var i int64
		if err := args.Unpack("t", &t, "i", &i); err != nil {
			return exec.None, err
		}
		if len(t.Shape) != 2 {
			return exec.None, valueErr(args.Fn, "expects a 2-D tensor, got shape %s", shapeStr(t.Shape))
		}
		r, err := index(args.Fn, i, t.Shape[0], 0)
		if err != nil {
			return exec.None, err
		}
		return exec.TensorValue(view(t, r*t.Shape[1], t.Shape[1:])), nil
	},
	"slice": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		var start, stop int64
		if err := args.Unpack("t", &t, "start", &start, "stop", &stop); err != nil {
			return exec.None, err
		}
		if len(t.Shape) == 0 {
			return exec.None, valueErr(args.Fn, "cannot slice a 0-dimensional tensor")
		}
		n := int64(t.Shape[0])
		clamp := func(i int64) int64 {
			if i < 0 {
				i += n
			}
			return min(max(i, 0), n)
		}
		start, stop = clamp(start), clamp(stop)
		stop = max(stop, start)
		shape := append([]int{int(stop - start)}, t.Shape[1:]...)
		stride := 1
		for _, d := range t.Shape[1:] {
			stride *= d
		}
		return exec.TensorValue(view(t, int(start)*stride, shape)), nil
	},
	"set": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		var idx, v exec.Value
		if err := args.Unpack("t", &t, "index", &idx, "value", &v); err != nil {
			return exec.None, err
		}
		var idxs []exec.Value
		if idx.Kind() == exec.ListKind {
			idxs = idx.AsList().Elems
		} else {
			idxs = []exec.Value{idx}
		}
		off, rest, err := locate(args.Fn, t, idxs)
		if err != nil {
			return exec.None, err
		}
		out := like(t)
		copy(out.Data, t.Data)
		sub := out.Data[off : off+len(view(t, off, rest).Data)]
		if v.Kind() == exec.TensorKind {
			vt := v.AsTensor()
			if !sameShape(vt.Shape, rest) {
				return exec.None, valueErr(args.Fn, "cannot set a part of shape %s to a tensor of shape %s", shapeStr(rest), shapeStr(vt.Shape))
			}
			copy(sub, vt.Data)
		} else {
			x, err := numberArg(args.Fn, "value", v)
			if err != nil {
				return exec.None, err
			}
			for i := range sub {
				sub[i] = x
			}
		}
		return exec.TensorValue(out), nil
	},
	"item": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		if len(t.Data) != 1 {
			return exec.None, valueErr(args.Fn, "needs a tensor of exactly one element, got shape %s", shapeStr(t.Shape))
		}
		return exec.Float(t.Data[0]), nil
	},
	"tolist": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		return toList(t.Shape, t.Data), nil
	},
	"softmax": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var t *exec.Tensor
		if err := args.Unpack("t", &t); err != nil {
			return exec.None, err
		}
		if len(t.Shape) == 0 {
			return exec.None, valueErr(args.Fn, "expects a tensor of at least 1 dimension")
		}
		out := like(t)
		n := t.Shape[len(t.Shape)-1]
		for o := 0; o+n <= len(t.Data) && n > 0; o += n {
			src, dst := t.Data[o:o+n], out.Data[o:o+n]
			mx := math.Inf(-1)
			for _, x := range src {
				mx = math.Max(mx, x)
			}
			var s float64
			for i, x := range src {
				dst[i] = math.Exp(x - mx)
				s += dst[i]
			}
			for i := range dst {
				dst[i] /= s
			}
		}
		return exec.TensorValue(out), nil
	},
	"allclose": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b *exec.Tensor
		rtol, atol := 1e-5, 1e-8
		if err := args.Unpack("a", &a, "b", &b, "rtol?", &rtol, "atol?", &atol); err != nil {
			return exec.None, err
		}
		d, err := binaryTT(args.Fn, opSub, a, b)
		if err != nil {
			return exec.None, err
		}
		bb, _ := binaryTT(args.Fn, opAdd, like(d), b) // b broadcast to the common shape
		for i, x := range d.Data {
			if !(math.Abs(x) <= atol+rtol*math.Abs(bb.Data[i])) {
				return exec.False, nil
			}
		}
		return exec.True, nil
	},
}

// filled is nd.zeros, nd.ones (value x) and nd.full (value from the call).
func filled(args *exec.Args, x float64, full bool) (exec.Value, error) {
	var sv exec.Value
	if full {
		if err := args.Unpack("shape", &sv, "value", &x); err != nil {
			return exec.None, err
		}
	} else if err := args.Unpack("shape", &sv); err != nil {
		return exec.None, err
	}
	shape, err := parseShape(args.Fn, sv)
	if err != nil {
		return exec.None, err
	}
	t, err := makeTensor(args.Fn, shape)
	if err != nil {
		return exec.None, err
	}
	if x != 0 {
		for i := range t.Data {
			t.Data[i] = x
		}
	}
	return exec.TensorValue(t), nil
}

// filledLike is nd.zeros_like, nd.ones_like and nd.full_like.
func filledLike(args *exec.Args, x float64, full bool) (exec.Value, error) {
	var t *exec.Tensor
	if full {
		if err := args.Unpack("t", &t, "value", &x); err != nil {
			return exec.None, err
		}
	} else if err := args.Unpack("t", &t); err != nil {
		return exec.None, err
	}
	out := like(t)
	if x != 0 {
		for i := range out.Data {
			out.Data[i] = x
		}
	}
	return exec.TensorValue(out), nil
}

// randomTensor is nd.randn(rng, shape) and nd.rand(rng, shape).
func randomTensor(args *exec.Args, normal bool) (exec.Value, error) {
	var gv, sv exec.Value
	if err := args.Unpack("rng", &gv, "shape", &sv); err != nil {
		return exec.None, err
	}
	g, ok := asGenerator(gv)
	if !ok {
		return exec.None, typeErr(args.Fn, "argument 'rng' must be a generator made by random.new, not %s", gv.TypeName())
	}
	shape, err := parseShape(args.Fn, sv)
	if err != nil {
		return exec.None, err
	}
	t, err := makeTensor(args.Fn, shape)
	if err != nil {
		return exec.None, err
	}
	if normal {
		g.FillNormal(t.Data)
	} else {
		g.FillUniform(t.Data, 0, 1)
	}
	return exec.TensorValue(t), nil
}

// asGenerator returns the generator in v.
func asGenerator(v exec.Value) (*Generator, bool) {
	if v.Kind() != exec.ObjectKind {
		return nil, false
	}
	g, ok := v.AsObject().(*Generator)
	return g, ok
}
