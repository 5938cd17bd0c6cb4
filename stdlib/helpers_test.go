package stdlib

import (
	"math"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

var (
	I = exec.Int
	F = exec.Float
	S = exec.Str
)

func L(vs ...exec.Value) exec.Value { return exec.ListOf(vs) }

func kw(name string, v exec.Value) exec.Kwarg { return exec.Kwarg{Name: name, Value: v} }

// fn returns a module member as a callable.
func fn(t testing.TB, m *exec.Module, name string) exec.Callable {
	t.Helper()
	v, ok := m.Attr(name)
	if !ok || v.Kind() != exec.FunctionKind {
		t.Fatalf("%s.%s is not a function", m.Name, name)
	}
	return v.AsCallable()
}

// call calls a module function with positional arguments and keyword
// arguments mixed in as exec.Kwarg values.
func call(t testing.TB, m *exec.Module, name string, args ...any) (exec.Value, error) {
	t.Helper()
	return callOn(t, &exec.Thread{}, fn(t, m, name), args...)
}

func callOn(t testing.TB, th *exec.Thread, c exec.Callable, args ...any) (exec.Value, error) {
	t.Helper()
	var pos []exec.Value
	var kws []exec.Kwarg
	for _, a := range args {
		switch a := a.(type) {
		case exec.Value:
			pos = append(pos, a)
		case exec.Kwarg:
			kws = append(kws, a)
		default:
			t.Fatalf("bad test argument %T", a)
		}
	}
	return c.Call(th, pos, kws)
}

func mustCall(t testing.TB, m *exec.Module, name string, args ...any) exec.Value {
	t.Helper()
	v, err := call(t, m, name, args...)
	if err != nil {
		t.Fatalf("%s.%s: unexpected error: %v", m.Name, name, err)
	}
	return v
}

// method calls a method of a host object.
func method(t testing.TB, obj exec.Value, name string, args ...any) (exec.Value, error) {
	t.Helper()
	v, ok := obj.AsObject().Attr(name)
	if !ok {
		t.Fatalf("%s has no attribute %s", obj.TypeName(), name)
	}
	return callOn(t, &exec.Thread{}, v.AsCallable(), args...)
}

func mustMethod(t testing.TB, obj exec.Value, name string, args ...any) exec.Value {
	t.Helper()
	v, err := method(t, obj, name, args...)
	if err != nil {
		t.Fatalf("%s.%s: unexpected error: %v", obj.TypeName(), name, err)
	}
	return v
}

// wantErr checks that err is an *exec.Error of kind with msg in its message.
func wantErr(t testing.TB, err error, kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error containing %q, got none", kind, msg)
	}
	e, ok := err.(*exec.Error)
	if !ok {
		t.Fatalf("want an *exec.Error, got %T: %v", err, err)
	}
	if e.Kind != kind || !strings.Contains(e.Msg, msg) {
		t.Fatalf("want a %s error containing %q, got %s: %s", kind, msg, e.Kind, e.Msg)
	}
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) || (math.IsNaN(a) && math.IsNaN(b))
}

func tensor(shape []int, data ...float64) exec.Value {
	return exec.TensorValue(&exec.Tensor{Shape: shape, Data: data})
}
