package compiler

import (
	"sort"
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// decoratorTargets says which declarations each decorator applies to.
var decoratorTargets = map[string][]string{
	"resources":        {"task", "actor"},
	"retries":          {"task"},
	"restarts":         {"actor"},
	"checkpoint":       {"actor"},
	"hint":             {"pipeline", "task", "actor"},
	"nondeterministic": {"task", "fn"},
	"name":             {"actor"},
	"lifetime":         {"actor"},
	"concurrency":      {"actor"},
	"serve":            {"actor"},
}

func knownDecorators() string {
	names := make([]string, 0, len(decoratorTargets))
	for n := range decoratorTargets {
		names = append(names, "@"+n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// applyDecorators checks the decorators of a declaration of the given
// kind and records what they say on f (fn, task, pipeline) or a (actor).
func (c *compiler) applyDecorators(decs []*lang.Decorator, kind string, f *Func, a *Actor) {
	seen := map[string]bool{}
	for _, d := range decs {
		targets, ok := decoratorTargets[d.Name]
		if !ok {
			c.errorf(d.Pos, "unknown decorator '@%s'%s; known decorators: %s", d.Name, Suggest(d.Name, keysOf(decoratorTargets)), knownDecorators())
			continue
		}
		if indexOf(targets, kind) < 0 {
			c.errorf(d.Pos, "@%s applies to %s, not to a %s%s", d.Name, strings.Join(targets, " and "), kind, decoratorAdvice(d.Name))
			continue
		}
		if seen[d.Name] && d.Name != "hint" {
			c.errorf(d.Pos, "@%s is given twice", d.Name)
			continue
		}
		seen[d.Name] = true
		args, ok := c.decoratorArgs(d)
		if !ok {
			continue
		}
		c.applyDecorator(d, args, kind, f, a)
	}
	if a != nil {
		c.checkActorDecorators(decs, a)
		c.checkServe(a)
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decoratorArg is one evaluated decorator argument.
type decoratorArg struct {
	name  string
	value any // int64, float64, string, bool
	pos   lang.Position
}

func (c *compiler) decoratorArgs(d *lang.Decorator) ([]decoratorArg, bool) {
	var out []decoratorArg
	ok := true
	for _, a := range d.Args {
		v, isConst := ConstValue(a.Value)
		if !isConst {
			c.errorf(a.Pos, "arguments of @%s must be literals", d.Name)
			ok = false
			continue
		}
		out = append(out, decoratorArg{name: a.Name, value: v, pos: a.Pos})
	}
	return out, ok
}

func (c *compiler) applyDecorator(d *lang.Decorator, args []decoratorArg, kind string, f *Func, a *Actor) {
	switch d.Name {
	case "resources":
		res := c.resources(d, args)
		if f != nil {
			f.Resources = res
		} else {
			a.Resources = res
		}
	case "retries":
		c.retries(d, args, f)
	case "restarts":
		if n, ok := c.onePositiveInt(d, args); ok {
			a.Restarts = n
		}
	case "checkpoint":
		c.checkpoint(d, args, a)
	case "nondeterministic":
		if len(args) > 0 {
			c.errorf(args[0].pos, "@nondeterministic takes no arguments")
		}
		f.DeclaredNondeterministic = true
	case "hint":
		c.hint(d, args, kind, f, a)
	case "name":
		c.actorName(d, args, a)
	case "lifetime":
		c.lifetime(d, args, a)
	case "concurrency":
		c.concurrency(d, args, a)
	case "serve":
		c.serve(d, args, a)
	}
}

func (c *compiler) resources(d *lang.Decorator, args []decoratorArg) map[string]float64 {
	res := map[string]float64{"cpu": 1}
	for _, arg := range args {
		if arg.name == "" {
			c.errorf(arg.pos, "@resources takes named arguments, such as @resources(cpu=2, memory=\"1GB\")")
			continue
		}
		n, err := resourceValue(arg.name, arg.value) // as options(resources=...) reads it
		if err != nil {
			c.errorf(arg.pos, "%s", err.Msg)
			continue
		}
		res[arg.name] = n
	}
	return res
}

func (c *compiler) retries(d *lang.Decorator, args []decoratorArg, f *Func) {
	for _, arg := range args {
		switch arg.name {
		case "":
			n, ok := arg.value.(int64)
			if !ok || n < 0 {
				c.errorf(arg.pos, "@retries needs a non-negative int, such as @retries(3)")
				continue
			}
			f.Retries = int(n)
		case "errors":
			b, ok := arg.value.(bool)
			if !ok {
				c.errorf(arg.pos, "errors= of @retries must be true or false")
				continue
			}
			f.RetryErrors = b
		default:
			c.errorf(arg.pos, "unknown argument '%s' of @retries; it takes a count and errors=true|false", arg.name)
		}
	}
	if f.Retries < 0 && len(args) > 0 && args[0].name != "" {
		c.errorf(d.Pos, "@retries needs a count, such as @retries(3)")
	}
}

func (c *compiler) onePositiveInt(d *lang.Decorator, args []decoratorArg) (int, bool) {
	if len(args) != 1 || args[0].name != "" {
		c.errorf(d.Pos, "@%s takes one count, such as @%s(3)", d.Name, d.Name)
		return 0, false
	}
	n, ok := args[0].value.(int64)
	if !ok || n < 0 {
		c.errorf(args[0].pos, "@%s needs a non-negative int", d.Name)
		return 0, false
	}
	return int(n), true
}

func (c *compiler) checkpoint(d *lang.Decorator, args []decoratorArg, a *Actor) {
	if len(args) != 1 || args[0].name != "every" {
		c.errorf(d.Pos, "@checkpoint takes every=N, such as @checkpoint(every=100)")
		return
	}
	n, ok := args[0].value.(int64)
	if !ok || n <= 0 {
		c.errorf(args[0].pos, "every= of @checkpoint must be a positive int")
		return
	}
	a.Checkpoint = int(n)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
