package compiler

import (
	"github.com/rayflow/rayflow/lang"
)

// Name resolution.
//
// Every function gets one flat frame. Parameters take the first slots;
// each `let`, loop variable, comprehension variable and catch name takes a
// new slot, so a name declared in an inner block never overwrites an
// outer one. Lookup goes from the innermost block outwards, then to the
// actor's fields (inside methods), the program's globals, the built-ins
// and the modules.

// binding is a local name declared in an open block: its slot and where.
type binding struct {
	name string
	slot int
	pos  lang.Position
}

type resolver struct {
	c          *compiler
	fn         *Func // nil for const initialisers and actor field initialisers
	actor      *Actor
	initFields int // in field initialisers: how many fields are visible
	// bindings are the names of the open blocks, outermost first, in the
	// order declared; scopes holds where each open block's names start
	// in bindings. A block holds few names, so a scan beats a map per
	// block.
	bindings   []binding
	scopes     []int
	nextSlot   int
	maxSlots   int
	loops      int
	constIndex int // in a const initialiser: its global index; -1 elsewhere
	// whileConds are the conditions of the while loops being resolved,
	// innermost last, for hiddenLoopVar.
	whileConds []*lang.While
	// actorLocals remembers locals bound to a known actor class, so that
	// method calls on them can be checked statically.
	actorLocals map[int]*Actor
}

func (c *compiler) newResolver(fn *Func) *resolver {
	r := &resolver{c: c, fn: fn, actorLocals: map[int]*Actor{}, constIndex: -1}
	if fn != nil {
		r.actor = fn.Actor
		if r.actor != nil {
			r.initFields = len(r.actor.FieldNames)
		}
	}
	return r
}

func (r *resolver) push() {
	r.scopes = append(r.scopes, len(r.bindings))
}

func (r *resolver) pop() {
	// Slots of a closed block are not reused: a future in a closed block
	// stays reachable until the frame ends, which is what users expect.
	r.bindings = r.bindings[:r.scopes[len(r.scopes)-1]]
	r.scopes = r.scopes[:len(r.scopes)-1]
}

// declare adds a name to the innermost block and returns its slot.
func (r *resolver) declare(name string, pos lang.Position) int {
	for _, b := range r.bindings[r.scopes[len(r.scopes)-1]:] {
		if b.name == name {
			r.c.errorf(pos, "'%s' is already declared in this block at %d:%d", name, b.pos.Line, b.pos.Column)
			return b.slot
		}
	}
	slot := r.nextSlot
	r.nextSlot++
	if r.nextSlot > r.maxSlots {
		r.maxSlots = r.nextSlot
	}
	r.bindings = append(r.bindings, binding{name: name, slot: slot, pos: pos})
	return slot
}

func (r *resolver) params(params []*lang.Param) {
	for _, p := range params {
		r.checkType(p.Type)
		if p.Default != nil {
			r.expr(p.Default)
		}
	}
	for _, p := range params {
		r.declare(p.Name, p.Pos)
	}
}

func (r *resolver) checkType(t *lang.TypeRef) {
	if t == nil {
		return
	}
	if indexOf(TypeNames, t.Name) >= 0 {
		return
	}
	if _, ok := r.c.prog.Global(t.Name); ok {
		if g, _ := r.c.prog.Global(t.Name); g.Kind == GlobalActor {
			return // an actor class names the type of its handles
		}
	}
	r.c.errorf(t.Pos, "unknown type '%s'%s", t.Name, Suggest(t.Name, TypeNames))
}

// lookup resolves a name for reading.
func (r *resolver) lookup(name string) (*lang.Ref, bool) {
	for i := len(r.bindings) - 1; i >= 0; i-- { // innermost first
		if b := &r.bindings[i]; b.name == name {
			return r.c.newRef(lang.Ref{Kind: lang.RefLocal, Index: b.slot, Name: name}), true
		}
	}
	if r.actor != nil {
		if i := indexOf(r.actor.FieldNames[:r.initFields], name); i >= 0 {
			return r.c.newRef(lang.Ref{Kind: lang.RefField, Index: i, Name: name}), true
		}
	}
	if i, ok := r.c.prog.globalIndex[name]; ok {
		return r.c.newRef(lang.Ref{Kind: lang.RefGlobal, Index: i, Name: name}), true
	}
	if i := indexOf(r.c.prog.Builtins, name); i >= 0 {
		r.c.prog.Uses[name] = true
		return r.c.newRef(lang.Ref{Kind: lang.RefBuiltin, Index: i, Name: name}), true
	}
	if i := indexOf(r.c.prog.Modules, name); i >= 0 {
		r.c.prog.Uses[name] = true
		return r.c.newRef(lang.Ref{Kind: lang.RefModule, Index: i, Name: name}), true
	}
	return nil, false
}

// visibleNames lists every name visible here, for suggestions.
func (r *resolver) visibleNames() []string {
	var names []string
	for i := len(r.scopes) - 1; i >= 0; i-- { // inner blocks first
		end := len(r.bindings)
		if i+1 < len(r.scopes) {
			end = r.scopes[i+1]
		}
		for _, b := range r.bindings[r.scopes[i]:end] {
			names = append(names, b.name)
		}
	}
	if r.actor != nil {
		names = append(names, r.actor.FieldNames[:r.initFields]...)
	}
	for _, g := range r.c.prog.Globals {
		names = append(names, g.Name)
	}
	names = append(names, r.c.prog.Builtins...)
	names = append(names, r.c.prog.Modules...)
	return names
}

func (r *resolver) block(b *lang.Block, newScope bool) {
	if newScope {
		r.push()
		defer r.pop()
	}
	for _, s := range b.Stmts {
		r.stmt(s)
	}
}

func (r *resolver) stmt(s *lang.Stmt) {
	switch {
	case s.Let != nil:
		r.let(s.Let)
	case s.If != nil:
		r.ifStmt(s.If)
	case s.For != nil:
		r.forStmt(s.For)
	case s.While != nil:
		r.expr(s.While.Cond)
		r.loops++
		r.whileConds = append(r.whileConds, s.While)
		r.block(s.While.Body, true)
		r.whileConds = r.whileConds[:len(r.whileConds)-1]
		r.loops--
	case s.Break != nil:
		if r.loops == 0 {
			r.c.errorf(s.Break.Pos, "'%s' outside a loop", s.Break.Kind)
		}
	case s.Return != nil:
		if r.fn == nil {
			r.c.errorf(s.Return.Pos, "'return' outside a function")
		}
		if s.Return.Value != nil {
			r.expr(s.Return.Value)
		}
	case s.Try != nil:
		r.block(s.Try.Body, true)
		r.push()
		s.Try.ErrSlot = -1
		if s.Try.ErrName != "" {
			s.Try.ErrSlot = r.declare(s.Try.ErrName, s.Try.Pos)
		}
		r.block(s.Try.Handler, false)
		r.pop()
	case s.Block != nil:
		r.block(s.Block, true)
	case s.Simple != nil:
		r.simple(s.Simple)
	}
}

func (r *resolver) let(l *lang.Let) {
	r.expr(l.Value)
	r.hiddenLoopVar(l)
	l.Slots = make([]int, len(l.Names))
	for i, n := range l.Names {
		l.Slots[i] = r.declare(n, l.Pos)
	}
	if len(l.Names) == 1 {
		if a := r.actorCreated(l.Value); a != nil {
			r.actorLocals[l.Slots[0]] = a
		}
	}
}

// hiddenLoopVar refuses the let that would make a while loop run
// forever: inside `while len(pending) > 0 { ... }`, `let r, pending =
// wait(pending, num=1)` declares a new pending that hides the one the
// condition reads, so the condition never sees the update. It applies
// when the let's value reads the variable it hides (an update, not an
// unrelated new variable of the same name).
func (r *resolver) hiddenLoopVar(l *lang.Let) {
	if len(r.whileConds) == 0 {
		return
	}
	w := r.whileConds[len(r.whileConds)-1]
	for _, name := range l.Names {
		ref, ok := r.lookup(name)
		if !ok || ref.Kind != lang.RefLocal || !readsSlot(w.Cond, ref.Index) || !readsSlot(l.Value, ref.Index) {
			continue
		}
		r.c.errorf(l.Pos, "this let declares a new '%s' that hides the one the while condition at %d:%d reads, so the loop would never see the new value; assign it instead (let r, rest = ... then %s = rest)",
			name, w.Cond.Pos.Line, w.Cond.Pos.Column, name)
		return
	}
}

// readsSlot reports whether an expression reads the local in slot.
func readsSlot(e *lang.Expr, slot int) bool {
	found := false
	lang.Walk(e, func(n lang.Node) bool {
		if p, ok := n.(*lang.Primary); ok && p.Ref != nil && p.Ref.Kind == lang.RefLocal && p.Ref.Index == slot {
			found = true
		}
		return !found
	})
	return found
}

func (r *resolver) ifStmt(s *lang.If) {
	for ; s != nil; s = s.ElseIf {
		r.expr(s.Cond)
		r.block(s.Then, true)
		if s.Else != nil {
			r.block(s.Else, true)
		}
	}
}

func (r *resolver) forStmt(f *lang.For) {
	r.expr(f.Iter)
	r.push()
	f.Slots = make([]int, len(f.Names))
	for i, n := range f.Names {
		f.Slots[i] = r.declare(n, f.Pos)
	}
	r.loops++
	r.block(f.Body, true)
	r.loops--
	r.pop()
}

func (r *resolver) simple(s *lang.Simple) {
	if s.Op == "" {
		if len(s.Targets) > 1 {
			r.c.errorf(s.Targets[1].Pos, "a list of expressions is not a statement; did you mean '[...]'?")
		}
		r.expr(s.Targets[0])
		return
	}
	r.expr(s.Value)
	if len(s.Targets) > 1 && s.Op != "=" {
		r.c.errorf(s.Pos, "'%s' needs a single target", s.Op)
	}
	for _, t := range s.Targets {
		r.target(t)
	}
}

// target resolves the left side of an assignment: a variable, a field, or
// an indexed element.
func (r *resolver) target(e *lang.Expr) {
	pf := lang.PostfixOf(e)
	if pf == nil {
		r.c.errorf(e.Pos, "cannot assign to this expression")
		return
	}
	if len(pf.Suffixes) == 0 {
		r.assignName(pf.Primary)
		return
	}
	last := pf.Suffixes[len(pf.Suffixes)-1]
	if last.Index == nil || last.Index.Slice {
		if last.Field != "" {
			r.c.errorf(last.Pos, "cannot assign to field '%s'", last.Field)
		} else {
			r.c.errorf(last.Pos, "cannot assign to this expression")
		}
		return
	}
	r.postfix(pf)
}

func (r *resolver) assignName(p *lang.Primary) {
	if p.Name == "" {
		r.c.errorf(p.Pos, "cannot assign to a literal")
		return
	}
	ref, ok := r.lookup(p.Name)
	switch {
	case !ok:
		if h := lang.PythonNameHint(p.Name); h != "" {
			r.c.errorf(p.Pos, "undefined name '%s'%s", p.Name, h)
			return
		}
		r.c.errorf(p.Pos, "undefined name '%s'; declare it first with 'let %s = ...'%s",
			p.Name, p.Name, Suggest(p.Name, r.visibleNames()))
	case ref.Kind == lang.RefLocal || ref.Kind == lang.RefField:
		p.Ref = ref
	case ref.Kind == lang.RefGlobal && r.c.prog.Globals[ref.Index].Kind == GlobalConst:
		r.c.errorf(p.Pos, "cannot assign to constant '%s'", p.Name)
	default:
		r.c.errorf(p.Pos, "cannot assign to '%s': it is not a variable", p.Name)
	}
}
