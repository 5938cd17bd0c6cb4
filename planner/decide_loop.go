package planner

import (
	"fmt"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// loops decides pipelining for every for loop in f's body: a loop that
// calls a task and gets the result at once may start the calls of the
// next iterations early, when that cannot change what the program does.
func (d *decider) loops(f *compiler.Func) {
	if f.Body == nil || !d.prog.Uses["get"] {
		return // without a get(CALL) no loop has anything to run ahead or refuse
	}
	lang.Walk(f.Body, func(n lang.Node) bool {
		switch loop := n.(type) {
		case *lang.Expr:
			return false // no loop inside an expression
		case *lang.For:
			d.loop(f, loop)
		case *lang.While:
			d.refuseGets(f, loop.Body, "a while loop is not run ahead: how many iterations it makes is known only as it runs")
		}
		return true
	})
}

func (d *decider) loop(f *compiler.Func, loop *lang.For) {
	call, pos := gottenCall(loop.Body)
	if call == nil {
		why := "the call is not gotten directly in a statement of the loop's body (it is under an if, a comprehension, x if c else y, and or or), so it may not be made once per iteration"
		if n := len(loopGets(loop.Body)); n > 1 {
			why = fmt.Sprintf("the loop gets %d task calls; it is run ahead only when it gets one", n)
		}
		d.refuseGets(f, loop.Body, why)
		return
	}
	site := d.prog.Sites[call]
	if site == nil || site.Kind != "task" || site.Func == nil || site.Options {
		return
	}
	reqs := d.requests(site.Func, f)
	r, ok := reqs["pipeline"]
	if !ok {
		return
	}
	if t, ok := reqs["template"]; ok && explicit(t) && adaptive(r) && whyNotTemplate(site, d.set.Sites[site], false) == "" {
		// Adaptive decides what the source did not.
		d.note(pos, r, false, "the calls of '%s' are placed by %s, which needs each call made in its own iteration", site.Callee, t.origin())
		return
	}
	if why := d.whyNotAhead(loop, call, site); why != "" {
		d.note(pos, r, false, "%s", why)
		return
	}
	depth := r.intArg("depth", compiler.DefaultPipelineDepth)
	d.set.Loops[loop] = &decision.Loop{Depth: depth, Call: call, Site: site}
	d.note(pos, r, true, "the loop at %d:%d keeps up to %d calls of '%s' in flight", loop.Pos.Line, loop.Pos.Column, depth, site.Callee)
}

// refuseGets notes why for each get(CALL) in a loop's body whose
// callee the source (or --opt) asks to pipeline, so that no such hint is
// silently left out; what adaptive turned on is left out quietly.
func (d *decider) refuseGets(f *compiler.Func, body *lang.Block, why string) {
	for _, g := range loopGets(body) {
		site := d.prog.Sites[g.call]
		if site == nil || site.Kind != "task" || site.Func == nil || site.Options {
			continue
		}
		if r, ok := d.requests(site.Func, f)["pipeline"]; ok && !adaptive(r) {
			d.note(g.pos, r, false, "%s", why)
		}
	}
}

// loopGet is a get(CALL) in a loop's body.
type loopGet struct {
	call *lang.Call
	pos  lang.Position
}

// loopGets lists the get(CALL)s of a loop's body, wherever they sit in
// it but in a nested loop (which is decided on its own).
func loopGets(body *lang.Block) []loopGet {
	var out []loopGet
	lang.Walk(body, func(n lang.Node) bool {
		switch n := n.(type) {
		case *lang.For, *lang.While:
			return false
		case *lang.Postfix:
			if call, pos := getOfCall(n); call != nil {
				out = append(out, loopGet{call: call, pos: pos})
			}
		}
		return true
	})
	return out
}

// getOfCall returns the call of pf when pf is get(CALL), a get of one
// call written in place (f(x), not a name or a list), and where it is;
// nil otherwise.
func getOfCall(pf *lang.Postfix) (*lang.Call, lang.Position) {
	if !isBuiltinCall(pf, "get") || len(pf.Suffixes[0].Call.Args) != 1 {
		return nil, lang.Position{}
	}
	inner := lang.PostfixOf(pf.Suffixes[0].Call.Args[0].Value)
	if inner == nil || len(inner.Suffixes) != 1 || inner.Suffixes[0].Call == nil {
		return nil, lang.Position{}
	}
	return inner.Suffixes[0].Call, inner.Pos
}

// whyNotAhead says why the loop's call cannot be started early, or "".
func (d *decider) whyNotAhead(loop *lang.For, call *lang.Call, site *compiler.CallSite) string {
	if !site.Func.Deterministic {
		return fmt.Sprintf("'%s' is nondeterministic (%s)", site.Callee, site.Func.NondeterministicReason())
	}
	if why := d.effectsOf(site.Func); why != "" {
		return fmt.Sprintf("'%s' %s: starting it early could reorder the output", site.Callee, why)
	}
	if pos, ok := hasContinue(loop.Body); ok {
		return fmt.Sprintf("the loop has a continue at %d:%d, so the call is not made once per iteration", pos.Line, pos.Column)
	}
	changed := assignedIn(d.prog, loop.Body)
	for _, s := range loop.Slots {
		if changed[s] {
			return "the loop changes its own variable"
		}
	}
	if name, ok := usesChanged(loop.Iter, changed); ok {
		return fmt.Sprintf("the loop changes '%s', which it iterates over", name)
	}
	for _, a := range call.Args {
		if why := aheadArg(a.Value, changed); why != "" {
			return fmt.Sprintf("the argument at %d:%d %s", a.Pos.Line, a.Pos.Column, why)
		}
	}
	return ""
}

// gottenCall finds the one task call of a loop body that is gotten at
// once, get(CALL), in a statement of the body itself (not in a nested
// block, comprehension, conditional or short-circuit operand, where it
// might not be made exactly once per iteration). It returns nil when
// there is none or more than one.
func gottenCall(body *lang.Block) (*lang.Call, lang.Position) {
	var found *lang.Call
	var pos lang.Position
	count := 0
	for _, st := range body.Stmts {
		var root lang.Node
		switch {
		case st.Let != nil:
			root = st.Let
		case st.Simple != nil:
			root = st.Simple
		case st.Return != nil:
			root = st.Return
		default:
			continue
		}
		lang.Walk(root, func(n lang.Node) bool {
			switch n := n.(type) {
			case *lang.Expr:
				return n.Cond == nil
			case *lang.Or:
				return len(n.Terms) == 1
			case *lang.And:
				return len(n.Terms) == 1
			case *lang.ListLit:
				return n.Comp == nil
			case *lang.Postfix:
				if call, at := getOfCall(n); call != nil {
					found, pos = call, at
					count++
				}
			}
			return true
		})
	}
	if count != 1 {
		return nil, pos
	}
	return found, pos
}

// hasContinue finds a continue of this loop (not of a nested one).
func hasContinue(body *lang.Block) (lang.Position, bool) {
	var at lang.Position
	found := false
	lang.Walk(body, func(n lang.Node) bool {
		switch n := n.(type) {
		case *lang.For, *lang.While, *lang.Expr:
			return false // a nested loop's continue, or an expression (no statement inside)
		case *lang.Jump:
			if n.Kind == "continue" && !found {
				at, found = n.Pos, true
			}
		}
		return !found
	})
	return at, found
}

// assignedIn lists the local slots a block may change: assigned, bound
// by a nested loop or catch, used as a method's receiver, or handed to a
// call that is not a task call (which could change a list in place).
func assignedIn(prog *compiler.Program, body *lang.Block) map[int]bool {
	out := map[int]bool{}
	mark := func(e *lang.Expr) {
		if pf := lang.PostfixOf(e); pf != nil && pf.Primary.Ref != nil && pf.Primary.Ref.Kind == lang.RefLocal {
			out[pf.Primary.Ref.Index] = true
		}
	}
	lang.Walk(body, func(n lang.Node) bool {
		switch n := n.(type) {
		case *lang.Let:
			for _, s := range n.Slots {
				out[s] = true
			}
		case *lang.For:
			for _, s := range n.Slots {
				out[s] = true
			}
		case *lang.Try:
			out[n.ErrSlot] = true
		case *lang.Simple:
			if n.Op != "" {
				for _, t := range n.Targets {
					markBase(t, out)
				}
			}
		case *lang.Postfix:
			for i, sx := range n.Suffixes {
				if sx.Call == nil {
					continue
				}
				if i > 0 && n.Suffixes[i-1].Field != "" {
					markRef(n.Primary, out) // receiver.method(...): its arguments are not changed
					continue
				}
				if i == 0 && !mayChangeArgs(prog, n.Primary) {
					continue
				}
				for _, a := range sx.Call.Args {
					mark(a.Value)
				}
			}
		}
		return true
	})
	return out
}

// mayChangeArgs reports whether a call of the callee p could change a
// list or map handed to it: a fn or a function value could; a built-in,
// a task or an actor constructor (which copy their arguments) cannot.
func mayChangeArgs(prog *compiler.Program, p *lang.Primary) bool {
	if p.Ref == nil {
		return true
	}
	switch p.Ref.Kind {
	case lang.RefBuiltin:
		return false
	case lang.RefGlobal:
		g := prog.Globals[p.Ref.Index]
		return g.Func != nil && g.Func.Kind == "fn"
	}
	return true
}

// markBase marks the local at the base of an assignment target (x,
// x[i], x.f).
func markBase(e *lang.Expr, out map[int]bool) {
	if pf := lang.PostfixOf(e); pf != nil {
		markRef(pf.Primary, out)
	}
}

func markRef(p *lang.Primary, out map[int]bool) {
	if p.Ref != nil && p.Ref.Kind == lang.RefLocal {
		out[p.Ref.Index] = true
	}
}

// usesChanged finds a local in e that the loop changes.
func usesChanged(e *lang.Expr, changed map[int]bool) (string, bool) {
	name := ""
	lang.Walk(e, func(n lang.Node) bool {
		if p, ok := n.(*lang.Primary); ok && p.Ref != nil && p.Ref.Kind == lang.RefLocal && changed[p.Ref.Index] {
			name = p.Name
		}
		return name == ""
	})
	return name, name != ""
}

// aheadArg says why an argument cannot be evaluated for a later
// iteration ahead of time, or "": it may use literals, operators,
// indexing, the loop's variables and locals the loop does not change,
// constants and declarations; no calls and no actor fields.
func aheadArg(e *lang.Expr, changed map[int]bool) string {
	why := ""
	lang.Walk(e, func(n lang.Node) bool {
		if why != "" {
			return false
		}
		switch n := n.(type) {
		case *lang.Suffix:
			if n.Call != nil {
				why = "makes a call"
			}
		case *lang.Primary:
			if n.Ref == nil {
				break
			}
			switch {
			case n.Ref.Kind == lang.RefField:
				why = fmt.Sprintf("reads the actor field '%s'", n.Name)
			case n.Ref.Kind == lang.RefLocal && changed[n.Ref.Index]:
				why = fmt.Sprintf("uses '%s', which the loop changes", n.Name)
			}
		case *lang.ListLit:
			if n.Comp != nil {
				why = "is a comprehension"
			}
		}
		return true
	})
	return why
}

// effectsOf is effects(f) from a fresh walk, once per function: many
// loops may call the same task.
func (d *decider) effectsOf(f *compiler.Func) string {
	if why, ok := d.effectsDone[f]; ok {
		return why
	}
	why := d.effects(f, map[*compiler.Func]bool{})
	if d.effectsDone == nil {
		d.effectsDone = map[*compiler.Func]string{}
	}
	d.effectsDone[f] = why
	return why
}

// effects says whether f, or a fn or task it calls, prints or uses io
// ("it prints (print at 3:5)"), or "".
func (d *decider) effects(f *compiler.Func, seen map[*compiler.Func]bool) string {
	if seen[f] || f.Body == nil {
		return ""
	}
	seen[f] = true
	why := ""
	lang.Walk(f.Body, func(n lang.Node) bool {
		pf, ok := n.(*lang.Postfix)
		if !ok || why != "" || pf.Primary.Ref == nil {
			return why == ""
		}
		ref := pf.Primary.Ref
		switch {
		case ref.Kind == lang.RefBuiltin && pf.Primary.Name == "print":
			why = fmt.Sprintf("prints (print at %d:%d)", pf.Pos.Line, pf.Pos.Column)
		case ref.Kind == lang.RefModule && pf.Primary.Name == "io":
			why = fmt.Sprintf("uses io (at %d:%d)", pf.Pos.Line, pf.Pos.Column)
		case ref.Kind == lang.RefGlobal:
			if g := d.prog.Globals[ref.Index]; g.Func != nil && g.Func.Kind != "pipeline" {
				if inner := d.effects(g.Func, seen); inner != "" {
					why = fmt.Sprintf("calls %s, which %s", g.Func.Name, inner)
				}
			}
		}
		return why == ""
	})
	return why
}
