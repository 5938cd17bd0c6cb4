package planner

import (
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// fnsWithSites finds the plain fns that make task, actor or method
// calls (or call function values), directly or through other fns: only
// those are inlined.
func fnsWithSites(p *compiler.Program) map[*compiler.Func]bool {
	has := map[*compiler.Func]bool{}
	calls := map[*compiler.Func][]*compiler.Func{}
	for _, f := range p.Funcs {
		if f.Kind != "fn" {
			continue
		}
		visitCalls(f.Body.Stmts, func(pf *lang.Postfix, call *lang.Call, i int) {
			ref := pf.Primary.Ref
			if p.Sites[call] != nil || i == 0 && ref != nil && ref.Kind == lang.RefLocal {
				// A call site, or a call of a function value (which may
				// be a task).
				has[f] = true
			}
			if i == 0 && ref != nil && ref.Kind == lang.RefGlobal {
				if g := p.Globals[ref.Index]; g.Kind == compiler.GlobalFunc && g.Func.Kind == "fn" {
					calls[f] = append(calls[f], g.Func)
				}
			}
		})
	}
	for changed := true; changed; {
		changed = false
		for f, callees := range calls {
			for _, g := range callees {
				if has[g] && !has[f] {
					has[f], changed = true, true
				}
			}
		}
	}
	return has
}

// visitCalls calls fn for every call in stmts, with the postfix
// expression it belongs to and its suffix index.
func visitCalls(stmts []*lang.Stmt, fn func(*lang.Postfix, *lang.Call, int)) {
	v := callVisitor(fn)
	for _, s := range stmts {
		v.stmt(s)
	}
}

type callVisitor func(*lang.Postfix, *lang.Call, int)

func (v callVisitor) block(b *lang.Block) {
	if b == nil {
		return
	}
	for _, s := range b.Stmts {
		v.stmt(s)
	}
}

func (v callVisitor) stmt(s *lang.Stmt) {
	switch {
	case s.Let != nil:
		v.expr(s.Let.Value)
	case s.If != nil:
		for c := s.If; c != nil; c = c.ElseIf {
			v.expr(c.Cond)
			v.block(c.Then)
			v.block(c.Else)
		}
	case s.For != nil:
		v.expr(s.For.Iter)
		v.block(s.For.Body)
	case s.While != nil:
		v.expr(s.While.Cond)
		v.block(s.While.Body)
	case s.Return != nil:
		v.expr(s.Return.Value)
	case s.Try != nil:
		v.block(s.Try.Body)
		v.block(s.Try.Handler)
	case s.Block != nil:
		v.block(s.Block)
	case s.Simple != nil:
		for _, t := range s.Simple.Targets {
			v.expr(t)
		}
		v.expr(s.Simple.Value)
	}
}

func (v callVisitor) expr(e *lang.Expr) {
	if e == nil {
		return
	}
	v.or(e.Body)
	if e.Cond != nil {
		v.or(e.Cond)
		v.expr(e.Else)
	}
}

func (v callVisitor) or(o *lang.Or) {
	for _, a := range o.Terms {
		for _, n := range a.Terms {
			for n.Negated != nil {
				n = n.Negated
			}
			v.sum(n.Cmp.Left)
			for _, op := range n.Cmp.Rests {
				v.sum(op.Right)
			}
		}
	}
}

func (v callVisitor) sum(s *lang.Sum) {
	v.product(s.Left)
	for _, op := range s.Rests {
		v.product(op.Right)
	}
}

func (v callVisitor) product(p *lang.Product) {
	v.unary(p.Left)
	for _, op := range p.Rests {
		v.unary(op.Right)
	}
}

func (v callVisitor) unary(u *lang.Unary) {
	for u.Operand != nil {
		u = u.Operand
	}
	v.postfix(u.Power.Base)
	if u.Power.Exponent != nil {
		v.unary(u.Power.Exponent)
	}
}

func (v callVisitor) postfix(pf *lang.Postfix) {
	p := pf.Primary
	switch {
	case p.List != nil:
		v.expr(p.List.First)
		for _, e := range p.List.Rest {
			v.expr(e)
		}
		for c := p.List.Comp; c != nil; c = c.Next {
			v.or(c.Iter)
			for _, cond := range c.Conds {
				v.or(cond)
			}
		}
	case p.Map != nil:
		for _, e := range p.Map.Entries {
			v.expr(e.Key)
			v.expr(e.Value)
		}
	case p.Paren != nil:
		v.expr(p.Paren)
	}
	for i, s := range pf.Suffixes {
		switch {
		case s.Call != nil:
			for _, a := range s.Call.Args {
				v.expr(a.Value)
			}
			v(pf, s.Call, i)
		case s.Index != nil:
			v.expr(s.Index.Start)
			v.expr(s.Index.End)
			v.expr(s.Index.Step)
		}
	}
}
