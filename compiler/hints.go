package compiler

import (
	"fmt"
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// HintSpec is what the compiler checks of one @hint: the declarations it
// may stand on and its arguments. Whether a hint applies where it stands
// (a loop of the right shape, a deterministic callee) is the planner's
// decision, reported by `rayflow explain`; a hint the compiler accepts is
// never an error at run time.
type HintSpec struct {
	On   []string           // "pipeline", "task", "actor"
	Args map[string]HintArg // keyword arguments
	// Auto names the bare word accepted as the second positional
	// argument, as in @hint(batch, auto); empty for none.
	Auto string
	Doc  string // one line for messages and docs
}

// HintArg is one keyword argument of a hint: an int in [Min, Max], or a
// name (a bare word or a string) when Name is set.
type HintArg struct {
	Min, Max int64
	Name     bool
	// Param: the name must be a parameter of the task the hint is on.
	// Required: the hint means nothing without it.
	Param, Required bool
}

// The defaults of hint arguments, used by --opt and by a hint written
// without them.
const (
	DefaultPipelineDepth   = 128
	DefaultTreeReduceArity = 4
)

// KnownHints are the hints the planner understands, by name.
var KnownHints = map[string]HintSpec{
	"pipeline": {On: []string{"pipeline", "task"}, Doc: "keep up to depth calls of a get-in-a-loop in flight",
		Args: map[string]HintArg{"depth": {Min: 1, Max: 1024}}},
	"batch": {On: []string{"pipeline", "task"}, Auto: "auto", Doc: "send many calls of a small task as one scheduling unit",
		Args: map[string]HintArg{"size": {Min: 1, Max: 100000}}},
	"fuse":        {On: []string{"pipeline", "task"}, Doc: "run a task right after the task whose result it takes, on the same worker"},
	"tree_reduce": {On: []string{"pipeline", "task"}, Doc: "run reduce(f, futures) as a tree of tasks", Args: map[string]HintArg{"arity": {Min: 2, Max: 1024}}},
	"spread":      {On: []string{"pipeline", "task", "actor"}, Doc: "place the calls of one call site on distinct nodes"},
	"colocate":    {On: []string{"task"}, Doc: "place a call next to the actor or argument named by with=", Args: map[string]HintArg{"with": {Name: true, Param: true, Required: true}}},
	"locality":    {On: []string{"pipeline", "task"}, Doc: "place a call next to its largest argument"},
	"template":    {On: []string{"pipeline"}, Doc: "reuse the first iteration's placements in a loop that makes the same calls each time"},
	"adaptive":    {On: []string{"pipeline"}, Doc: "decide while the program runs, from measured statistics"},
	// Paradigm bundles (spec/hints.md lists what each turns on).
	"rollouts":         {On: []string{"pipeline"}, Doc: "simulation rollouts: one unit per CPU for deterministic calls (else spread, template), pipeline"},
	"parameter_server": {On: []string{"pipeline"}, Doc: "a parameter server: pipeline, template, locality"},
	"map_reduce":       {On: []string{"pipeline"}, Doc: "map then reduce: batch, fuse, tree_reduce, locality"},
}

// HintNames lists the known hints, sorted.
func HintNames() []string { return keysOf(KnownHints) }

// hint checks one @hint and records it on f (or a).
func (c *compiler) hint(d *lang.Decorator, args []decoratorArg, kind string, f *Func, a *Actor) {
	if len(args) == 0 || args[0].name != "" {
		c.errorf(d.Pos, "@hint needs the hint's name first, such as @hint(NAME, key=value); known hints: %s", strings.Join(HintNames(), ", "))
		return
	}
	name := wordOf(args[0].value)
	spec, ok := KnownHints[name]
	if !ok {
		c.errorf(args[0].pos, "unknown hint '%s'%s; known hints: %s", name, Suggest(name, HintNames()), strings.Join(HintNames(), ", "))
		return
	}
	if indexOf(spec.On, kind) < 0 {
		article := "a"
		if kind == "actor" {
			article = "an"
		}
		c.errorf(args[0].pos, "hint '%s' applies to %s, not to %s %s; put it on the %s that %s", name, strings.Join(spec.On, " and "), article, kind,
			spec.On[0], map[string]string{"pipeline": "makes the calls", "task": "is called", "actor": "is created"}[spec.On[0]])
		return
	}
	h := &Hint{Name: name, Args: map[string]any{}, Pos: d.Pos}
	if !c.hintArgs(spec, h, args[1:]) || !c.hintArgsMeanSomething(spec, h, args, f) {
		return
	}
	if f != nil {
		f.Hints = append(f.Hints, h)
	} else {
		a.Hints = append(a.Hints, h)
	}
}

// hintArgs checks the arguments after the hint's name and stores them
// in h.Args (ints as int64, names as string, auto as Args["auto"]=true).
func (c *compiler) hintArgs(spec HintSpec, h *Hint, args []decoratorArg) bool {
	ok := true
	for i, arg := range args {
		if arg.name == "" {
			if i == 0 && spec.Auto != "" && wordOf(arg.value) == spec.Auto {
				h.Args[spec.Auto] = true
				continue
			}
			c.errorf(arg.pos, "hint '%s' takes %s", h.Name, hintUsage(h.Name, spec))
			ok = false
			continue
		}
		want, known := spec.Args[arg.name]
		if !known {
			c.errorf(arg.pos, "hint '%s' has no argument '%s'%s; it takes %s", h.Name, arg.name, Suggest(arg.name, keysOf(spec.Args)), hintUsage(h.Name, spec))
			ok = false
			continue
		}
		if _, dup := h.Args[arg.name]; dup {
			c.errorf(arg.pos, "argument '%s' of hint '%s' is given twice", arg.name, h.Name)
			ok = false
			continue
		}
		v, msg := hintArgValue(arg.value, want)
		if msg != "" {
			c.errorf(arg.pos, "%s of hint '%s' must be %s", arg.name, h.Name, msg)
			ok = false
			continue
		}
		h.Args[arg.name] = v
	}
	if h.Args[spec.Auto] == true && len(h.Args) > 1 {
		c.errorf(args[0].pos, "hint '%s' takes either %s or its arguments, not both", h.Name, spec.Auto)
		ok = false
	}
	return ok
}

// hintArgsMeanSomething checks what the values alone cannot tell: a
// required argument is given, a parameter named is one of f's.
func (c *compiler) hintArgsMeanSomething(spec HintSpec, h *Hint, args []decoratorArg, f *Func) bool {
	ok := true
	for _, key := range keysOf(spec.Args) {
		want := spec.Args[key]
		v, given := h.Args[key]
		switch {
		case want.Required && !given:
			c.errorf(args[0].pos, "hint '%s' needs %s=NAME: %s", h.Name, key, spec.Doc)
			ok = false
		case want.Param && given && f != nil:
			names := paramNames(f.Params)
			if indexOf(names, v.(string)) < 0 {
				pos := args[0].pos
				for _, a := range args {
					if a.name == key {
						pos = a.pos
					}
				}
				list := "it has none"
				if len(names) > 0 {
					list = "parameters: " + strings.Join(names, ", ")
				}
				c.errorf(pos, "%s of hint '%s' names '%s', which is not a parameter of '%s'%s (%s)", key, h.Name, v, f.Name, Suggest(v.(string), names), list)
				ok = false
			}
		}
	}
	return ok
}

// hintArgValue checks one argument value against what it must be and
// returns it, or a description of what it must be.
func hintArgValue(v any, want HintArg) (any, string) {
	if want.Name {
		if s := wordOf(v); s != "" {
			return s, ""
		}
		return nil, "a name"
	}
	n, isInt := v.(int64)
	if !isInt || n < want.Min || n > want.Max {
		return nil, fmt.Sprintf("an int from %d to %d", want.Min, want.Max)
	}
	return n, ""
}

// hintUsage shows a hint's arguments, as in "batch(size=N) or batch(auto)".
func hintUsage(name string, spec HintSpec) string {
	if len(spec.Args) == 0 && spec.Auto == "" {
		return "no arguments"
	}
	keys := keysOf(spec.Args)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=N"
		if spec.Args[k].Name {
			parts[i] = k + "=NAME"
		}
	}
	usage := fmt.Sprintf("%s(%s)", name, strings.Join(parts, ", "))
	if spec.Auto != "" {
		usage += fmt.Sprintf(" or %s(%s)", name, spec.Auto)
	}
	return usage
}

// wordOf is a bare name or a string argument as text, "" for others.
func wordOf(v any) string {
	switch s := v.(type) {
	case identName:
		return string(s)
	case string:
		return s
	}
	return ""
}

// IntArg is an int argument of the hint, or def when it is not given.
func (h *Hint) IntArg(name string, def int) int {
	if n, ok := h.Args[name].(int64); ok {
		return int(n)
	}
	return def
}

// StringArg is a name argument of the hint, or "".
func (h *Hint) StringArg(name string) string {
	s, _ := h.Args[name].(string)
	return s
}
