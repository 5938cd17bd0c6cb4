package exec

import (
	"math"
	"math/bits"
	"strings"
)

// futureAsValue is the error for a future used where a value is needed.
func futureAsValue(v Value) *Error {
	return Errorf(KindType, "a future (%s) was used as a value; call get() to wait for its result", v.AsFuture().Name())
}

// TensorArith does element-wise arithmetic when either operand is a
// tensor. The nd module installs it (exec cannot import stdlib); until
// then tensors support only what tensorArithBasic does.
var TensorArith func(op byte, a, b Value) (Value, error) = tensorArithBasic

// Arith applies a binary arithmetic operator: + - * / // % **. The
// closure compiler and the planner's constant folding both use it, so a
// folded constant is what the program would compute.
func Arith(op string, x, y Value) (Value, error) {
	if x.kind == FutureKind {
		return None, futureAsValue(x)
	}
	if y.kind == FutureKind {
		return None, futureAsValue(y)
	}
	switch {
	case x.kind == IntKind && y.kind == IntKind:
		return intArith(op, x.AsInt(), y.AsInt())
	case x.IsNumber() && y.IsNumber():
		return floatArith(op, x.Number(), y.Number())
	case x.kind == TensorKind || y.kind == TensorKind:
		if len(op) == 1 && (x.kind == TensorKind || x.IsNumber()) && (y.kind == TensorKind || y.IsNumber()) {
			return TensorArith(op[0], x, y)
		}
	case op == "+" && x.kind == StringKind && y.kind == StringKind:
		a, b := x.AsString(), y.AsString()
		if err := checkSize("the joined string", int64(len(a))+int64(len(b)), 1); err != nil {
			return None, err
		}
		return Str(a + b), nil
	case op == "+" && x.kind == ListKind && y.kind == ListKind:
		a, b := x.AsList().Elems, y.AsList().Elems
		if err := checkSize("the joined list", int64(len(a))+int64(len(b)), valueSize); err != nil {
			return None, err
		}
		out := make([]Value, 0, len(a)+len(b))
		return ListOf(append(append(out, a...), b...)), nil
	case op == "*" && (x.kind == StringKind || x.kind == ListKind) && y.kind == IntKind:
		return repeat(x, y.AsInt())
	case op == "*" && x.kind == IntKind && (y.kind == StringKind || y.kind == ListKind):
		return repeat(y, x.AsInt())
	case op == "%" && x.kind == StringKind:
		return None, Errorf(KindType, "strings have no '%%' operator; use str.format or \"{}\".format(...)")
	}
	return None, Errorf(KindType, "unsupported operand types for %s: %s and %s", op, x.TypeName(), y.TypeName())
}

func repeat(v Value, n int64) (Value, error) {
	if n < 0 {
		n = 0
	}
	if v.kind == StringKind {
		s := v.AsString()
		if s == "" {
			return Str(""), nil
		}
		if err := checkSize("the repeated string", n, int64(len(s))); err != nil {
			return None, err
		}
		return Str(strings.Repeat(s, int(n))), nil
	}
	elems := v.AsList().Elems
	if len(elems) == 0 {
		return ListOf(nil), nil
	}
	if err := checkSize("the repeated list", n, int64(len(elems))*valueSize); err != nil {
		return None, err
	}
	out := make([]Value, 0, len(elems)*int(n))
	for i := int64(0); i < n; i++ {
		out = append(out, elems...)
	}
	return ListOf(out), nil
}

func overflow(op string) (Value, error) {
	return None, Errorf(KindOverflow, "integer overflow in '%s'", op)
}

func intArith(op string, a, b int64) (Value, error) {
	switch op {
	case "+":
		c := a + b
		if (c > a) != (b > 0) {
			return overflow(op)
		}
		return Int(c), nil
	case "-":
		c := a - b
		if (c < a) != (b > 0) {
			return overflow(op)
		}
		return Int(c), nil
	case "*":
		hi, lo := bits.Mul64(uint64(abs64(a)), uint64(abs64(b)))
		neg := (a < 0) != (b < 0)
		if hi != 0 || lo > math.MaxInt64 && !(neg && lo == 1<<63) || a == math.MinInt64 && b != 1 && b != 0 || b == math.MinInt64 && a != 1 && a != 0 {
			return overflow(op)
		}
		return Int(a * b), nil
	case "/":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "division by zero")
		}
		return Float(float64(a) / float64(b)), nil
	case "//":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "integer division by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return overflow(op)
		}
		q := a / b
		if (a%b != 0) && ((a < 0) != (b < 0)) {
			q--
		}
		return Int(q), nil
	case "%":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "integer modulo by zero")
		}
		if b == -1 {
			return Int(0), nil
		}
		m := a % b
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return Int(m), nil
	case "**":
		return intPow(a, b)
	}
	return None, Errorf(KindType, "unsupported operator %s", op)
}

func abs64(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

func intPow(a, b int64) (Value, error) {
	if b < 0 {
		if a == 0 {
			return None, Errorf(KindZeroDivision, "zero to a negative power")
		}
		return Float(math.Pow(float64(a), float64(b))), nil
	}
	result := int64(1)
	for b > 0 {
		if b&1 == 1 {
			v, err := intArith("*", result, a)
			if err != nil {
				return overflow("**")
			}
			result = v.AsInt()
		}
		b >>= 1
		if b > 0 {
			v, err := intArith("*", a, a)
			if err != nil {
				return overflow("**")
			}
			a = v.AsInt()
		}
	}
	return Int(result), nil
}

func floatArith(op string, a, b float64) (Value, error) {
	switch op {
	case "+":
		return Float(a + b), nil
	case "-":
		return Float(a - b), nil
	case "*":
		return Float(a * b), nil
	case "/":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "division by zero")
		}
		return Float(a / b), nil
	case "//":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "float division by zero")
		}
		return Float(math.Floor(a / b)), nil
	case "%":
		if b == 0 {
			return None, Errorf(KindZeroDivision, "float modulo by zero")
		}
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return Float(m), nil
	case "**":
		if a == 0 && b < 0 {
			return None, Errorf(KindZeroDivision, "zero to a negative power")
		}
		r := math.Pow(a, b)
		if math.IsNaN(r) && !math.IsNaN(a) && !math.IsNaN(b) {
			return None, Errorf(KindValue, "a negative number to a fractional power has no real result")
		}
		return Float(r), nil
	}
	return None, Errorf(KindType, "unsupported operator %s", op)
}

// Unary applies a unary operator: - or +.
func Unary(op string, v Value) (Value, error) {
	if op == "-" {
		return Negate(v)
	}
	if !v.IsNumber() {
		return None, Errorf(KindType, "unary '+' needs a number, not %s", v.TypeName())
	}
	return v, nil
}

// Negate is unary minus.
func Negate(v Value) (Value, error) {
	switch v.kind {
	case IntKind:
		if v.AsInt() == math.MinInt64 {
			return overflow("-")
		}
		return Int(-v.AsInt()), nil
	case FloatKind:
		return Float(-v.AsFloat()), nil
	case TensorKind:
		return TensorArith('*', v, Float(-1))
	case FutureKind:
		return None, futureAsValue(v)
	}
	return None, Errorf(KindType, "unary '-' needs a number, not %s", v.TypeName())
}

// Equal reports whether two values are equal: numbers by value (1 == 1.0),
// containers element by element, futures and actors by identity. Values
// of unrelated types are not equal.
func Equal(x, y Value) bool {
	if x.IsNumber() && y.IsNumber() {
		if x.kind == IntKind && y.kind == IntKind {
			return x.num == y.num
		}
		return x.Number() == y.Number()
	}
	if x.kind != y.kind {
		return false
	}
	switch x.kind {
	case NoneKind:
		return true
	case BoolKind:
		return x.num == y.num
	case StringKind:
		return x.AsString() == y.AsString()
	case ListKind:
		a, b := x.AsList().Elems, y.AsList().Elems
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !Equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case MapKind:
		return mapsEqual(x.AsMap(), y.AsMap())
	case TensorKind:
		return tensorsEqual(x.AsTensor(), y.AsTensor())
	}
	return x.ref == y.ref
}

func mapsEqual(a, b *Map) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i, k := range a.keys {
		v, ok, _ := b.Get(k)
		if !ok || !Equal(a.vals[i], v) {
			return false
		}
	}
	return true
}

func tensorsEqual(a, b *Tensor) bool {
	if len(a.Shape) != len(b.Shape) || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			return false
		}
	}
	return true
}

// Compare applies a comparison operator: == != < <= > >= in, not in. The
// closure compiler and the planner's constant folding both use it.
func Compare(op string, x, y Value) (bool, error) {
	switch op {
	case "==", "!=":
		if x.kind == FutureKind && y.kind != FutureKind {
			return false, futureAsValue(x)
		}
		if y.kind == FutureKind && x.kind != FutureKind {
			return false, futureAsValue(y)
		}
		return Equal(x, y) == (op == "=="), nil
	case "in", "notin", "not in":
		in, err := contains(y, x)
		return in == (op == "in"), err
	}
	c, err := order(x, y, op)
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c >= 0, nil
	}
}

// order compares two values for <, <=, >, >=: numbers, strings, and
// lists element by element.
func order(x, y Value, op string) (int, error) {
	switch {
	case x.kind == FutureKind:
		return 0, futureAsValue(x)
	case y.kind == FutureKind:
		return 0, futureAsValue(y)
	case x.kind == IntKind && y.kind == IntKind:
		a, b := x.AsInt(), y.AsInt()
		return cmp3(a < b, a > b), nil
	case x.IsNumber() && y.IsNumber():
		a, b := x.Number(), y.Number()
		if math.IsNaN(a) || math.IsNaN(b) {
			return 2, nil // every ordered comparison with nan is false
		}
		return cmp3(a < b, a > b), nil
	case x.kind == StringKind && y.kind == StringKind:
		return strings.Compare(x.AsString(), y.AsString()), nil
	case x.kind == BoolKind && y.kind == BoolKind:
		return cmp3(x.num < y.num, x.num > y.num), nil
	case x.kind == ListKind && y.kind == ListKind:
		a, b := x.AsList().Elems, y.AsList().Elems
		for i := 0; i < len(a) && i < len(b); i++ {
			if Equal(a[i], b[i]) {
				continue
			}
			return order(a[i], b[i], op)
		}
		return cmp3(len(a) < len(b), len(a) > len(b)), nil
	}
	return 0, Errorf(KindType, "cannot compare %s and %s with '%s'", x.TypeName(), y.TypeName(), op)
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// contains implements `x in c`.
func contains(c, x Value) (bool, error) {
	switch c.kind {
	case ListKind:
		for _, e := range c.AsList().Elems {
			if Equal(e, x) {
				return true, nil
			}
		}
		return false, nil
	case MapKind:
		if x.kind != StringKind && x.kind != IntKind && x.kind != BoolKind && x.kind != FloatKind {
			return false, nil
		}
		_, ok, err := c.AsMap().Get(x)
		return ok, err
	case StringKind:
		if x.kind != StringKind {
			return false, Errorf(KindType, "'in <string>' needs a string on the left, not %s", x.TypeName())
		}
		return strings.Contains(c.AsString(), x.AsString()), nil
	case FutureKind:
		return false, futureAsValue(c)
	}
	return false, Errorf(KindType, "'in' needs a list, a map or a string on the right, not %s", c.TypeName())
}
