package exec

import (
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/adapt"
	"github.com/rayflow/rayflow/planner/decision"
)

// Program is a compiled program ready to run: every function compiled to
// closures, consts evaluated, built-ins and modules bound to the indexes
// the compiler resolved names to.
type Program struct {
	Compiled *compiler.Program
	File     string
	// Hash names the program's source in the GCS programs table, so
	// that other processes can load the same program; set by whoever
	// loads it for a cluster.
	Hash string
	// Plan is what the planner decided for this program (nil: nothing);
	// the closures are compiled from it, so it is fixed at Load.
	Plan *decision.Set
	// PlanStats count what the plan's decisions did in this process.
	PlanStats PlanStats
	// Adapt measures the adaptive sites and decides their grouping at
	// run time (nil when the plan has none).
	Adapt *adapt.Table

	globals  []Value
	builtins []Value
	modules  []Value
	funcs    map[*compiler.Func]*Function
	classes  map[*compiler.Actor]*ActorClass
	derived  derived // made by options(...)
}

// Function is a compiled fn, task, pipeline or method.
type Function struct {
	name  string
	Kind  string // "fn", "task", "pipeline", "method"
	Info  *compiler.Func
	Class *ActorClass // for methods
	prog  *Program

	params   []param
	typed    bool // some parameter has a type annotation
	numSlots int
	result   string  // declared result type, "" when none
	resultOK kindSet // typeKinds(result)
	// body is the statements of the function's block, run by runBody;
	// expr replaces them when the body is only returns (returnExpr). A
	// one-argument call may run expr itself (see inlineCall1).
	body []execFn
	expr evalFn
	// opts are the options(...) a task was made with (compiler.Options
	// encoded), "" for a declaration.
	opts string
}

// runBody runs the function's body on fr and returns its result. The
// statements run here rather than through a block closure, which saves
// a call on every fn call.
func (f *Function) runBody(fr *frame) Value {
	if f.expr != nil {
		return f.expr(fr)
	}
	runStmts(f.body, fr)
	ret := fr.ret
	fr.ret = None
	return ret
}

type param struct {
	name string
	typ  string
	fast kindSet // kinds that have typ for sure (all when untyped)
	def  evalFn  // nil when required
	pos  lang.Position
}

// kindSet is a set of value kinds: those a type annotation accepts
// without looking further (typeKinds). A call checks an argument or a
// result against it first, and calls hasType only for a kind outside it.
type kindSet uint16

func (s kindSet) has(k Kind) bool { return s&(1<<k) != 0 }

const allKinds = ^kindSet(0)

// typeKinds is the kindSet of a type annotation: every kind for none or
// any, int and float for float, the kind of that name for the other
// built-in type names, and nothing for an actor class or a host object's
// type name (which hasType checks).
func typeKinds(typ string) kindSet {
	switch typ {
	case "", "any":
		return allKinds
	case "float":
		return 1<<FloatKind | 1<<IntKind
	}
	for k, name := range kindNames {
		if name == typ && Kind(k) != ObjectKind {
			return 1 << k
		}
	}
	return 0
}

// ActorClass is a compiled actor declaration.
type ActorClass struct {
	name    string
	Info    *compiler.Actor
	Methods map[string]*Function
	prog    *Program

	params    []param
	initSlots int
	fields    []fieldInit
	// opts are the options(...) the class was made with
	// (compiler.Options encoded), "" for a declaration.
	opts string
}

type fieldInit struct {
	slots []int // field indexes the initialiser sets (one, or several when unpacking)
	value evalFn
	pos   lang.Position
}

// CallSite is a task call site with its lineage annotation.
type CallSite = compiler.CallSite

// Universe describes the built-ins and modules for the compiler.
func Universe(modules []*Module) *compiler.Universe {
	u := &compiler.Universe{Builtins: map[string]compiler.Member{}, Modules: map[string]map[string]compiler.Member{}}
	for name, b := range builtinTable {
		u.Builtins[name] = memberOf(FuncValue(b))
	}
	for _, m := range modules {
		if m.Global {
			for name, v := range m.Members {
				u.Builtins[name] = memberOf(v)
			}
			continue
		}
		members := map[string]compiler.Member{}
		for name, v := range m.Members {
			members[name] = memberOf(v)
		}
		u.Modules[m.Name] = members
	}
	return u
}

func memberOf(v Value) compiler.Member {
	if v.kind != FunctionKind {
		return compiler.Member{}
	}
	m := compiler.Member{Callable: true}
	if b, ok := v.AsCallable().(*Builtin); ok {
		m.Nondeterministic = b.Nondeterministic
		m.NondeterministicWithoutArgs = b.NondeterministicWithoutArgs
	}
	return m
}

// Load compiles a checked program to closures and evaluates its consts on
// th. modules must be the ones the Universe was built from.
func Load(th *Thread, cp *compiler.Program, modules []*Module) (prog *Program, err error) {
	return LoadPlanned(th, cp, modules, nil)
}

// LoadPlanned is Load with the planner's decisions, which the compiled
// closures carry out (grouped calls, loops run ahead, reduction trees).
func LoadPlanned(th *Thread, cp *compiler.Program, modules []*Module, plan *decision.Set) (prog *Program, err error) {
	p := &Program{
		Plan:     plan,
		Adapt:    adapt.New(plan.AdaptiveSites()),
		Compiled: cp,
		File:     cp.File.Name,
		funcs:    map[*compiler.Func]*Function{},
		classes:  map[*compiler.Actor]*ActorClass{},
	}
	p.bindUniverse(modules)
	p.declare()
	defer func() {
		if r := recover(); r != nil {
			err = asError(r, lang.Position{}, "<load>")
		}
	}()
	p.compileAll()
	p.evalConsts(th)
	return p, nil
}

func (p *Program) bindUniverse(modules []*Module) {
	byName := map[string]*Module{}
	for _, m := range modules {
		byName[m.Name] = m
	}
	p.builtins = make([]Value, len(p.Compiled.Builtins))
	for i, name := range p.Compiled.Builtins {
		if b, ok := builtinTable[name]; ok {
			p.builtins[i] = FuncValue(b)
		}
		for _, m := range modules {
			if v, ok := m.Members[name]; ok && m.Global {
				p.builtins[i] = v
			}
		}
	}
	p.modules = make([]Value, len(p.Compiled.Modules))
	for i, name := range p.Compiled.Modules {
		p.modules[i] = ObjectValue(byName[name])
	}
}

// declare makes the Function and ActorClass objects first, so compiled
// code can refer to any of them.
func (p *Program) declare() {
	p.globals = make([]Value, len(p.Compiled.Globals))
	for i, g := range p.Compiled.Globals {
		switch g.Kind {
		case compiler.GlobalFunc:
			f := p.newFunction(g.Func, nil)
			p.globals[i] = FuncValue(f)
		case compiler.GlobalActor:
			c := &ActorClass{name: g.Actor.Name, Info: g.Actor, Methods: map[string]*Function{}, prog: p}
			p.classes[g.Actor] = c
			for name, m := range g.Actor.Methods {
				c.Methods[name] = p.newFunction(m, c)
			}
			p.globals[i] = FuncValue(c)
		}
	}
}

func (p *Program) newFunction(info *compiler.Func, class *ActorClass) *Function {
	f := &Function{name: info.Name, Kind: info.Kind, Info: info, Class: class, prog: p, numSlots: info.NumSlots}
	if info.Result != nil {
		f.result = info.Result.Name
	}
	f.resultOK = typeKinds(f.result)
	p.funcs[info] = f
	return f
}

func (p *Program) compileAll() {
	for info, f := range p.funcs {
		cc := &compileCtx{prog: p, fnName: f.qualifiedName(), fn: info}
		f.params = cc.params(info.Params)
		for _, p := range f.params {
			f.typed = f.typed || p.typ != ""
		}
		if f.expr = cc.returnExpr(info.Body); f.expr == nil {
			f.body = cc.stmts(info.Body)
		}
	}
	for info, c := range p.classes {
		cc := &compileCtx{prog: p, fnName: c.name, actor: info}
		c.params = cc.params(info.Params)
		c.initSlots = info.InitSlots
		base := len(info.Params)
		for _, field := range info.Fields {
			fi := fieldInit{value: cc.expr(field.Value), pos: field.Pos}
			for range field.Names {
				fi.slots = append(fi.slots, base)
				base++
			}
			c.fields = append(c.fields, fi)
		}
	}
}

func (p *Program) evalConsts(th *Thread) {
	fr := &frame{th: th, prog: p}
	for _, i := range p.Compiled.ConstOrder {
		g := p.Compiled.Globals[i]
		cc := &compileCtx{prog: p, fnName: "<const " + g.Name + ">"}
		p.globals[i] = cc.expr(g.Const.Value)(fr)
	}
}

// Func returns the compiled function for a compiler function.
func (p *Program) Func(info *compiler.Func) *Function { return p.funcs[info] }

// Pipeline returns the pipeline named name ("" for the default).
func (p *Program) Pipeline(name string) (*Function, bool) {
	info, ok := p.Compiled.Pipeline(name)
	if !ok {
		return nil, false
	}
	return p.funcs[info], true
}

// Class returns the compiled actor class for a compiler actor.
func (p *Program) Class(info *compiler.Actor) *ActorClass { return p.classes[info] }

// ClassByName returns the actor class named name.
func (p *Program) ClassByName(name string) (*ActorClass, bool) {
	if strings.Contains(name, "?") {
		return p.classByRef(name)
	}
	for info, c := range p.classes {
		if info.Name == name {
			return c, true
		}
	}
	return nil, false
}

// FuncByName returns the fn, task or pipeline named name, or the method
// "Actor.method".
func (p *Program) FuncByName(name string) (*Function, bool) {
	if strings.Contains(name, "?") {
		return p.funcByRef(name)
	}
	for _, f := range p.funcs {
		if f.qualifiedName() == name {
			return f, true
		}
	}
	return nil, false
}

func (f *Function) qualifiedName() string {
	if f.Class != nil {
		return f.Class.name + "." + f.name
	}
	return f.name
}

// Name is the function's name ("Actor.method" for methods).
func (f *Function) Name() string { return f.qualifiedName() }

// Name is the class name.
func (c *ActorClass) Name() string { return c.name }

// Program returns the program the function belongs to.
func (f *Function) Program() *Program { return f.prog }

// Program returns the program the class belongs to.
func (c *ActorClass) Program() *Program { return c.prog }

// ShortName is a method's name without its class ("inc" of Counter.inc).
func (f *Function) ShortName() string { return f.name }
