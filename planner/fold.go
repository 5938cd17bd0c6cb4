package planner

import (
	"github.com/rayflow/rayflow/exec"
)

// Constant folding. The planner computes constants with exec's own
// operators and built-ins, so a folded constant is exactly what the
// program computes when it runs (overflow, division by zero, float
// formatting, string repetition, comparison of mixed numbers). Whatever
// would be an error at run time is left unknown.

// maxFoldedString bounds the strings the planner builds by repetition:
// longer ones are left unknown rather than held in the plan.
const maxFoldedString = 1 << 16

// toValue is a planner constant as an exec value.
func toValue(k any) (exec.Value, bool) {
	switch x := k.(type) {
	case nil:
		return exec.None, true
	case bool:
		return exec.Bool(x), true
	case int64:
		return exec.Int(x), true
	case float64:
		return exec.Float(x), true
	case string:
		return exec.Str(x), true
	}
	return exec.None, false
}

// fromValue is an exec value as a planner constant, when it is one the
// planner holds (none, a bool, an int, a float or a string).
func fromValue(v exec.Value) (any, bool) {
	switch v.Kind() {
	case exec.NoneKind:
		return nil, true
	case exec.BoolKind:
		return v.AsBool(), true
	case exec.IntKind:
		return v.AsInt(), true
	case exec.FloatKind:
		return v.AsFloat(), true
	case exec.StringKind:
		return v.AsString(), true
	}
	return nil, false
}

// toValues converts known constants; ok is false if any is not one.
func toValues(vs []*val) ([]exec.Value, bool) {
	out := make([]exec.Value, len(vs))
	for i, v := range vs {
		if !v.known {
			return nil, false
		}
		x, ok := toValue(v.k)
		if !ok {
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// foldResult turns what exec computed into a planner constant.
func foldResult(v exec.Value, err error) (any, bool) {
	if err != nil {
		return nil, false
	}
	return fromValue(v)
}

// arith applies a binary operator to two constants, as exec.Arith does.
func arith(op string, x, y any) (any, bool) {
	a, ok1 := toValue(x)
	b, ok2 := toValue(y)
	if !ok1 || !ok2 || tooLong(op, a, b) {
		return nil, false
	}
	return foldResult(exec.Arith(op, a, b))
}

// tooLong reports a string repetition or concatenation whose result the
// planner should not build (past maxFoldedString).
func tooLong(op string, a, b exec.Value) bool {
	if op == "+" {
		return a.Kind() == exec.StringKind && b.Kind() == exec.StringKind &&
			len(a.AsString())+len(b.AsString()) > maxFoldedString
	}
	if op != "*" {
		return false
	}
	if b.Kind() == exec.StringKind {
		a, b = b, a
	}
	if a.Kind() != exec.StringKind || b.Kind() != exec.IntKind {
		return false
	}
	n := b.AsInt()
	return n > 0 && int64(len(a.AsString())) > maxFoldedString/n
}

// unaryOp applies unary - or + to a constant, as exec.Unary does.
func unaryOp(op string, x any) (any, bool) {
	v, ok := toValue(x)
	if !ok {
		return nil, false
	}
	return foldResult(exec.Unary(op, v))
}

// compare evaluates a comparison of constants, as exec.Compare does; ok
// is false when either side is not a known constant or the comparison
// is an error.
func compare(op string, a, b *val) (result, ok bool) {
	vs, ok := toValues([]*val{a, b})
	if !ok {
		return false, false
	}
	r, err := exec.Compare(op, vs[0], vs[1])
	return r, err == nil
}

// indexConst is s[k] of constants, as exec.Index computes it.
func indexConst(c, i *val) (any, bool) {
	vs, ok := toValues([]*val{c, i})
	if !ok || vs[0].Kind() != exec.StringKind {
		return nil, false
	}
	return foldResult(exec.Index(vs[0], vs[1]))
}

// scalarBuiltin computes a built-in whose result depends only on its
// arguments (abs, int, float, str, min, max) over constants.
func scalarBuiltin(name string, args []*val) (*val, bool) {
	fn := exec.PureBuiltin(name)
	if fn == nil {
		return nil, false
	}
	vs, ok := toValues(args)
	if !ok {
		return nil, false
	}
	k, ok := foldResult(fn(vs...))
	if !ok {
		return nil, false
	}
	var src []string
	for _, a := range args {
		src = unionSrc(src, a.src)
	}
	return constant(k, src...), true
}
