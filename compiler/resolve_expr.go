package compiler

import (
	"fmt"
	"github.com/rayflow/rayflow/lang"
)

// expr resolves the names of e and checks its calls and fields.
func (r *resolver) expr(e *lang.Expr) {
	r.walk(e)
}

// walk resolves everything under n (which may be nil).
func (r *resolver) walk(n lang.Node) {
	lang.Walk(n, r.visit)
}

// visit is the resolver's step of lang.Walk. A postfix expression and a
// comprehension are taken whole, since their parts are resolved in an
// order of their own: a primary before the suffixes that are checked
// against it, a comprehension's names before the element that uses them.
func (r *resolver) visit(n lang.Node) bool {
	switch n := n.(type) {
	case *lang.Postfix:
		r.postfix(n)
		return false
	case *lang.Primary:
		r.primary(n)
	case *lang.ListLit:
		if n.Comp != nil {
			r.comprehension(n)
			return false
		}
	}
	return true
}

func (r *resolver) postfix(pf *lang.Postfix) {
	r.walk(pf.Primary)
	r.preferModule(pf)
	for i, s := range pf.Suffixes {
		r.walk(s) // the arguments, or the parts of an index
		switch {
		case s.Call != nil:
			r.checkCall(pf, i)
		case s.Field != "":
			r.checkField(pf, i)
		}
	}
}

// primary resolves a name and checks an int literal; Walk goes on into
// the list, map or bracketed expression.
func (r *resolver) primary(p *lang.Primary) {
	switch {
	case p.Name != "":
		ref, ok := r.lookup(p.Name)
		if !ok {
			r.c.errorf(p.Pos, "undefined name '%s'%s", p.Name, nameHint(p.Name, r.visibleNames()))
			return
		}
		p.Ref = ref
		r.checkConstOrder(p)
	case p.Int != nil:
		if _, err := ParseInt(*p.Int); err != nil {
			r.c.errorf(p.Pos, "%v; ints are 64-bit (at most 9223372036854775807)", err)
		}
	}
}

// comprehension resolves a list comprehension: its names are visible in
// its conditions, the clauses after it, and the element expression.
func (r *resolver) comprehension(l *lang.ListLit) {
	depth := 0
	for c := l.Comp; c != nil; c = c.Next {
		r.walk(c.Iter)
		r.push()
		depth++
		c.Slots = make([]int, len(c.Names))
		for i, n := range c.Names {
			c.Slots[i] = r.declare(n, c.Pos)
		}
		for _, cond := range c.Conds {
			r.walk(cond)
		}
	}
	r.expr(l.First)
	for ; depth > 0; depth-- {
		r.pop()
	}
}

// checkField checks `module.member` statically.
func (r *resolver) checkField(pf *lang.Postfix, i int) {
	if i != 0 || pf.Primary.Ref == nil || pf.Primary.Ref.Kind != lang.RefModule {
		return
	}
	mod := pf.Primary.Name
	members := r.c.prog.Universe.Modules[mod]
	name := pf.Suffixes[0].Field
	r.c.prog.Uses[mod+"."+name] = true
	if _, ok := members[name]; !ok {
		names := make([]string, 0, len(members))
		for n := range members {
			names = append(names, n)
		}
		r.c.errorf(pf.Suffixes[0].Pos, "module '%s' has no member '%s'%s", mod, name, Suggest(name, names))
	}
}

// checkCall checks a call whose callee is known statically, records what
// it says about determinism, and makes a call site for task, actor and
// method calls.
func (r *resolver) checkCall(pf *lang.Postfix, i int) {
	if r.checkOptionsCall(pf, i) {
		return
	}
	call := pf.Suffixes[i].Call
	callee := r.staticCallee(pf, i)
	switch c := callee.(type) {
	case *Global:
		r.checkGlobalCall(c, call)
	case calleeMethod:
		if c.fn != nil {
			r.checkArgs(c.fn.QualifiedName(), c.fn.Params, call)
		}
		r.noteNondet("it calls actor method '"+c.name+"'", call.Pos)
		r.site(call, "method", c.name, c.fn, c.actor)
	case calleeMember:
		r.checkMemberCall(c, call)
	case calleeBuiltin:
		if c.member.Nondeterministic || c.member.NondeterministicWithoutArgs && len(call.Args) == 0 {
			r.noteNondet("it calls "+c.name+"()", call.Pos)
		}
		if c.name == "get" && hasKeyword(call, "timeout") {
			r.noteNondet("it calls get() with a timeout", call.Pos)
		}
		if c.name == "reduce" {
			r.noteReduced(call)
		}
	}
}

// noteReduced records that reduce(f, xs) calls the task f, when f is a
// declaration's name: the caller is then nondeterministic if f is.
func (r *resolver) noteReduced(call *lang.Call) {
	if r.fn == nil || len(call.Args) == 0 || call.Args[0].Name != "" {
		return
	}
	pf := lang.PostfixOf(call.Args[0].Value)
	if pf == nil || len(pf.Suffixes) != 0 || pf.Primary.Ref == nil || pf.Primary.Ref.Kind != lang.RefGlobal {
		return
	}
	if g := r.c.prog.Globals[pf.Primary.Ref.Index]; g.Kind == GlobalFunc {
		r.fn.callees = append(r.fn.callees, g.Func)
	}
}

func (r *resolver) checkGlobalCall(g *Global, call *lang.Call) {
	switch g.Kind {
	case GlobalFunc:
		f := g.Func
		if f.Kind == "pipeline" {
			r.c.errorf(call.Pos, "pipeline '%s' cannot be called; pipelines are entry points (use a fn or a task)", f.Name)
			return
		}
		r.checkArgs(f.Name, f.Params, call)
		if r.fn != nil {
			r.fn.callees = append(r.fn.callees, f)
		}
		if f.Kind == "task" {
			r.site(call, "task", f.Name, f, nil)
		}
	case GlobalActor:
		r.checkArgs(g.Actor.Name, g.Actor.Params, call)
		r.site(call, "actor", g.Actor.Name, nil, g.Actor)
	case GlobalConst:
		// A const may hold a function; checked at run time.
	}
}

func (r *resolver) checkMemberCall(c calleeMember, call *lang.Call) {
	if c.member.Nondeterministic || c.member.NondeterministicWithoutArgs && len(call.Args) == 0 {
		r.noteNondet("it calls "+c.module+"."+c.name+"()", call.Pos)
	}
}

// noteNondet records that the current function is directly
// nondeterministic, with the first reason found and where it is.
func (r *resolver) noteNondet(reason string, pos lang.Position) {
	if r.fn != nil && r.fn.nondetReason == "" {
		r.fn.nondetReason = fmt.Sprintf("%s at %s:%d:%d", reason, pos.Filename, pos.Line, pos.Column)
	}
}

func (r *resolver) site(call *lang.Call, kind, name string, fn *Func, actor *Actor) {
	s := &CallSite{Pos: call.Pos, Kind: kind, Callee: name, Func: fn, Actor: actor, Enclosing: r.fn, Retries: -1}
	for _, a := range call.Args {
		s.ArgSources = append(s.ArgSources, describeArg(a))
	}
	r.c.prog.Sites[call] = s
}

// checkArgs checks a call's arguments against parameters: count, names,
// and that every parameter without a default gets a value.
func (r *resolver) checkArgs(name string, params []*lang.Param, call *lang.Call) {
	given := make([]bool, len(params))
	positional := 0
	for _, a := range call.Args {
		if a.Name != "" {
			break
		}
		positional++
	}
	if positional > len(params) {
		r.c.errorf(call.Args[len(params)].Pos, "too many arguments in call to '%s': it takes %d, got %d", name, len(params), positional)
		positional = len(params)
	}
	for i := 0; i < positional; i++ {
		given[i] = true
	}
	seenKeyword := false
	for _, a := range call.Args {
		if a.Name == "" {
			if seenKeyword {
				r.c.errorf(a.Pos, "a positional argument cannot follow a keyword argument")
			}
			continue
		}
		seenKeyword = true
		j := paramIndex(params, a.Name)
		switch {
		case j < 0:
			r.c.errorf(a.Pos, "unknown keyword argument '%s' in call to '%s'%s", a.Name, name, Suggest(a.Name, paramNames(params)))
		case given[j]:
			r.c.errorf(a.Pos, "argument '%s' given twice in call to '%s'", a.Name, name)
		default:
			given[j] = true
		}
	}
	for j, p := range params {
		if !given[j] && p.Default == nil {
			r.c.errorf(call.Pos, "missing argument '%s' in call to '%s'", p.Name, name)
		}
	}
}

func paramIndex(params []*lang.Param, name string) int {
	for i, p := range params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func paramNames(params []*lang.Param) []string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return names
}

// preferModule resolves a name that is both a built-in and a module (str)
// to the module when a field follows it: str.upper(s) but str(x).
func (r *resolver) preferModule(pf *lang.Postfix) {
	ref := pf.Primary.Ref
	if ref == nil || ref.Kind != lang.RefBuiltin || len(pf.Suffixes) == 0 || pf.Suffixes[0].Field == "" {
		return
	}
	if i := indexOf(r.c.prog.Modules, ref.Name); i >= 0 {
		pf.Primary.Ref = &lang.Ref{Kind: lang.RefModule, Index: i, Name: ref.Name}
	}
}

// checkConstOrder records that the const being resolved uses another
// const, so that consts are evaluated after the ones they use (they may
// be declared in any order); a const that uses itself is an error.
func (r *resolver) checkConstOrder(p *lang.Primary) {
	if r.constIndex < 0 || p.Ref.Kind != lang.RefGlobal {
		return
	}
	if r.c.prog.Globals[p.Ref.Index].Kind != GlobalConst {
		return
	}
	if p.Ref.Index == r.constIndex {
		r.c.errorf(p.Pos, "const '%s' cannot refer to itself", p.Name)
		return
	}
	r.c.constUses[r.constIndex] = append(r.c.constUses[r.constIndex], constUse{global: p.Ref.Index, pos: p.Pos})
}

// hasKeyword reports whether a call passes the keyword argument name.
func hasKeyword(call *lang.Call, name string) bool {
	for _, a := range call.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}
