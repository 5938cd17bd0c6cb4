package exec

import (
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

func (cc *compileCtx) postfix(pf *lang.Postfix) evalFn {
	saved := cc.callPos
	cc.callPos = pf.Pos
	defer func() { cc.callPos = saved }()
	sfx := pf.Suffixes
	var f evalFn
	switch {
	case len(sfx) > 1 && sfx[0].Field == "options" && sfx[1].Call != nil && cc.staticGlobal(pf) != nil:
		var n int
		f, n = cc.optionsCall(cc.staticGlobal(pf), pf)
		sfx = sfx[n:]
	case len(sfx) > 0 && sfx[0].Call != nil && cc.staticGlobal(pf) != nil:
		f = cc.staticCall(cc.staticGlobal(pf), sfx[0].Call)
		sfx = sfx[1:]
	case len(sfx) > 1 && sfx[0].Field != "" && sfx[1].Call != nil && pf.Primary.Ref != nil && pf.Primary.Ref.Kind == lang.RefModule:
		f = cc.moduleCall(pf.Primary.Ref.Index, sfx[0].Field, sfx[1].Call, sfx[0].Pos)
		sfx = sfx[2:]
	default:
		f = cc.primary(pf.Primary)
	}
	for i := 0; i < len(sfx); i++ {
		s := sfx[i]
		switch {
		case s.Field != "" && i+1 < len(sfx) && sfx[i+1].Call != nil:
			f = cc.methodCall(f, s.Field, sfx[i+1].Call, s.Pos)
			i++
		case s.Field != "":
			f = cc.attr(f, s.Field, s.Pos)
		case s.Call != nil:
			f = cc.dynamicCall(f, s.Call)
		case s.Index != nil:
			f = cc.index(f, s.Index)
		}
	}
	return f
}

// staticGlobal returns the fn, task or actor a name refers to, when the
// name is a global declaration.
func (cc *compileCtx) staticGlobal(pf *lang.Postfix) *compiler.Global {
	ref := pf.Primary.Ref
	if ref == nil || ref.Kind != lang.RefGlobal {
		return nil
	}
	g := cc.prog.Compiled.Globals[ref.Index]
	if g.Kind == compiler.GlobalConst {
		return nil
	}
	return g
}

// argList is a compiled argument list.
type argList struct {
	pos    []evalFn
	kwName []string
	kw     []evalFn
	where  lang.Position
}

func (cc *compileCtx) args(call *lang.Call) *argList {
	al := &argList{where: call.Pos}
	for _, a := range call.Args {
		if a.Name == "" {
			al.pos = append(al.pos, cc.expr(a.Value))
		} else {
			al.kwName = append(al.kwName, a.Name)
			al.kw = append(al.kw, cc.expr(a.Value))
		}
	}
	return al
}

func (al *argList) eval(fr *frame) ([]Value, []Kwarg) {
	var pos []Value
	if len(al.pos) > 0 {
		pos = make([]Value, len(al.pos))
		for i, a := range al.pos {
			pos[i] = a(fr)
		}
	}
	var kw []Kwarg
	if len(al.kw) > 0 {
		kw = make([]Kwarg, len(al.kw))
		for i, a := range al.kw {
			kw[i] = Kwarg{Name: al.kwName[i], Value: a(fr)}
		}
	}
	return pos, kw
}

// evalGrouped is eval for a grouped call (batch, fuse), its positional
// arguments made in the thread's chunk for its grouped calls' arguments
// (threadPlan.newArgs), not in an allocation of their own.
func (al *argList) evalGrouped(fr *frame) ([]Value, []Kwarg) {
	if len(al.pos) == 0 || len(al.kw) > 0 {
		return al.eval(fr)
	}
	pos := fr.th.plan().newArgs(len(al.pos))
	for i, a := range al.pos {
		pos[i] = a(fr)
	}
	return pos, nil
}

// staticCall compiles a call of a declaration known at compile time.
func (cc *compileCtx) staticCall(g *compiler.Global, call *lang.Call) evalFn {
	pos := cc.callPos
	site := cc.prog.Compiled.Sites[call]
	if g.Kind == compiler.GlobalActor {
		class := cc.prog.classes[g.Actor]
		al := cc.args(call)
		return func(fr *frame) Value {
			args, kw := al.eval(fr)
			v, err := class.create(fr.th, args, kw, site)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	f := cc.prog.funcs[g.Func]
	if f.Kind == "task" {
		al := cc.args(call)
		if loop := cc.ahead[call]; loop != nil {
			return cc.aheadCall(loop, f, al, site)
		}
		return func(fr *frame) Value {
			var args []Value
			var kw []Kwarg
			g := f.groupingAt(site) // once for the call: its arguments are made where it goes
			if g.grouped {
				args, kw = al.evalGrouped(fr)
			} else {
				args, kw = al.eval(fr)
			}
			v, err := f.submitGroupedOwned(fr.th, args, kw, site, g)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	return cc.inlineCall(f, call)
}

// inlineCall compiles a call of a plain fn: arguments are evaluated
// straight into the callee's frame slots, matched to parameters at
// compile time.
func (cc *compileCtx) inlineCall(f *Function, call *lang.Call) evalFn {
	info := f.Info
	argFns := make([]evalFn, len(call.Args))
	argVals := make([]value, len(call.Args))
	argSlot := make([]int, len(call.Args))
	given := make([]bool, len(info.Params))
	for i, a := range call.Args {
		argFns[i] = cc.expr(a.Value)
		argVals[i] = valueOf(argFns[i], exprOperand(a.Value))
		argSlot[i] = i
		if a.Name != "" {
			argSlot[i] = paramIndex(info.Params, a.Name)
		}
		given[argSlot[i]] = true
	}
	var missing []int
	for j := range info.Params {
		if !given[j] {
			missing = append(missing, j)
		}
	}
	site := &Frame{Pos: cc.callPos, Name: cc.fnName}
	if len(missing) == 0 && len(call.Args) == len(info.Params) && positional(call) {
		var la *localArith
		if len(call.Args) == 1 {
			la = localArithOf(call.Args[0].Value)
		}
		return inlineCallPositional(f, argVals, la, site)
	}
	return func(fr *frame) Value {
		th := fr.th
		base := len(th.vals)
		slots := th.reserve(f.numSlots)
		for i, a := range argFns {
			slots[argSlot[i]] = a(fr)
		}
		th.pushFrame(site)
		for _, j := range missing {
			slots[j] = f.params[j].def(&frame{th: th, prog: fr.prog, slots: slots})
		}
		v := f.invokeFast(th, slots)
		th.popFrame()
		th.vals = th.vals[:base]
		return v
	}
}

// inlineCallPositional is inlineCall when the call gives every parameter
// by position, as in `fib(n - 1)`: argument i goes to slot i (read
// directly when it is a local), no defaults are evaluated, and only the
// slots past the arguments are cleared.
//
//go:noinline
func inlineCallPositional(f *Function, args []value, la *localArith, site *Frame) evalFn {
	nargs := len(args)
	if nargs == 1 {
		return inlineCall1(f, args[0], la, site)
	}
	return func(fr *frame) Value {
		th := fr.th
		base := len(th.vals)
		slots := th.reserveArgs(f.numSlots, nargs)
		for i := range args {
			slots[i] = args[i].get(fr)
		}
		th.pushFrame(site)
		v := f.invokeFast(th, slots)
		th.popFrame()
		th.vals = th.vals[:base]
		return v
	}
}

// inlineCall1 is inlineCallPositional for a fn of one parameter. The
// argument is held in a Go variable while it is evaluated (it may call a
// fn at the depth the callee will run at); then the callee runs on the
// pooled frame of its depth, in slots that frame keeps from call to
// call, so the thread's value stack is not touched. An argument such as
// `n - 1` (la, nil otherwise) is computed here while it is on ints. A fn
// whose body only returns runs directly when the thread has nothing to
// check, the depth is within the limit and the argument's kind is one
// its parameter's type accepts.
//
//go:noinline
func inlineCall1(f *Function, arg value, la *localArith, site *Frame) evalFn {
	return func(fr *frame) Value {
		var a Value
		ok := false
		if la != nil {
			a, ok = la.ints(fr)
		}
		if !ok {
			a = arg.get(fr)
		}
		th := fr.th
		th.pushFrame(site)
		callee := th.frameAt(len(th.frames))
		callee.slots = callee.ownSlots(f.numSlots, 1)
		callee.slots[0] = a
		var v Value
		if f.expr != nil && th.unchecked() && len(th.frames) <= maxCallDepth && callee.prog == f.prog && f.params[0].fast.has(a.kind) {
			v = f.expr(callee) // what invokePooled would do, without its call
			if !f.resultOK.has(v.kind) {
				f.checkResult(v)
			}
		} else {
			v = f.invokePooled(th, callee)
		}
		th.popFrame()
		return v
	}
}

// positional reports whether every argument of call is positional.
func positional(call *lang.Call) bool {
	for _, a := range call.Args {
		if a.Name != "" {
			return false
		}
	}
	return true
}

func paramIndex(params []*lang.Param, name string) int {
	for i, p := range params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// moduleCall compiles `module.member(args)`, looking the member up once.
func (cc *compileCtx) moduleCall(modIndex int, name string, call *lang.Call, fieldPos lang.Position) evalFn {
	mod := cc.prog.modules[modIndex].AsObject()
	member, ok := mod.Attr(name)
	if !ok {
		panic(cc.errAt(fieldPos, KindName, "module has no member '%s'", name))
	}
	al := cc.args(call)
	pos := cc.callPos
	if member.kind != FunctionKind {
		return func(fr *frame) Value {
			panic(cc.errAt(pos, KindType, "%s is not a function", member.TypeName()))
		}
	}
	fn := member.AsCallable()
	if b, ok := fn.(*Builtin); ok && (b.Nondeterministic || b.NondeterministicWithoutArgs) {
		// The clock, sleep, reads: calls waiting in the thread's group
		// are sent first, so that they run while it sleeps or reads, as
		// calls sent one by one would.
		return func(fr *frame) Value {
			if err := fr.th.flushGroup(); err != nil {
				panic(cc.locate(err, pos))
			}
			args, kw := al.eval(fr)
			v, err := fn.Call(fr.th, args, kw)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	return func(fr *frame) Value {
		args, kw := al.eval(fr)
		v, err := fn.Call(fr.th, args, kw)
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}
}

// dynamicCall compiles a call of a value computed at run time.
func (cc *compileCtx) dynamicCall(callee evalFn, call *lang.Call) evalFn {
	al := cc.args(call)
	pos, caller := cc.callPos, cc.fnName
	return func(fr *frame) Value {
		f := callee(fr)
		args, kw := al.eval(fr)
		return callValue(fr.th, f, args, kw, pos, caller)
	}
}

// callValue calls any callable value, adding the caller's frame to
// errors from rayflow functions.
func callValue(th *Thread, f Value, args []Value, kw []Kwarg, pos lang.Position, caller string) Value {
	if f.kind != FunctionKind {
		if f.kind == FutureKind {
			panic(asError(futureAsValue(f), pos, caller))
		}
		panic(asError(Errorf(KindType, "%s is not callable", f.TypeName()), pos, caller))
	}
	c := f.AsCallable()
	if _, own := c.(*Function); own {
		th.pushFrame(&Frame{Pos: pos, Name: caller})
		defer th.popFrame()
	}
	v, err := c.Call(th, args, kw)
	if err != nil {
		panic(locateAt(err, pos, caller))
	}
	return v
}

// methodCall compiles `receiver.name(args)`: an actor method, a method of
// a string, list or map, or a method of a host object.
func (cc *compileCtx) methodCall(recv evalFn, name string, call *lang.Call, fieldPos lang.Position) evalFn {
	al := cc.args(call)
	site := cc.prog.Compiled.Sites[call]
	pos, caller := cc.callPos, cc.fnName
	return func(fr *frame) Value {
		r := recv(fr)
		args, kw := al.eval(fr)
		switch r.kind {
		case ActorKind:
			v, err := callActorMethod(fr.th, r.AsActor(), name, args, kw, site)
			if err != nil {
				panic(locateAt(err, pos, caller))
			}
			return v
		case StringKind, ListKind, MapKind:
			v, err := builtinMethod(fr.th, r, name, args, kw)
			if err != nil {
				panic(locateAt(err, pos, caller))
			}
			return v
		case ObjectKind:
			m, ok := r.AsObject().Attr(name)
			if !ok {
				panic(cc.errAt(fieldPos, KindName, "%s has no method '%s'", r.TypeName(), name))
			}
			return callValue(fr.th, m, args, kw, pos, caller)
		case FutureKind:
			panic(cc.locate(futureAsValue(r), fieldPos))
		}
		panic(cc.errAt(fieldPos, KindType, "%s has no method '%s'", r.TypeName(), name))
	}
}

// attr compiles `value.name` that is not called: a field of a host
// object or module (err.message, math.pi).
func (cc *compileCtx) attr(recv evalFn, name string, pos lang.Position) evalFn {
	return func(fr *frame) Value {
		r := recv(fr)
		switch r.kind {
		case ObjectKind:
			if v, ok := r.AsObject().Attr(name); ok {
				return v
			}
		case FutureKind:
			panic(cc.locate(futureAsValue(r), pos))
		case ActorKind:
			if m, ok := r.AsActor().Class.Methods[name]; ok {
				return FuncValue(boundMethod{actor: r.AsActor(), method: m})
			}
		}
		panic(cc.errAt(pos, KindName, "%s has no field '%s'", r.TypeName(), name))
	}
}

func (cc *compileCtx) primary(p *lang.Primary) evalFn {
	switch {
	case p.Int != nil:
		n, err := strconv.ParseInt(strings.ReplaceAll(*p.Int, "_", ""), 10, 64)
		if err != nil {
			panic(cc.errAt(p.Pos, KindOverflow, "integer literal %s does not fit in 64 bits", *p.Int))
		}
		v := Int(n)
		return func(*frame) Value { return v }
	case p.Float != nil:
		f, _ := strconv.ParseFloat(strings.ReplaceAll(*p.Float, "_", ""), 64)
		v := Float(f)
		return func(*frame) Value { return v }
	case p.String != nil:
		v := Str(*p.String)
		return func(*frame) Value { return v }
	case p.Bool != nil:
		v := Bool(*p.Bool == "true")
		return func(*frame) Value { return v }
	case p.None:
		return func(*frame) Value { return None }
	case p.Name != "":
		return cc.name(p)
	case p.List != nil:
		return cc.list(p.List)
	case p.Map != nil:
		return cc.mapLit(p.Map)
	case p.Paren != nil:
		return cc.expr(p.Paren)
	}
	panic(cc.errAt(p.Pos, KindInternal, "internal error: empty expression"))
}

func (cc *compileCtx) name(p *lang.Primary) evalFn {
	ref := p.Ref
	i := ref.Index
	switch ref.Kind {
	case lang.RefLocal:
		return func(fr *frame) Value { return fr.slots[i] }
	case lang.RefField:
		return func(fr *frame) Value { return fr.fields[i] }
	case lang.RefGlobal:
		globals := cc.prog.globals
		if g := cc.prog.Compiled.Globals[i]; g.Kind != compiler.GlobalConst {
			v := globals[i]
			return func(*frame) Value { return v }
		}
		return func(*frame) Value {
			// A const's list or map is copied on each read, so no task or
			// caller can change what the const holds.
			if v := globals[i]; v.kind == ListKind || v.kind == MapKind {
				return CopyValue(v)
			}
			return globals[i]
		}
	case lang.RefBuiltin:
		v := cc.prog.builtins[i]
		return func(*frame) Value { return v }
	case lang.RefModule:
		v := cc.prog.modules[i]
		return func(*frame) Value { return v }
	}
	panic(cc.errAt(p.Pos, KindInternal, "internal error: unresolved name %s", p.Name))
}

func (cc *compileCtx) mapLit(m *lang.MapLit) evalFn {
	keys := make([]evalFn, len(m.Entries))
	vals := make([]evalFn, len(m.Entries))
	poss := make([]lang.Position, len(m.Entries))
	for i, e := range m.Entries {
		keys[i], vals[i], poss[i] = cc.expr(e.Key), cc.expr(e.Value), e.Pos
	}
	return func(fr *frame) Value {
		out := NewMap(len(keys))
		for i := range keys {
			if err := out.Set(keys[i](fr), vals[i](fr)); err != nil {
				panic(cc.locate(err, poss[i]))
			}
		}
		return MapValue(out)
	}
}
