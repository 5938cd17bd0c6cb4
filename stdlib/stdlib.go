package stdlib

import (
	"fmt"

	"github.com/rayflow/rayflow/exec"
)

// init installs the nd module's broadcasting arithmetic as the
// evaluator's tensor arithmetic (exec cannot import stdlib).
func init() {
	exec.TensorArith = Arith
	exec.StringFormat = Format
}

// Modules returns fresh instances of every standard-library module, in a
// fixed order.
func Modules() []*exec.Module {
	return []*exec.Module{
		MathModule(),
		RandomModule(),
		NDModule(),
		StrModule(),
		JSONModule(),
		TimeModule(),
		IOModule(),
		SysModule(),
		RLModule(),
		ActorsModule(),
	}
}

// newModule makes an empty module.
func newModule(name string) *exec.Module {
	return &exec.Module{Name: name, Members: map[string]exec.Value{}}
}

// valueErr makes a "value" error whose message starts with the function's name.
func valueErr(fn, format string, args ...any) *exec.Error {
	return exec.Errorf(exec.KindValue, "%s: %s", fn, fmt.Sprintf(format, args...))
}

// typeErr makes a "type" error whose message starts with the function's name.
func typeErr(fn, format string, args ...any) *exec.Error {
	return exec.Errorf(exec.KindType, "%s: %s", fn, fmt.Sprintf(format, args...))
}

// futureErr is the error for a future used where a value is needed.
func futureErr(fn string, v exec.Value) *exec.Error {
	return exec.Errorf(exec.KindType, "%s: a future (%s) was used as a value; call get() to wait for its result", fn, v.AsFuture().Name())
}

// numberArg checks that v is a number and returns it as a float.
func numberArg(fn, param string, v exec.Value) (float64, error) {
	if v.IsNumber() {
		return v.Number(), nil
	}
	if v.Kind() == exec.BoolKind {
		return 0, typeErr(fn, "argument '%s' must be a number, not bool", param)
	}
	if v.Kind() == exec.FutureKind {
		return 0, futureErr(fn, v)
	}
	return 0, typeErr(fn, "argument '%s' must be a number, not %s", param, v.TypeName())
}

// checkCancelled returns a "cancelled" error when th was cancelled.
func checkCancelled(th *exec.Thread) error {
	if th == nil {
		return nil
	}
	if err := th.StopError(); err != nil {
		return err
	}
	return nil
}

// intList makes a list of ints.
func intList(xs []int) exec.Value {
	out := make([]exec.Value, len(xs))
	for i, x := range xs {
		out[i] = exec.Int(int64(x))
	}
	return exec.ListOf(out)
}

// strList makes a list of strings.
func strList(xs []string) exec.Value {
	out := make([]exec.Value, len(xs))
	for i, x := range xs {
		out[i] = exec.Str(x)
	}
	return exec.ListOf(out)
}
