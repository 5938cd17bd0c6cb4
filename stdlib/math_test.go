package stdlib

import (
	"math"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestMathValues(t *testing.T) {
	m := MathModule()
	tests := []struct {
		name string
		args []any
		want exec.Value
	}{
		{"sqrt", []any{I(16)}, F(4)},
		{"sqrt", []any{F(2.25)}, F(1.5)},
		{"floor", []any{F(-2.5)}, I(-3)},
		{"floor", []any{I(7)}, I(7)},
		{"ceil", []any{F(2.1)}, I(3)},
		{"trunc", []any{F(-2.7)}, I(-2)},
		{"exp", []any{I(0)}, F(1)},
		{"log", []any{F(math.E)}, F(1)},
		{"log", []any{I(8), I(2)}, F(3)},
		{"log", []any{I(100), kw("base", I(10))}, F(2)},
		{"log2", []any{I(1024)}, F(10)},
		{"log10", []any{F(1000)}, F(3)},
		{"sin", []any{I(0)}, F(0)},
		{"cos", []any{I(0)}, F(1)},
		{"tan", []any{I(0)}, F(0)},
		{"asin", []any{I(1)}, F(math.Pi / 2)},
		{"acos", []any{I(1)}, F(0)},
		{"atan", []any{I(1)}, F(math.Pi / 4)},
		{"atan2", []any{I(1), I(1)}, F(math.Pi / 4)},
		{"pow", []any{I(2), I(10)}, F(1024)},
		{"pow", []any{F(-8), I(3)}, F(-512)},
		{"fabs", []any{I(-3)}, F(3)},
		{"hypot", []any{I(3), I(4)}, F(5)},
		{"isnan", []any{F(math.NaN())}, exec.True},
		{"isnan", []any{I(1)}, exec.False},
		{"isinf", []any{F(math.Inf(-1))}, exec.True},
		{"isfinite", []any{F(math.Inf(1))}, exec.False},
		{"isfinite", []any{F(1)}, exec.True},
		{"isclose", []any{F(0.1 + 0.2), F(0.3)}, exec.True},
		{"degrees", []any{F(math.Pi)}, F(180)},
	}
	for _, tt := range tests {
		got, err := call(t, m, tt.name, tt.args...)
		if err != nil {
			t.Errorf("math.%s%v: %v", tt.name, tt.args, err)
			continue
		}
		if got.Kind() != tt.want.Kind() {
			t.Errorf("math.%s%v = %s (%s), want %s", tt.name, tt.args, got.Repr(), got.TypeName(), tt.want.Repr())
			continue
		}
		if got.Kind() == exec.FloatKind && near(got.AsFloat(), tt.want.AsFloat()) {
			continue
		}
		if got.Repr() != tt.want.Repr() {
			t.Errorf("math.%s%v = %s, want %s", tt.name, tt.args, got.Repr(), tt.want.Repr())
		}
	}
	for name, want := range map[string]float64{"pi": math.Pi, "e": math.E, "tau": 2 * math.Pi, "inf": math.Inf(1)} {
		if v, _ := m.Attr(name); v.AsFloat() != want {
			t.Errorf("math.%s = %v", name, v.AsFloat())
		}
	}
	if v, _ := m.Attr("nan"); !math.IsNaN(v.AsFloat()) {
		t.Error("math.nan is not nan")
	}
}

func TestMathErrors(t *testing.T) {
	m := MathModule()
	tests := []struct {
		name string
		args []any
		kind string
		msg  string
	}{
		{"sqrt", []any{I(-1)}, exec.KindValue, "math.sqrt of a negative number"},
		{"log", []any{I(0)}, exec.KindValue, "not positive"},
		{"log", []any{I(8), I(1)}, exec.KindValue, "base"},
		{"log10", []any{F(-1)}, exec.KindValue, "not positive"},
		{"asin", []any{I(2)}, exec.KindValue, "outside [-1, 1]"},
		{"pow", []any{I(0), I(-1)}, exec.KindValue, "zero to a negative power"},
		{"pow", []any{I(-8), F(0.5)}, exec.KindValue, "fractional power"},
		{"exp", []any{I(1000)}, exec.KindOverflow, "too large"},
		{"floor", []any{F(math.NaN())}, exec.KindValue, "nan"},
		{"floor", []any{F(1e300)}, exec.KindOverflow, "64-bit"},
		{"sqrt", []any{S("x")}, exec.KindType, "must be a number"},
		{"sqrt", []any{}, exec.KindType, "missing argument"},
	}
	for _, tt := range tests {
		_, err := call(t, m, tt.name, tt.args...)
		wantErr(t, err, tt.kind, tt.msg)
	}
}
