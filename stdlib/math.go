package stdlib

import (
	"math"

	"github.com/rayflow/rayflow/exec"
)

// MathModule returns the math module: Python's math functions on ints and
// floats. Domain errors are "value" errors.
func MathModule() *exec.Module {
	m := newModule("math")
	m.Members["pi"] = exec.Float(math.Pi)
	m.Members["e"] = exec.Float(math.E)
	m.Members["tau"] = exec.Float(2 * math.Pi)
	m.Members["inf"] = exec.Float(math.Inf(1))
	m.Members["nan"] = exec.Float(math.NaN())

	// Functions of one number that return a float, with their domain check.
	unary := []struct {
		name   string
		f      func(float64) float64
		domain func(float64) string // "" when x is in the domain
	}{
		{"sqrt", math.Sqrt, func(x float64) string {
			if x < 0 {
				return "math.sqrt of a negative number"
			}
			return ""
		}},
		{"exp", math.Exp, nil},
		{"log2", math.Log2, logDomain("math.log2")},
		{"log10", math.Log10, logDomain("math.log10")},
		{"sin", math.Sin, infDomain("math.sin")},
		{"cos", math.Cos, infDomain("math.cos")},
		{"tan", math.Tan, infDomain("math.tan")},
		{"asin", math.Asin, unitDomain("math.asin")},
		{"acos", math.Acos, unitDomain("math.acos")},
		{"atan", math.Atan, nil},
		{"sinh", math.Sinh, nil},
		{"cosh", math.Cosh, nil},
		{"tanh", math.Tanh, nil},
		{"fabs", math.Abs, nil},
		{"degrees", func(x float64) float64 { return x * 180 / math.Pi }, nil},
		{"radians", func(x float64) float64 { return x * math.Pi / 180 }, nil},
	}
	for _, u := range unary {
		u := u
		m.AddFunc(u.name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var x float64
			if err := args.Unpack("x", &x); err != nil {
				return exec.None, err
			}
			if u.domain != nil && !math.IsNaN(x) {
				if msg := u.domain(x); msg != "" {
					return exec.None, exec.Errorf(exec.KindValue, "%s", msg)
				}
			}
			r := u.f(x)
			if math.IsInf(r, 0) && !math.IsInf(x, 0) {
				return exec.None, exec.Errorf(exec.KindOverflow, "math.%s: result too large", u.name)
			}
			return exec.Float(r), nil
		})
	}

	m.AddFunc("log", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var x float64
		var base exec.Value
		if err := args.Unpack("x", &x, "base?", &base); err != nil {
			return exec.None, err
		}
		if x <= 0 {
			return exec.None, exec.Errorf(exec.KindValue, "math.log of a number that is not positive")
		}
		if base.IsNone() {
			return exec.Float(math.Log(x)), nil
		}
		b, err := numberArg("math.log", "base", base)
		if err != nil {
			return exec.None, err
		}
		if b <= 0 || b == 1 {
			return exec.None, exec.Errorf(exec.KindValue, "math.log: base must be positive and not 1, got %s", exec.FormatFloat(b))
		}
		return exec.Float(math.Log(x) / math.Log(b)), nil
	})

	// floor, ceil and trunc return ints, like Python.
	for _, r := range []struct {
		name string
		f    func(float64) float64
	}{{"floor", math.Floor}, {"ceil", math.Ceil}, {"trunc", math.Trunc}} {
		r := r
		m.AddFunc(r.name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var x exec.Value
			if err := args.Unpack("x", &x); err != nil {
				return exec.None, err
			}
			if x.Kind() == exec.IntKind {
				return x, nil
			}
			f, err := numberArg("math."+r.name, "x", x)
			if err != nil {
				return exec.None, err
			}
			return floatToInt("math."+r.name, r.f(f))
		})
	}

	m.AddFunc("pow", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var x, y float64
		if err := args.Unpack("x", &x, "y", &y); err != nil {
			return exec.None, err
		}
		if x == 0 && y < 0 {
			return exec.None, exec.Errorf(exec.KindValue, "math.pow: zero to a negative power")
		}
		if x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0) {
			return exec.None, exec.Errorf(exec.KindValue, "math.pow: a negative number to a fractional power")
		}
		r := math.Pow(x, y)
		if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
			return exec.None, exec.Errorf(exec.KindOverflow, "math.pow: result too large")
		}
		return exec.Float(r), nil
	})
	m.AddFunc("atan2", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var y, x float64
		if err := args.Unpack("y", &y, "x", &x); err != nil {
			return exec.None, err
		}
		return exec.Float(math.Atan2(y, x)), nil
	})
	m.AddFunc("hypot", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var x, y float64
		if err := args.Unpack("x", &x, "y", &y); err != nil {
			return exec.None, err
		}
		return exec.Float(math.Hypot(x, y)), nil
	})
	m.AddFunc("fmod", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var x, y float64
		if err := args.Unpack("x", &x, "y", &y); err != nil {
			return exec.None, err
		}
		if y == 0 {
			return exec.None, exec.Errorf(exec.KindValue, "math.fmod: division by zero")
		}
		return exec.Float(math.Mod(x, y)), nil
	})
	m.AddFunc("copysign", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var x, y float64
		if err := args.Unpack("x", &x, "y", &y); err != nil {
			return exec.None, err
		}
		return exec.Float(math.Copysign(x, y)), nil
	})
	for _, p := range []struct {
		name string
		f    func(float64) bool
	}{
		{"isnan", math.IsNaN},
		{"isinf", func(x float64) bool { return math.IsInf(x, 0) }},
		{"isfinite", func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }},
	} {
		p := p
		m.AddFunc(p.name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var x float64
			if err := args.Unpack("x", &x); err != nil {
				return exec.None, err
			}
			return exec.Bool(p.f(x)), nil
		})
	}
	m.AddFunc("isclose", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var a, b float64
		relTol, absTol := 1e-9, 0.0
		if err := args.Unpack("a", &a, "b", &b, "rel_tol?", &relTol, "abs_tol?", &absTol); err != nil {
			return exec.None, err
		}
		if relTol < 0 || absTol < 0 {
			return exec.None, exec.Errorf(exec.KindValue, "math.isclose: tolerances must be non-negative")
		}
		if a == b {
			return exec.True, nil
		}
		if math.IsInf(a, 0) || math.IsInf(b, 0) {
			return exec.False, nil
		}
		d := math.Abs(a - b)
		return exec.Bool(d <= relTol*math.Abs(b) || d <= relTol*math.Abs(a) || d <= absTol), nil
	})
	return m
}

func logDomain(name string) func(float64) string {
	return func(x float64) string {
		if x <= 0 {
			return name + " of a number that is not positive"
		}
		return ""
	}
}

func infDomain(name string) func(float64) string {
	return func(x float64) string {
		if math.IsInf(x, 0) {
			return name + " of an infinite number"
		}
		return ""
	}
}

func unitDomain(name string) func(float64) string {
	return func(x float64) string {
		if x < -1 || x > 1 {
			return name + " of a number outside [-1, 1]"
		}
		return ""
	}
}

// floatToInt converts an integral float to an int, or fails for nan, inf
// and values beyond 64 bits.
func floatToInt(fn string, f float64) (exec.Value, error) {
	if math.IsNaN(f) {
		return exec.None, exec.Errorf(exec.KindValue, "%s: cannot convert nan to an int", fn)
	}
	if math.IsInf(f, 0) {
		return exec.None, exec.Errorf(exec.KindOverflow, "%s: cannot convert %s to an int", fn, exec.FormatFloat(f))
	}
	if f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return exec.None, exec.Errorf(exec.KindOverflow, "%s: %s does not fit in a 64-bit int", fn, exec.FormatFloat(f))
	}
	return exec.Int(int64(f)), nil
}
