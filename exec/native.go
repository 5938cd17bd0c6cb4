package exec

import (
	"github.com/rayflow/rayflow/compiler"
)

// NativeTask is a Go function registered by an embedding program to run
// as a task: calling it from rayflow returns a future at once, and the
// function runs on a worker of whichever node the scheduler picks, with
// the resources given here.
type NativeTask struct {
	Builtin   *Builtin
	Resources map[string]float64 // default cpu=1
}

// Name is the task's name.
func (nt *NativeTask) Name() string { return nt.Builtin.Name() }

// Call submits the task.
func (nt *NativeTask) Call(th *Thread, args []Value, kw []Kwarg) (Value, error) {
	if len(kw) > 0 {
		return None, Errorf(KindType, "native task '%s' takes positional arguments only", nt.Name())
	}
	if th.Runtime == nil {
		return None, Errorf(KindInternal, "internal error: no runtime to run task '%s'", nt.Name())
	}
	copied := make([]Value, len(args))
	for i, a := range args {
		copied[i] = CopyValue(a)
	}
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	fut, err := rt.Submit(th, &TaskCall{ID: th.NextCallID(), Native: nt, Args: copied})
	if err != nil {
		return None, err
	}
	return FutureValue(fut), nil
}

// Name is the callee's name: the task, the native task or the actor.
func (c *TaskCall) Name() string {
	switch {
	case c.Native != nil:
		return c.Native.Name()
	case c.Func != nil:
		return c.Func.Name()
	case c.Class != nil:
		return c.Class.Name()
	}
	return "?"
}

// Ref is how the callee is named between processes: Name, with the
// options of a task or class made by options(...).
func (c *TaskCall) Ref() string {
	switch {
	case c.Func != nil:
		return c.Func.Ref()
	case c.Class != nil:
		return c.Class.Ref()
	}
	return c.Name()
}

// Resources is what one run of the call needs.
func (c *TaskCall) Resources() map[string]float64 {
	switch {
	case c.Native != nil:
		if c.Native.Resources == nil {
			return map[string]float64{"cpu": 1}
		}
		return c.Native.Resources
	case c.Func != nil:
		return c.Func.Info.Resources
	case c.Class != nil:
		return c.Class.Info.Resources
	}
	return nil
}

// Info is the compiler's view of the callee (nil for native tasks).
func (c *TaskCall) Info() *compiler.Func {
	if c.Func != nil {
		return c.Func.Info
	}
	return nil
}

// Run runs a task call's body with resolved arguments on th.
// An error it returns names the task (Error.Task).
func (c *TaskCall) Run(th *Thread, args []Value) (Value, *Error) {
	if c.Native == nil {
		v, err := c.Func.Run(th, args)
		return v, err.inTask(c.Func.Name())
	}
	v, err := c.Native.Builtin.Call(th, args, nil)
	if err != nil {
		e := asError(err, c.Site.PosOrZero(), c.Native.Name())
		return None, e.inTask(c.Native.Name())
	}
	return v, nil
}
