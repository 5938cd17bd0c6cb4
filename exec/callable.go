package exec

import (
	"fmt"
	"sort"
	"strings"
)

// Callable is anything a program can call: built-ins, stdlib functions,
// bound methods of host objects, and the program's own fn, task and
// actor declarations.
type Callable interface {
	Name() string
	Call(th *Thread, args []Value, kwargs []Kwarg) (Value, error)
}

// Kwarg is one keyword argument of a call.
type Kwarg struct {
	Name  string
	Value Value
}

// BuiltinFunc is the Go body of a built-in. It returns an *Error (made
// with Errorf) or any error, which becomes a "value" error.
type BuiltinFunc func(th *Thread, args *Args) (Value, error)

// Builtin is a Go function callable from rayflow programs.
type Builtin struct {
	name string
	fn   BuiltinFunc
	// Nondeterministic marks functions whose result may differ between
	// runs (time, unseeded randomness, file reads); the compiler's
	// determinism analysis reads it.
	Nondeterministic bool
	// NondeterministicWithoutArgs marks functions that are
	// nondeterministic only when called with no arguments, such as
	// random.new().
	NondeterministicWithoutArgs bool
	// recv and method are set for a method of a host object
	// (NewMethodOf): it acts on recv's state. It crosses a task boundary
	// as recv does: copied when recv is a Copier, sent to another node
	// when recv is Portable, refused otherwise.
	recv   Object
	method string
}

// NewMethodOf makes the method named method of the host object recv
// ("rng.randint"): fn acts on recv.
func NewMethodOf(recv Object, method string, fn BuiltinFunc) *Builtin {
	return &Builtin{name: recv.TypeName() + "." + method, fn: fn, recv: recv, method: method}
}

// methodCopy is a method of a host object bound to a copy of its
// receiver, when the receiver is copied across a task boundary
// (CopyValue); ok is false for any other function.
func methodCopy(v Value) (Value, bool) {
	b, isBuiltin := v.AsCallable().(*Builtin)
	if !isBuiltin || b.recv == nil {
		return v, false
	}
	c, ok := b.recv.(Copier)
	if !ok {
		return v, false
	}
	return c.Copy().Attr(b.method)
}

// NewBuiltin makes a built-in named name (for messages: "math.sqrt").
func NewBuiltin(name string, fn BuiltinFunc) *Builtin {
	return &Builtin{name: name, fn: fn}
}

// Name is the built-in's name.
func (b *Builtin) Name() string { return b.name }

// Call runs the built-in.
func (b *Builtin) Call(th *Thread, args []Value, kwargs []Kwarg) (Value, error) {
	return b.fn(th, &Args{Fn: b.name, Pos: args, Kw: kwargs})
}

// Args are the arguments of one built-in call.
type Args struct {
	Fn  string // the function's name, for messages
	Pos []Value
	Kw  []Kwarg
}

// Unpack assigns the arguments to targets, starlark style: pairs of a
// parameter name and a pointer. A name ending in "?" is optional. Targets
// may be *Value, *int64, *int, *float64 (an int is accepted), *string,
// *bool, **List, **Map, **Tensor, *Callable.
func (a *Args) Unpack(pairs ...any) error {
	if len(pairs)%2 != 0 {
		panic("Unpack: odd number of arguments")
	}
	n := len(pairs) / 2
	if len(a.Pos) > n {
		return Errorf(KindType, "%s() takes at most %d argument%s, got %d", a.Fn, n, plural(n), len(a.Pos))
	}
	set := make([]bool, n)
	for i, v := range a.Pos {
		if err := a.assign(pairs[2*i].(string), v, pairs[2*i+1]); err != nil {
			return err
		}
		set[i] = true
	}
	for _, kw := range a.Kw {
		i := indexOfParam(pairs, kw.Name)
		if i < 0 {
			return Errorf(KindType, "%s() got an unexpected keyword argument '%s'", a.Fn, kw.Name)
		}
		if set[i] {
			return Errorf(KindType, "%s() got multiple values for argument '%s'", a.Fn, kw.Name)
		}
		if err := a.assign(pairs[2*i].(string), kw.Value, pairs[2*i+1]); err != nil {
			return err
		}
		set[i] = true
	}
	for i := 0; i < n; i++ {
		name := pairs[2*i].(string)
		if !set[i] && !strings.HasSuffix(name, "?") {
			return Errorf(KindType, "%s() missing argument '%s'", a.Fn, name)
		}
	}
	return nil
}

func indexOfParam(pairs []any, name string) int {
	for i := 0; i < len(pairs); i += 2 {
		if strings.TrimSuffix(pairs[i].(string), "?") == name {
			return i / 2
		}
	}
	return -1
}

func (a *Args) assign(param string, v Value, target any) error {
	param = strings.TrimSuffix(param, "?")
	bad := func(want string) error {
		return Errorf(KindType, "%s() argument '%s' must be %s, not %s", a.Fn, param, want, v.TypeName())
	}
	if v.kind == FutureKind {
		if _, ok := target.(*Value); !ok {
			return futureAsValue(v)
		}
	}
	switch t := target.(type) {
	case *Value:
		*t = v
	case *int64:
		if v.kind != IntKind {
			return bad("an int")
		}
		*t = v.AsInt()
	case *int:
		if v.kind != IntKind {
			return bad("an int")
		}
		*t = int(v.AsInt())
	case *float64:
		if !v.IsNumber() {
			return bad("a number")
		}
		*t = v.Number()
	case *string:
		if v.kind != StringKind {
			return bad("a string")
		}
		*t = v.AsString()
	case *bool:
		if v.kind != BoolKind {
			return bad("a bool")
		}
		*t = v.AsBool()
	case **List:
		if v.kind != ListKind {
			return bad("a list")
		}
		*t = v.AsList()
	case **Map:
		if v.kind != MapKind {
			return bad("a map")
		}
		*t = v.AsMap()
	case **Tensor:
		if v.kind != TensorKind {
			return bad("a tensor")
		}
		*t = v.AsTensor()
	case *Callable:
		if v.kind != FunctionKind {
			return bad("a function")
		}
		*t = v.AsCallable()
	default:
		panic(fmt.Sprintf("Unpack: unsupported target %T", target))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Module is a standard-library module: a name and its members. The
// members of a Global module are in scope as bare names, like the
// built-ins; an embedding program registers its Go functions that way.
type Module struct {
	Name    string
	Members map[string]Value
	Global  bool
}

// TypeName is "module".
func (m *Module) TypeName() string { return "module" }

// Attr returns a member.
func (m *Module) Attr(name string) (Value, bool) {
	v, ok := m.Members[name]
	return v, ok
}

// MemberNames lists the members in sorted order.
func (m *Module) MemberNames() []string {
	names := make([]string, 0, len(m.Members))
	for n := range m.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AddFunc adds a built-in member named name; the built-in's own name is
// "module.name".
func (m *Module) AddFunc(name string, fn BuiltinFunc) *Builtin {
	b := NewBuiltin(m.Name+"."+name, fn)
	if m.Members == nil {
		m.Members = map[string]Value{}
	}
	m.Members[name] = FuncValue(b)
	return b
}

// HostObject is a convenient Object for stdlib types: a type name and a
// table of bound methods and attributes computed on demand.
type HostObject struct {
	Type    string
	Methods map[string]BuiltinFunc
	Fields  map[string]func() Value
}

// TypeName is the object's type name.
func (o *HostObject) TypeName() string { return o.Type }

// Attr returns a field or a method bound to the object.
func (o *HostObject) Attr(name string) (Value, bool) {
	if f, ok := o.Fields[name]; ok {
		return f(), true
	}
	if m, ok := o.Methods[name]; ok {
		return FuncValue(NewMethodOf(o, name, m)), true
	}
	return None, false
}

// Function values outside their process. Every node runs the same
// program (loaded by its hash), so a function value travels as a
// reference to what it names there: a declaration of the program (fn,
// task, pipeline, method or actor class) by its program and name, a
// built-in or module function by its name, or an actor's method taken
// as a value (`c.inc`) by its actor handle and the method's name. A
// host object's method (`rng.randint`) travels with a copy of its object
// when the object is Portable; other host objects' methods are bound to
// one process and cannot travel.

// FuncRef is how a function value is named outside its process.
type FuncRef struct {
	// Program is the declaring program of a declaration; nil for a
	// built-in or module function and for a bound method.
	Program *Program
	// Name is the declaration's qualified name ("double",
	// "Counter.inc", "Counter"), the built-in's name ("len",
	// "math.sqrt") or, for a bound method, the method's own name.
	Name string
	// Actor is the actor handle of a bound method; None otherwise.
	Actor Value
	// Receiver is the Portable host object of a method taken from it
	// (`rng.randint`), Name the method's name; None otherwise. It
	// travels as the object does (by value), and the method is taken
	// from the copy (MethodOf).
	Receiver Value
}

// MethodOf takes the method named name of the host object recv, as
// `recv.name` does.
func MethodOf(recv Value, name string) (Value, error) {
	if recv.kind != ObjectKind {
		return None, Errorf(KindType, "a %s has no methods", recv.TypeName())
	}
	m, ok := recv.AsObject().Attr(name)
	if !ok || m.kind != FunctionKind {
		return None, Errorf(KindName, "%s has no method '%s'", recv.TypeName(), name)
	}
	return m, nil
}

// FuncRefOf returns how the function value v travels, or an error when
// it cannot leave its process.
func FuncRefOf(v Value) (FuncRef, *Error) {
	if v.kind != FunctionKind {
		return FuncRef{}, Errorf(KindType, "a %s is not a function", v.TypeName())
	}
	switch c := v.AsCallable().(type) {
	case *Function:
		if c.Kind == "method" {
			return FuncRef{}, Errorf(KindType, "the method %s cannot leave its actor without the actor: pass the actor, or the method taken from it", c.qualifiedName())
		}
		return FuncRef{Program: c.prog, Name: c.Ref()}, nil
	case *ActorClass:
		return FuncRef{Program: c.prog, Name: c.Ref()}, nil
	case boundMethod:
		return FuncRef{Name: c.method.name, Actor: ActorValue(c.actor)}, nil
	case *Builtin:
		if c.recv == nil {
			return FuncRef{Name: c.name}, nil
		}
		if _, ok := c.recv.(Portable); ok {
			return FuncRef{Name: c.method, Receiver: ObjectValue(c.recv)}, nil
		}
	case *NativeTask:
		return FuncRef{Name: c.Name()}, nil
	}
	return FuncRef{}, Errorf(KindType, "the function %s cannot leave the process that made it: it is bound to an object that lives there", v.AsCallable().Name())
}

// DeclaredFunc returns the declaration of p named name as a value: a fn,
// task or pipeline, a method ("Counter.inc") or an actor class.
func (p *Program) DeclaredFunc(name string) (Value, bool) {
	if f, ok := p.FuncByName(name); ok {
		return FuncValue(f), true
	}
	if c, ok := p.ClassByName(name); ok {
		return FuncValue(c), true
	}
	return None, false
}

// UniverseFunc returns the built-in or module function named name
// ("len", "math.sqrt") as p sees it: among p's built-ins and the members
// of the modules p uses.
func (p *Program) UniverseFunc(name string) (Value, bool) {
	if b, ok := builtinTable[name]; ok {
		return FuncValue(b), true
	}
	for _, v := range p.builtins {
		if v.kind == FunctionKind && v.AsCallable().Name() == name {
			return v, true
		}
	}
	mod, member, ok := strings.Cut(name, ".")
	if !ok {
		return None, false
	}
	for _, mv := range p.modules {
		m, _ := mv.ref.(*Module)
		if m == nil || m.Name != mod {
			continue
		}
		if v, ok := m.Members[member]; ok && v.kind == FunctionKind && v.AsCallable().Name() == name {
			return v, true
		}
	}
	return None, false
}

// BuiltinByName returns the built-in named name ("len"), which needs no
// program.
func BuiltinByName(name string) (Value, bool) {
	b, ok := builtinTable[name]
	if !ok {
		return None, false
	}
	return FuncValue(b), true
}

// BindMethod takes the method named name of the actor handle actor as a
// value, as `actor.name` does.
func BindMethod(actor Value, name string) (Value, error) {
	if actor.kind != ActorKind {
		return None, Errorf(KindType, "a %s is not an actor", actor.TypeName())
	}
	h := actor.AsActor()
	m, ok := h.Class.Method(name)
	if !ok {
		return None, Errorf(KindName, "actor %s has no method %s", h.Class.Name(), name)
	}
	return FuncValue(boundMethod{actor: h, method: m}), nil
}
