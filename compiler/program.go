package compiler

import (
	"github.com/rayflow/rayflow/lang"
)

// Member describes a built-in function or a module member for the
// compiler: whether calling it is nondeterministic.
type Member struct {
	Nondeterministic            bool
	NondeterministicWithoutArgs bool
	Callable                    bool
}

// Universe is what is in scope before the program declares anything:
// built-in functions and standard-library modules. exec builds it from
// its built-ins and the stdlib modules.
type Universe struct {
	Builtins map[string]Member
	Modules  map[string]map[string]Member
}

// GlobalKind says what a top-level name is.
type GlobalKind int

// The kinds of top-level declaration.
const (
	GlobalConst GlobalKind = iota
	GlobalFunc
	GlobalActor
)

// Global is one top-level declaration.
type Global struct {
	Name  string
	Kind  GlobalKind
	Pos   lang.Position
	Const *lang.Const
	Func  *Func
	Actor *Actor
}

// Func is a compiled fn, task, pipeline or actor method.
type Func struct {
	Name     string
	Kind     string // "fn", "task", "pipeline" or "method"
	Pos      lang.Position
	Params   []*lang.Param
	Result   *lang.TypeRef
	Body     *lang.Block
	NumSlots int // frame size: parameters first, then every let and loop name
	Actor    *Actor

	// Deterministic is the result of the determinism analysis: false when
	// the function, or anything it calls, is nondeterministic.
	Deterministic bool
	// DeclaredNondeterministic is set by @nondeterministic.
	DeclaredNondeterministic bool
	Resources                map[string]float64 // from @resources; tasks default to cpu=1
	Retries                  int                // from @retries; -1 when not given
	RetryErrors              bool               // @retries(n, errors=true)
	Hints                    []*Hint
	// Declared is the declaration of a task that options(...) gave other
	// settings (Options.Func); nil for a declaration.
	Declared *Func

	nondetReason string  // why it is nondeterministic, when it is directly
	callees      []*Func // fns and tasks it calls, for the transitive analysis
}

// QualifiedName is "Actor.method" for methods and the name otherwise.
func (f *Func) QualifiedName() string {
	if f.Actor != nil {
		return f.Actor.Name + "." + f.Name
	}
	return f.Name
}

// NondeterministicReason says why the function is not deterministic.
func (f *Func) NondeterministicReason() string { return f.nondetReason }

// Actor is a compiled actor declaration. Its fields are its parameters
// followed by its `let` fields; methods see them by index.
type Actor struct {
	Name       string
	Pos        lang.Position
	Params     []*lang.Param
	Fields     []*lang.Let // the `let` fields, in order
	FieldNames []string    // parameters, then let names
	InitSlots  int         // frame size for evaluating the field initialisers
	Methods    map[string]*Func
	Restarts   int // from @restarts; 0 when not given
	Resources  map[string]float64
	Hints      []*Hint
	Checkpoint int // from @checkpoint(every=N); 0 when not given
	// ActorName and Namespace, from @name("NAME", namespace="NS"), name
	// the actor made by calling the class (spec/decorators.md); ActorName
	// is empty when not given.
	ActorName string
	Namespace string
	// Detached, from @lifetime("detached"), makes a named actor outlive
	// the job that made it.
	Detached bool
	// Concurrency, from @concurrency(n), is how many method calls may run
	// at once; 1 when not given.
	Concurrency int
	// Serve, from @serve, says how `rayflow serve` serves the actor
	// over HTTP; nil when not given.
	Serve *Serve
	// Declared is the declaration of an actor that options(...) gave
	// other settings (Options.Actor); nil for a declaration.
	Declared *Actor
}

// Declaration is the actor's declaration: a itself, or the one
// options(...) made it from.
func (a *Actor) Declaration() *Actor {
	if a.Declared != nil {
		return a.Declared
	}
	return a
}

// Declaration is the function's declaration: f itself, or the task
// options(...) made it from.
func (f *Func) Declaration() *Func {
	if f.Declared != nil {
		return f.Declared
	}
	return f
}

// ReplaysCalls reports whether a restart of the actor replays the calls
// it ran, so that they are logged as it runs them (spec/actors.md):
// every actor's but a served one's (@serve), which a restart makes fresh
// from its constructor, as Ray Serve makes a lost replica again
// (spec/serving.md), so that nothing of a call is kept after its answer.
func (a *Actor) ReplaysCalls() bool { return a == nil || a.Serve == nil }

// Hint is one @hint on a declaration.
type Hint struct {
	Name string
	Args map[string]any
	Pos  lang.Position
}

// CallSite is a call of a task, an actor constructor or a method, with
// its lineage annotation.
type CallSite struct {
	Pos           lang.Position
	Kind          string // "task", "actor" or "method"
	Callee        string // task name, actor name, or method name
	Func          *Func  // the task or method when known statically
	Actor         *Actor // the actor class for constructors (and methods when known)
	ArgSources    []string
	Resources     map[string]float64
	Retries       int
	Deterministic bool
	Enclosing     *Func // the function the call is in
	// Options is set for the call after Decl.options(...): its callee's
	// settings are known only when it runs, so the planner leaves it
	// alone (it groups, runs ahead or fuses only declared calls).
	Options bool
}

// PosOrZero is the site's position, or the zero position for a nil site.
func (s *CallSite) PosOrZero() lang.Position {
	if s == nil {
		return lang.Position{}
	}
	return s.Pos
}

// Program is a compiled file.
type Program struct {
	File      *lang.File
	Globals   []*Global
	Funcs     []*Func // every fn, task, pipeline and method
	Actors    []*Actor
	Pipelines []*Func
	Builtins  []string // RefBuiltin indexes into this
	Modules   []string // RefModule indexes into this
	Sites     map[*lang.Call]*CallSite
	Universe  *Universe
	// Uses are the names the program takes from the Universe: "name" for
	// a built-in or a module it refers to, "module.member" for a member
	// it reads. A process that loads the program elsewhere needs them.
	Uses map[string]bool
	// ConstOrder lists the consts (indexes into Globals) in the order
	// they are evaluated: each after the consts its initialiser uses,
	// otherwise in declaration order.
	ConstOrder []int

	globalIndex map[string]int
}

// Global returns the top-level declaration named name.
func (p *Program) Global(name string) (*Global, bool) {
	i, ok := p.globalIndex[name]
	if !ok {
		return nil, false
	}
	return p.Globals[i], true
}

// Pipeline returns the pipeline named name, or the default one when name
// is empty: `main`, or the only pipeline of the file.
func (p *Program) Pipeline(name string) (*Func, bool) {
	if name == "" {
		if len(p.Pipelines) == 1 {
			return p.Pipelines[0], true
		}
		name = "main"
	}
	for _, f := range p.Pipelines {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// PipelineNames lists the pipelines in declaration order.
func (p *Program) PipelineNames() []string {
	names := make([]string, len(p.Pipelines))
	for i, f := range p.Pipelines {
		names[i] = f.Name
	}
	return names
}
