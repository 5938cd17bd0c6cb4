package compiler

import "github.com/rayflow/rayflow/lang"

// optionsTarget returns the declaration pf calls options(...) on, as in
// `Counter.options(name="c")(1)`: an actor or a task named directly,
// followed by `.options` and a call; nil for anything else.
func (r *resolver) optionsTarget(pf *lang.Postfix) *Global {
	ref := pf.Primary.Ref
	if ref == nil || ref.Kind != lang.RefGlobal || len(pf.Suffixes) < 2 ||
		pf.Suffixes[0].Field != "options" || pf.Suffixes[1].Call == nil {
		return nil
	}
	g := r.c.prog.Globals[ref.Index]
	if g.Kind == GlobalConst {
		return nil
	}
	return g
}

// checkOptionsCall checks the call at suffix i of an options(...) form:
// the options themselves (i == 1), or the call that makes the actor or
// runs the task with them (i == 2), checked as a call of the
// declaration. It reports false when pf is not such a form.
func (r *resolver) checkOptionsCall(pf *lang.Postfix, i int) bool {
	g := r.optionsTarget(pf)
	if g == nil || i > 2 {
		return false
	}
	call := pf.Suffixes[i].Call
	if i == 2 {
		r.checkGlobalCall(g, call)
		if s := r.c.prog.Sites[call]; s != nil {
			s.Options = true
		}
		return true
	}
	kind := "actor"
	if g.Kind == GlobalFunc {
		kind = g.Func.Kind
	}
	if kind != "actor" && kind != "task" {
		r.c.errorf(pf.Suffixes[0].Pos, "options(...) applies to an actor or a task, not to a %s: '%s' is a %s", kind, g.Name, kind)
		return true
	}
	r.checkOptions(g, kind, call)
	return true
}

// checkOptions checks the arguments of options(...): keyword arguments
// of known names, each literal value valid, and, when every value is a
// literal, what the options say together with the declaration's
// decorators. A value computed at run time is checked when the call
// runs.
func (r *resolver) checkOptions(g *Global, kind string, call *lang.Call) {
	opts := NewOptions()
	allKnown := true
	for _, a := range call.Args {
		if a.Name == "" {
			r.c.errorf(a.Pos, "options(...) takes named arguments, such as options(name=\"policy\"); the %s's own arguments go in the call after it", kind)
			allKnown = false
			continue
		}
		v, ok := optionLiteral(a.Value)
		if !ok {
			if indexOf(OptionNames(kind), a.Name) < 0 {
				r.c.errorf(a.Pos, "%s", opts.Set(kind, a.Name, nil).Msg)
			}
			allKnown = false
			continue
		}
		if err := opts.Set(kind, a.Name, v); err != nil {
			r.c.errorf(a.Pos, "%s", err.Msg)
			allKnown = false
		}
	}
	if allKnown && kind == "actor" {
		if _, err := opts.Actor(g.Actor); err != nil {
			r.c.errorf(call.Pos, "%s", err.Msg)
		}
	}
}

// optionLiteral is the value of an option written as a literal: a
// number, a string, true or false, or a map of those with string keys
// (resources); false for anything computed, a name included.
func optionLiteral(e *lang.Expr) (any, bool) {
	pf, _ := lang.SignedPostfixOf(e)
	if pf == nil || len(pf.Suffixes) > 0 || pf.Primary.Name != "" {
		return nil, false
	}
	if m := pf.Primary.Map; m != nil {
		out := map[string]any{}
		for _, en := range m.Entries {
			k, ok := optionLiteral(en.Key)
			ks, isStr := k.(string)
			v, vok := optionLiteral(en.Value)
			if !ok || !isStr || !vok {
				return nil, false
			}
			out[ks] = v
		}
		return out, true
	}
	return ConstValue(e)
}
