package compiler

import (
	"fmt"
	"sort"

	"github.com/rayflow/rayflow/lang"
)

// TypeNames are the names a type annotation may use.
var TypeNames = []string{"any", "bool", "float", "function", "future", "int", "list", "map", "none", "actor", "string", "tensor"}

// compiler holds the state of one Compile call.
type compiler struct {
	prog   *Program
	errors lang.ErrorList
	// constUses lists, per const (by global index), the consts its
	// initialiser uses, for the order of evaluation (constOrder).
	constUses map[int][]constUse
	// serveRoutes are the routes of the @serve actors seen so far.
	serveRoutes map[string]lang.Position
	// refs is the unused rest of a chunk of Refs (newRef): every name
	// used gets one, so they are allocated a chunk at a time.
	refs []lang.Ref
}

// refChunk is how many Refs newRef allocates at a time.
const refChunk = 64

// newRef returns a pointer to a copy of ref, taken from the current chunk.
func (c *compiler) newRef(ref lang.Ref) *lang.Ref {
	if len(c.refs) == 0 {
		c.refs = make([]lang.Ref, refChunk)
	}
	n := &c.refs[0]
	*n = ref
	c.refs = c.refs[1:]
	return n
}

// constUse is one use of a const in another const's initialiser.
type constUse struct {
	global int
	pos    lang.Position
}

// Compile resolves and checks a parsed file. On failure the error is a
// lang.ErrorList with every error found, in source order.
func Compile(file *lang.File, universe *Universe) (*Program, error) {
	if universe == nil {
		universe = &Universe{}
	}
	c := &compiler{prog: &Program{
		File:        file,
		Universe:    universe,
		Sites:       map[*lang.Call]*CallSite{},
		Uses:        map[string]bool{},
		globalIndex: map[string]int{},
	}, constUses: map[int][]constUse{}}
	c.indexUniverse()
	c.declareGlobals(file)
	for _, g := range c.prog.Globals {
		c.resolveGlobal(g)
	}
	c.orderConsts()
	analyseDeterminism(c.prog)
	c.finishSites()
	if len(c.errors) > 0 {
		return nil, c.errors.Sort()
	}
	return c.prog, nil
}

func (c *compiler) errorf(pos lang.Position, format string, args ...any) {
	c.errors = append(c.errors, &lang.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) indexUniverse() {
	for name := range c.prog.Universe.Builtins {
		c.prog.Builtins = append(c.prog.Builtins, name)
	}
	sort.Strings(c.prog.Builtins)
	for name := range c.prog.Universe.Modules {
		c.prog.Modules = append(c.prog.Modules, name)
	}
	sort.Strings(c.prog.Modules)
}

// declareGlobals records every top-level name first, so declarations may
// refer to each other in any order.
func (c *compiler) declareGlobals(file *lang.File) {
	for _, d := range file.Decls {
		g := c.newGlobal(d)
		if g == nil {
			continue
		}
		if prev, ok := c.prog.globalIndex[g.Name]; ok {
			p := c.prog.Globals[prev].Pos
			c.errorf(g.Pos, "'%s' is already declared at %d:%d", g.Name, p.Line, p.Column)
			continue
		}
		if lang.Keywords[g.Name] {
			continue
		}
		c.prog.globalIndex[g.Name] = len(c.prog.Globals)
		c.prog.Globals = append(c.prog.Globals, g)
	}
}

func (c *compiler) newGlobal(d *lang.Decl) *Global {
	switch {
	case d.Const != nil:
		for _, dec := range d.Decorators {
			c.errorf(dec.Pos, "a const cannot have decorators")
		}
		return &Global{Name: d.Const.Name, Kind: GlobalConst, Pos: d.Const.Pos, Const: d.Const}
	case d.Func != nil:
		f := c.newFunc(d.Func.Name, d.Func.Kind, d.Func.Pos, d.Func.Params, d.Func.Result, d.Func.Body)
		c.applyDecorators(d.Decorators, f.Kind, f, nil)
		if f.Kind == "pipeline" {
			c.prog.Pipelines = append(c.prog.Pipelines, f)
		}
		return &Global{Name: f.Name, Kind: GlobalFunc, Pos: f.Pos, Func: f}
	case d.Actor != nil:
		a := c.newActor(d.Actor)
		c.applyDecorators(d.Decorators, "actor", nil, a)
		return &Global{Name: a.Name, Kind: GlobalActor, Pos: a.Pos, Actor: a}
	}
	return nil
}

func (c *compiler) newFunc(name, kind string, pos lang.Position, params []*lang.Param, result *lang.TypeRef, body *lang.Block) *Func {
	f := &Func{Name: name, Kind: kind, Pos: pos, Params: params, Result: result, Body: body, Retries: -1}
	if kind == "task" {
		f.Resources = map[string]float64{"cpu": 1}
	}
	c.prog.Funcs = append(c.prog.Funcs, f)
	return f
}

func (c *compiler) newActor(decl *lang.Actor) *Actor {
	a := &Actor{Name: decl.Name, Pos: decl.Pos, Params: decl.Params, Methods: map[string]*Func{},
		Resources: map[string]float64{"cpu": 0}}
	for _, p := range decl.Params {
		a.FieldNames = append(a.FieldNames, p.Name)
	}
	for _, m := range decl.Members {
		switch {
		case m.Field != nil:
			a.Fields = append(a.Fields, m.Field)
			for _, n := range m.Field.Names {
				if i := indexOf(a.FieldNames, n); i >= 0 {
					c.errorf(m.Field.Pos, "'%s' is already declared in actor %s", n, a.Name)
				}
				a.FieldNames = append(a.FieldNames, n)
			}
		case m.Method != nil:
			md := m.Method
			if _, dup := a.Methods[md.Name]; dup {
				c.errorf(md.Pos, "method '%s' is already declared in actor %s", md.Name, a.Name)
				continue
			}
			f := c.newFunc(md.Name, "method", md.Pos, md.Params, md.Result, md.Body)
			f.Actor = a
			a.Methods[md.Name] = f
		}
	}
	c.prog.Actors = append(c.prog.Actors, a)
	return a
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

func (c *compiler) resolveGlobal(g *Global) {
	switch g.Kind {
	case GlobalConst:
		r := c.newResolver(nil)
		r.constIndex = c.prog.globalIndex[g.Name]
		r.expr(g.Const.Value)
	case GlobalFunc:
		c.resolveFunc(g.Func)
	case GlobalActor:
		c.resolveActor(g.Actor)
	}
}

func (c *compiler) resolveFunc(f *Func) {
	r := c.newResolver(f)
	r.push()
	r.params(f.Params)
	r.checkType(f.Result)
	r.block(f.Body, false)
	r.pop()
	f.NumSlots = r.maxSlots
}

func (c *compiler) resolveActor(a *Actor) {
	// Field initialisers run in a frame that holds the parameters; each
	// field becomes visible to the initialisers after it.
	r := c.newResolver(nil)
	r.actor = a
	r.initFields = len(a.Params)
	r.push()
	r.params(a.Params)
	for _, field := range a.Fields {
		r.expr(field.Value)
		r.initFields += len(field.Names)
	}
	r.pop()
	a.InitSlots = r.maxSlots
	names := make([]string, 0, len(a.Methods))
	for n := range a.Methods {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.resolveFunc(a.Methods[n])
	}
}

// orderConsts sets Program.ConstOrder: every const after the consts its
// initialiser uses, otherwise in declaration order. A cycle (A uses B,
// B uses A) is an error at the use that closes it.
func (c *compiler) orderConsts() {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[int]int{}
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case visiting:
			return false
		case done:
			return true
		}
		state[i] = visiting
		for _, u := range c.constUses[i] {
			if state[u.global] == visiting {
				c.errorf(u.pos, "const '%s' uses '%s', which depends on '%s': consts cannot depend on each other in a cycle",
					c.prog.Globals[i].Name, c.prog.Globals[u.global].Name, c.prog.Globals[i].Name)
				state[i] = done
				return false
			}
			if !visit(u.global) {
				state[i] = done
				return false
			}
		}
		state[i] = done
		c.prog.ConstOrder = append(c.prog.ConstOrder, i)
		return true
	}
	for i, g := range c.prog.Globals {
		if g.Kind == GlobalConst {
			visit(i)
		}
	}
}
