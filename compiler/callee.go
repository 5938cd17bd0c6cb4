package compiler

import (
	"fmt"

	"github.com/rayflow/rayflow/lang"
)

// The callees a call can be resolved to statically.
type (
	calleeMethod struct {
		name  string
		fn    *Func  // nil when the actor class is not known
		actor *Actor // nil when not known
	}
	calleeMember struct {
		module, name string
		member       Member
	}
	calleeBuiltin struct {
		name   string
		member Member
	}
)

// stringListMapMethods are the methods of built-in values; a call of one
// of these names on an unknown receiver is not taken for an actor method.
var stringListMapMethods = map[string]bool{
	"split": true, "join": true, "strip": true, "upper": true, "lower": true,
	"replace": true, "startswith": true, "endswith": true, "find": true,
	"format": true, "append": true, "extend": true, "pop": true, "index": true,
	"get": true, "keys": true, "values": true, "items": true, "insert": true,
	"remove": true, "count": true, "lstrip": true, "rstrip": true, "copy": true,
	"clear": true, "sort": true, "reverse": true, "update": true, "setdefault": true,
	"rfind": true, "rindex": true,
}

// staticCallee finds what the call at suffix i of pf calls, when that is
// known before running: a declaration, a module member, a built-in, or a
// method of an actor.
func (r *resolver) staticCallee(pf *lang.Postfix, i int) any {
	ref := pf.Primary.Ref
	if ref == nil {
		return nil
	}
	switch {
	case i == 0 && ref.Kind == lang.RefGlobal:
		return r.c.prog.Globals[ref.Index]
	case i == 0 && ref.Kind == lang.RefBuiltin:
		return calleeBuiltin{name: ref.Name, member: r.c.prog.Universe.Builtins[ref.Name]}
	case i == 1 && ref.Kind == lang.RefModule:
		name := pf.Suffixes[0].Field
		return calleeMember{module: ref.Name, name: name, member: r.c.prog.Universe.Modules[ref.Name][name]}
	case i == 1 && pf.Suffixes[0].Field != "":
		return r.methodCallee(ref, pf.Suffixes[0])
	}
	return nil
}

func (r *resolver) methodCallee(ref *lang.Ref, field *lang.Suffix) any {
	name := field.Field
	if ref.Kind == lang.RefLocal {
		if a, ok := r.actorLocals[ref.Index]; ok {
			m, ok := a.Methods[name]
			if !ok {
				r.c.errorf(field.Pos, "actor %s has no method '%s'%s", a.Name, name, Suggest(name, methodNames(a)))
				return nil
			}
			return calleeMethod{name: name, fn: m, actor: a}
		}
	}
	if stringListMapMethods[name] {
		return nil
	}
	for _, a := range r.c.prog.Actors {
		if _, ok := a.Methods[name]; ok {
			return calleeMethod{name: name}
		}
	}
	return nil
}

func methodNames(a *Actor) []string {
	names := make([]string, 0, len(a.Methods))
	for n := range a.Methods {
		names = append(names, n)
	}
	return names
}

// actorCreated returns the actor class e creates, when e is a direct
// constructor call `Name(...)`.
func (r *resolver) actorCreated(e *lang.Expr) *Actor {
	pf := lang.PostfixOf(e)
	if pf == nil || len(pf.Suffixes) != 1 || pf.Suffixes[0].Call == nil || pf.Primary.Ref == nil {
		return nil
	}
	if pf.Primary.Ref.Kind != lang.RefGlobal {
		return nil
	}
	g := r.c.prog.Globals[pf.Primary.Ref.Index]
	if g.Kind == GlobalActor {
		return g.Actor
	}
	return nil
}

// describeArg says where a call argument comes from, for the lineage
// annotation: a literal, a name, or another call.
func describeArg(a *lang.Arg) string {
	prefix := ""
	if a.Name != "" {
		prefix = a.Name + "="
	}
	pf := lang.PostfixOf(a.Value)
	if pf == nil {
		return prefix + "expression"
	}
	p := pf.Primary
	switch {
	case len(pf.Suffixes) > 0 && pf.Suffixes[len(pf.Suffixes)-1].Call != nil && p.Name != "":
		return prefix + fmt.Sprintf("result of %s() at %d:%d", p.Name, pf.Pos.Line, pf.Pos.Column)
	case len(pf.Suffixes) > 0:
		return prefix + "expression"
	case p.Name != "":
		return prefix + "name " + p.Name
	case p.List != nil || p.Map != nil:
		return prefix + "container"
	}
	return prefix + "literal"
}
