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
	visit := func(n lang.Node) bool {
		if pf, ok := n.(*lang.Postfix); ok {
			for i, s := range pf.Suffixes {
				if s.Call != nil {
					fn(pf, s.Call, i)
				}
			}
		}
		return true
	}
	for _, s := range stmts {
		lang.Walk(s, visit)
	}
}
