package exec

import (
	"strings"
	"sync"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// Call-site options: `Counter.options(name="c")(args)` makes an actor
// with settings over its declaration's decorators, `f.options(retries=2)
// (args)` runs a task so (spec/declarations.md#call-site-options).
//
// An actor made so has a class of its own: a copy of its declaration's
// with the options applied to its compiler.Actor, named between
// processes by Ref ("Counter?name=c"), which ClassByName reads back, so
// that every process that makes, hosts, restarts or borrows the actor
// sees the same settings.

// derived are a program's classes and tasks made by options(...), by
// Ref: one per distinct options, so that what processes key by class or
// function (parsed demands, counts) stays as many as those. Its own
// lock; any goroutine.
type derived struct {
	mu      sync.Mutex
	classes map[string]*ActorClass
	funcs   map[string]*Function
}

// Ref is how the class is named between processes: its name, then, for
// a class made by options(...), "?" and the options.
func (c *ActorClass) Ref() string {
	if c.opts == "" {
		return c.name
	}
	return c.name + "?" + c.opts
}

// WithOptions returns the class with the options over its declaration's
// decorators: c itself when they give nothing.
func (c *ActorClass) WithOptions(o compiler.Options) (*ActorClass, error) {
	enc := o.Encode()
	if enc == "" {
		return c, nil
	}
	return c.prog.derived.class(c.declared(), enc, o)
}

// declared is the class of c's declaration.
func (c *ActorClass) declared() *ActorClass {
	if c.opts == "" {
		return c
	}
	return c.prog.classes[c.Info.Declaration()]
}

// class returns the class of base with the options enc (o decoded),
// made once per program.
func (dc *derived) class(base *ActorClass, enc string, o compiler.Options) (*ActorClass, error) {
	ref := base.name + "?" + enc
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if c, ok := dc.classes[ref]; ok {
		return c, nil
	}
	info, oerr := o.Actor(base.Info)
	if oerr != nil {
		return nil, optionError(oerr)
	}
	c := *base
	c.Info, c.opts = info, enc
	if dc.classes == nil {
		dc.classes = map[string]*ActorClass{}
	}
	dc.classes[ref] = &c
	return &c, nil
}

// Ref is how the function is named between processes: its qualified
// name, then, for a task made by options(...), "?" and the options.
func (f *Function) Ref() string {
	if f.opts == "" {
		return f.qualifiedName()
	}
	return f.qualifiedName() + "?" + f.opts
}

// withOptions returns the task with the options over its declaration's
// decorators: f itself when they give nothing.
func (f *Function) withOptions(o compiler.Options) *Function {
	enc := o.Encode()
	if enc == "" {
		return f
	}
	base := f
	if f.opts != "" {
		base = f.prog.funcs[f.Info.Declaration()]
	}
	return f.prog.derived.task(base, enc, o)
}

// task returns the task base with the options enc (o decoded), made once
// per program.
func (dc *derived) task(base *Function, enc string, o compiler.Options) *Function {
	ref := base.qualifiedName() + "?" + enc
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if f, ok := dc.funcs[ref]; ok {
		return f
	}
	f := *base
	f.Info, f.opts = o.Func(base.Info), enc
	if dc.funcs == nil {
		dc.funcs = map[string]*Function{}
	}
	dc.funcs[ref] = &f
	return &f
}

// funcByRef reads a Ref of a task made by options(...).
func (p *Program) funcByRef(ref string) (*Function, bool) {
	name, enc, _ := strings.Cut(ref, "?")
	base, ok := p.FuncByName(name)
	if !ok || base.Kind != "task" {
		return nil, false
	}
	o, err := compiler.DecodeOptions("task", enc)
	if err != nil {
		return nil, false
	}
	return base.withOptions(o), true
}

// classByRef reads a Ref of a class made by options(...).
func (p *Program) classByRef(ref string) (*ActorClass, bool) {
	name, enc, _ := strings.Cut(ref, "?")
	base, ok := p.ClassByName(name)
	if !ok {
		return nil, false
	}
	o, err := compiler.DecodeOptions("actor", enc)
	if err != nil {
		return nil, false
	}
	c, err := base.WithOptions(o)
	return c, err == nil
}

// optionError is the runtime error of a bad option.
func optionError(e *compiler.OptionError) *Error {
	if e.Type {
		return Errorf(KindType, "%s", e.Msg)
	}
	return Errorf(KindValue, "%s", e.Msg)
}

// optionsCall compiles `Decl.options(...)`, and the call after it when
// there is one (`Decl.options(...)(args)`); it returns how many suffixes
// of pf it took. Decl is an actor or a task (the compiler checked).
func (cc *compileCtx) optionsCall(g *compiler.Global, pf *lang.Postfix) (evalFn, int) {
	sfx := pf.Suffixes
	pos := cc.callPos
	if g.Kind == compiler.GlobalActor {
		opts := cc.options("actor", sfx[1].Call)
		class := cc.prog.classes[g.Actor]
		derive := func(fr *frame) *ActorClass {
			c, err := class.WithOptions(opts(fr))
			if err != nil {
				panic(cc.locate(err, sfx[1].Call.Pos))
			}
			return c
		}
		if len(sfx) < 3 || sfx[2].Call == nil {
			return func(fr *frame) Value { return FuncValue(derive(fr)) }, 2
		}
		site := cc.prog.Compiled.Sites[sfx[2].Call]
		al := cc.args(sfx[2].Call)
		return func(fr *frame) Value {
			c := derive(fr)
			args, kw := al.eval(fr)
			v, err := c.create(fr.th, args, kw, site)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}, 3
	}
	f := cc.prog.funcs[g.Func]
	opts := cc.options("task", sfx[1].Call)
	derive := func(fr *frame) *Function { return f.withOptions(opts(fr)) }
	if len(sfx) < 3 || sfx[2].Call == nil {
		return func(fr *frame) Value { return FuncValue(derive(fr)) }, 2
	}
	site := cc.prog.Compiled.Sites[sfx[2].Call]
	al := cc.args(sfx[2].Call)
	return func(fr *frame) Value {
		t := derive(fr)
		args, kw := al.eval(fr)
		v, err := t.submitOwned(fr.th, args, kw, site)
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}, 3
}

// options compiles the arguments of options(...) on a declaration of
// kind to a function that evaluates them and checks each value, failing
// at the argument.
func (cc *compileCtx) options(kind string, call *lang.Call) func(fr *frame) compiler.Options {
	type option struct {
		name  string
		value evalFn
		pos   lang.Position
	}
	var given []option
	for _, a := range call.Args {
		given = append(given, option{a.Name, cc.expr(a.Value), a.Pos})
	}
	return func(fr *frame) compiler.Options {
		o := compiler.NewOptions()
		for _, g := range given {
			if err := o.Set(kind, g.name, optionValue(g.value(fr))); err != nil {
				panic(cc.locate(optionError(err), g.pos))
			}
		}
		return o
	}
}

// optionValue is v as compiler.Options.Set reads it: an int64, float64,
// string, bool, or map[string]any of those; any other value stands for
// its type, which Set names in its error.
func optionValue(v Value) any {
	switch v.Kind() {
	case IntKind:
		return v.AsInt()
	case FloatKind:
		return v.AsFloat()
	case StringKind:
		return v.AsString()
	case BoolKind:
		return v.AsBool()
	case MapKind:
		m := v.AsMap()
		out := make(map[string]any, m.Len())
		for i, k := range m.Keys() {
			if k.Kind() != StringKind {
				return typeOf("map with " + k.TypeName() + " keys")
			}
			out[k.AsString()] = optionValue(m.Values()[i])
		}
		return out
	}
	return typeOf(v.TypeName())
}

// typeOf stands for a value of a type options do not take.
type typeOf string

func (t typeOf) String() string { return string(t) }
