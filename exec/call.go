package exec

import (
	"fmt"

	"github.com/rayflow/rayflow/planner/decision"
)

// invoke runs a function body on a fresh frame whose first slots hold the
// arguments, checking declared parameter and result types.
func (f *Function) invoke(th *Thread, slots []Value, fields []Value) Value {
	if err := th.check(); err != nil {
		panic(err)
	}
	if len(th.frames) > maxCallDepth {
		panic(Errorf(KindValue, "call depth exceeded %d in '%s' (unbounded recursion?)", maxCallDepth, f.qualifiedName()))
	}
	for i, p := range f.params {
		if p.typ != "" && !hasType(slots[i], p.typ) {
			e := Errorf(KindType, "argument '%s' of '%s' must be %s, got %s", p.name, f.qualifiedName(), p.typ, slots[i].TypeName())
			e.Pos = p.pos
			e.Stack = []Frame{{Pos: p.pos, Name: f.qualifiedName()}}
			panic(e)
		}
	}
	fr := &frame{th: th, prog: f.prog, slots: slots, fields: fields}
	ret := f.runBody(fr)
	if f.result != "" && !hasType(ret, f.result) {
		e := Errorf(KindType, "'%s' must return %s, returned %s", f.qualifiedName(), f.result, ret.TypeName())
		e.Pos = f.Info.Result.Pos
		e.Stack = []Frame{{Pos: e.Pos, Name: f.qualifiedName()}}
		panic(e)
	}
	return ret
}

// invokeFast is invoke for inline fn calls: the frame record comes from
// the thread's pool, as the frame cannot outlive the call.
func (f *Function) invokeFast(th *Thread, slots []Value) Value {
	fr := th.frameAt(len(th.frames))
	fr.slots = slots
	return f.invokePooled(th, fr)
}

// invokePooled runs the function on fr, the pooled frame of the current
// call depth, whose first slots hold the arguments.
func (f *Function) invokePooled(th *Thread, fr *frame) Value {
	if err := th.check(); err != nil {
		panic(err)
	}
	if len(th.frames) > maxCallDepth {
		panic(Errorf(KindValue, "call depth exceeded %d in '%s' (unbounded recursion?)", maxCallDepth, f.qualifiedName()))
	}
	if f.typed {
		for i := range f.params {
			if p := &f.params[i]; !p.fast.has(fr.slots[i].kind) && !hasType(fr.slots[i], p.typ) {
				return f.invoke(th, fr.slots, nil) // reports the error
			}
		}
	}
	if fr.prog != f.prog {
		fr.prog = f.prog
	}
	ret := f.runBody(fr)
	if !f.resultOK.has(ret.kind) {
		f.checkResult(ret)
	}
	return ret
}

// checkResult raises the error for a result that does not have the
// declared type; one that has it passes.
func (f *Function) checkResult(ret Value) {
	if f.result != "" && !hasType(ret, f.result) {
		e := Errorf(KindType, "'%s' must return %s, returned %s", f.qualifiedName(), f.result, ret.TypeName())
		e.Pos = f.Info.Result.Pos
		e.Stack = []Frame{{Pos: e.Pos, Name: f.qualifiedName()}}
		panic(e)
	}
}

// hasType checks a value against a type annotation. An int is accepted
// where a float is declared.
func hasType(v Value, typ string) bool {
	switch typ {
	case "any":
		return true
	case "float":
		return v.kind == FloatKind || v.kind == IntKind
	case "actor":
		return v.kind == ActorKind
	case "function":
		return v.kind == FunctionKind
	}
	if v.kind == ActorKind {
		return v.AsActor().Class != nil && v.AsActor().Class.name == typ
	}
	return v.TypeName() == typ
}

// bindArgs matches positional and keyword arguments to parameters and
// fills in defaults, giving the positional argument list of a call.
func bindArgs(th *Thread, name string, params []param, prog *Program, args []Value, kw []Kwarg) ([]Value, error) {
	if len(args) > len(params) {
		return nil, Errorf(KindType, "'%s' takes %d argument%s, got %d", name, len(params), plural(len(params)), len(args))
	}
	out := make([]Value, len(params))
	given := make([]bool, len(params))
	copy(out, args)
	for i := range args {
		given[i] = true
	}
	for _, k := range kw {
		j := -1
		for i, p := range params {
			if p.name == k.Name {
				j = i
			}
		}
		if j < 0 {
			return nil, Errorf(KindType, "unknown keyword argument '%s' in call to '%s'", k.Name, name)
		}
		if given[j] {
			return nil, Errorf(KindType, "argument '%s' given twice in call to '%s'", k.Name, name)
		}
		out[j], given[j] = k.Value, true
	}
	for i, p := range params {
		if given[i] {
			continue
		}
		if p.def == nil {
			return nil, Errorf(KindType, "missing argument '%s' in call to '%s'", p.name, name)
		}
		out[i] = p.def(&frame{th: th, prog: prog, slots: out})
	}
	return out, nil
}

// Call calls a function value: a fn runs inline, a task is submitted and
// gives a future. Pipelines and methods cannot be called this way.
func (f *Function) Call(th *Thread, args []Value, kw []Kwarg) (Value, error) {
	switch f.Kind {
	case "task":
		return f.submit(th, args, kw, nil)
	case "fn":
		bound, err := bindArgs(th, f.qualifiedName(), f.params, f.prog, args, kw)
		if err != nil {
			return None, err
		}
		slots := make([]Value, f.numSlots)
		copy(slots, bound)
		return f.invoke(th, slots, nil), nil // the caller pushed its frame
	}
	return None, Errorf(KindType, "%s '%s' cannot be called directly", f.Kind, f.qualifiedName())
}

// submit starts a task call through the runtime. Arguments cross the
// boundary by value: containers are copied now, so later changes by the
// caller are not seen by the task.
func (f *Function) submit(th *Thread, args []Value, kw []Kwarg, site *CallSite) (Value, error) {
	return f.submitArgs(th, args, kw, site, submitHow{})
}

// submitOwned is submit for a call whose positional arguments were made
// for it alone (evaluated by the call's own compiled code, which keeps
// nothing of the slice): when they are exactly its parameters, the call
// keeps args as its own instead of binding them into a copy.
func (f *Function) submitOwned(th *Thread, args []Value, kw []Kwarg, site *CallSite) (Value, error) {
	return f.submitArgs(th, args, kw, site, submitHow{owned: true})
}

// submitGroupedOwned is submitOwned for a call of site whose grouping
// its compiled code has looked up already (groupingAt).
func (f *Function) submitGroupedOwned(th *Thread, args []Value, kw []Kwarg, site *CallSite, g grouping) (Value, error) {
	return f.submitArgs(th, args, kw, site, submitHow{owned: true, grouping: &g})
}

// grouping is the planner's decision for the calls of one site, the
// size of their groups, and whether they go in groups (batch, fuse).
type grouping struct {
	d       *decision.Site
	size    int
	grouped bool
}

// groupingAt is the grouping of the calls of f at site.
func (f *Function) groupingAt(site *CallSite) grouping {
	d := f.prog.Plan.Site(site)
	if f.opts != "" {
		d = nil // a group travels as its declaration's calls
	}
	size := f.prog.groupSize(d, site)
	return grouping{d: d, size: size, grouped: d != nil && (d.Fuse || size > 1)}
}

// submitHow says how submitArgs takes a call: owned, its arguments are
// its own (submitOwned); near, the runtime places it next to its largest
// argument (TaskCall.Near); grouping, when not nil, its site's grouping
// looked up already.
type submitHow struct {
	owned, near bool
	grouping    *grouping
}

func (f *Function) submitArgs(th *Thread, args []Value, kw []Kwarg, site *CallSite, how submitHow) (Value, error) {
	bound := args
	if !how.owned || len(kw) > 0 || len(args) != len(f.params) {
		var err error
		if bound, err = bindArgs(th, f.qualifiedName(), f.params, f.prog, args, kw); err != nil {
			return None, err
		}
	}
	if th.Runtime == nil {
		return None, Errorf(KindInternal, "internal error: no runtime to run task '%s'", f.qualifiedName())
	}
	for i := range bound {
		bound[i] = CopyValue(bound[i])
	}
	var g grouping
	if how.grouping != nil {
		g = *how.grouping
	} else {
		g = f.groupingAt(site)
	}
	d, size, grouped := g.d, g.size, g.grouped
	var call *TaskCall
	if grouped {
		p := th.plan()
		call = p.newCall()
		*call = TaskCall{ID: th.groupedCallID(p), Func: f, Args: bound, Site: site, Near: how.near}
	} else {
		call = new(TaskCall)
		*call = TaskCall{ID: th.NextCallID(), Func: f, Args: bound, Site: site, Near: how.near}
	}
	if d != nil && d.Template {
		call.Slot = th.plan().nextSlot(site)
	}
	var fut *Future
	var err error
	if grouped {
		fut, err = th.submitGrouped(call, d, size)
	} else if rt, rerr := th.rt(); rerr != nil {
		err = rerr
	} else {
		fut, err = rt.Submit(th, call)
	}
	if err != nil {
		return None, err
	}
	return FutureValue(fut), nil
}

// Run runs a task body with already-resolved arguments (no futures among
// the direct arguments) and returns its result or its error. The node
// agent calls it on a worker.
//
// The body runs as an inline fn call does, on the thread's pooled frame
// of its depth and in the slots that frame keeps, so that a thread the
// node reuses runs task after task without allocating either (the node
// scrubs a thread before it keeps it: Thread.Scrub).
func (f *Function) Run(th *Thread, args []Value) (result Value, err *Error) {
	saved := len(th.frames)
	defer func() {
		if r := recover(); r != nil {
			err = finishError(th, r, saved, f.Info.Pos, f.qualifiedName())
		}
		if th.planned != nil {
			err = th.sendGroupAtEnd(err, f)
		}
	}()
	fr := th.frameAt(saved)
	fr.slots, fr.fields = fr.ownSlots(f.numSlots, len(args)), nil
	copy(fr.slots, args)
	return f.invokePooled(th, fr), nil
}

// Params lists the function's parameter names.
func (f *Function) Params() []string {
	names := make([]string, len(f.params))
	for i, p := range f.params {
		names[i] = p.name
	}
	return names
}

// ActorInstance is the state of one live actor: its class and fields.
// The node agent that hosts the actor owns it and runs one method at a
// time on it.
type ActorInstance struct {
	Class  *ActorClass
	Fields []Value
}

// Call creates an actor when an actor class is called as a value.
func (c *ActorClass) Call(th *Thread, args []Value, kw []Kwarg) (Value, error) {
	return c.create(th, args, kw, nil)
}

func (c *ActorClass) create(th *Thread, args []Value, kw []Kwarg, site *CallSite) (Value, error) {
	bound, err := bindArgs(th, c.name, c.params, c.prog, args, kw)
	if err != nil {
		return None, err
	}
	if th.Runtime == nil {
		return None, Errorf(KindInternal, "internal error: no runtime to create actor '%s'", c.name)
	}
	for i := range bound {
		bound[i] = CopyValue(bound[i])
	}
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	h, err := rt.NewActor(th, &TaskCall{ID: th.NextCallID(), Class: c, Args: bound, Site: site})
	if err != nil {
		return None, err
	}
	return ActorValue(h), nil
}

// Instantiate builds an actor's state from resolved constructor
// arguments: parameters first, then each `let` field in order.
func (c *ActorClass) Instantiate(th *Thread, args []Value) (inst *ActorInstance, err *Error) {
	saved := len(th.frames)
	defer func() {
		if r := recover(); r != nil {
			err = finishError(th, r, saved, c.Info.Pos, c.name)
		}
		err = err.inTask(c.name)
	}()
	for i, p := range c.params {
		if p.typ != "" && !hasType(args[i], p.typ) {
			return nil, &Error{Kind: KindType, Pos: p.pos, Msg: fmt.Sprintf("argument '%s' of actor %s must be %s, got %s", p.name, c.name, p.typ, args[i].TypeName()),
				Stack: []Frame{{Pos: p.pos, Name: c.name}}}
		}
	}
	fields := make([]Value, len(c.Info.FieldNames))
	copy(fields, args)
	slots := make([]Value, max(c.initSlots, len(args)))
	copy(slots, args)
	fr := &frame{th: th, prog: c.prog, slots: slots, fields: fields}
	cc := &compileCtx{prog: c.prog, fnName: c.name}
	for _, fi := range c.fields {
		v := fi.value(fr)
		if len(fi.slots) == 1 {
			fields[fi.slots[0]] = v
			continue
		}
		for i, val := range cc.unpack(v, len(fi.slots), fi.pos) {
			fields[fi.slots[i]] = val
		}
	}
	return &ActorInstance{Class: c, Fields: fields}, nil
}

// RunMethod runs one method call on an actor's state. An error it
// returns names the method (Error.Task).
func (f *Function) RunMethod(th *Thread, inst *ActorInstance, args []Value) (result Value, err *Error) {
	saved := len(th.frames)
	defer func() {
		if r := recover(); r != nil {
			err = finishError(th, r, saved, f.Info.Pos, f.qualifiedName())
		}
		if th.planned != nil {
			err = th.sendGroupAtEnd(err, f)
		}
		if err != nil { // the name is built only for an error: a method's is a concatenation
			err = err.inTask(f.qualifiedName())
		}
	}()
	slots := make([]Value, f.numSlots)
	copy(slots, args)
	return f.invoke(th, slots, inst.Fields), nil
}

// Method returns the method named name.
func (c *ActorClass) Method(name string) (*Function, bool) {
	m, ok := c.Methods[name]
	return m, ok
}

// callActorMethod queues `actor.name(args)` through the runtime.
func callActorMethod(th *Thread, a *ActorHandle, name string, args []Value, kw []Kwarg, site *CallSite) (Value, error) {
	m, ok := a.Class.Methods[name]
	if !ok {
		return None, Errorf(KindName, "actor %s has no method '%s'", a.Class.name, name)
	}
	bound, err := bindArgs(th, m.qualifiedName(), m.params, m.prog, args, kw)
	if err != nil {
		return None, err
	}
	for i := range bound {
		bound[i] = CopyValue(bound[i])
	}
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	fut, err := rt.CallMethod(th, a, &TaskCall{ID: th.NextCallID(), Func: m, Args: bound, Site: site})
	if err != nil {
		return None, err
	}
	return FutureValue(fut), nil
}

// boundMethod is `actor.method` taken as a value.
type boundMethod struct {
	actor  *ActorHandle
	method *Function
}

func (b boundMethod) Name() string { return b.method.qualifiedName() }

func (b boundMethod) Call(th *Thread, args []Value, kw []Kwarg) (Value, error) {
	return callActorMethod(th, b.actor, b.method.name, args, kw, nil)
}

// CopyValue copies the mutable parts of a value (lists and maps, deeply)
// so that the copy can cross a task, actor or put/get boundary. Strings,
// tensors, futures and handles are immutable or shared by design.
func CopyValue(v Value) Value {
	switch v.kind {
	case ListKind:
		src := v.AsList().Elems
		out := make([]Value, len(src))
		for i, e := range src {
			out[i] = CopyValue(e)
		}
		return ListOf(out)
	case MapKind:
		src := v.AsMap()
		out := NewMap(src.Len())
		for i, k := range src.keys {
			_ = out.Set(k, CopyValue(src.vals[i]))
		}
		return MapValue(out)
	case ObjectKind:
		if c, ok := v.AsObject().(Copier); ok {
			return ObjectValue(c.Copy())
		}
	case FunctionKind:
		if m, ok := methodCopy(v); ok {
			return m // a generator's method goes with a copy of the generator
		}
	}
	return v
}

// Copier is a host object with state that must be copied, not shared,
// when it crosses a task, actor or put/get boundary (a random generator).
type Copier interface {
	Copy() Object
}

// BindArgs matches arguments to the function's parameters and fills in
// defaults, as a call would.
func (f *Function) BindArgs(th *Thread, args []Value, kw []Kwarg) (out []Value, err error) {
	saved := len(th.frames)
	defer func() {
		if r := recover(); r != nil {
			err = finishError(th, r, saved, f.Info.Pos, f.qualifiedName())
		}
	}()
	return bindArgs(th, f.qualifiedName(), f.params, f.prog, args, kw)
}
