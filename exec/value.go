package exec

import (
	"math"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of value. Their names, as `type(x)` returns them, are in
// kindNames.
const (
	NoneKind Kind = iota
	BoolKind
	IntKind
	FloatKind
	StringKind
	ListKind
	MapKind
	TensorKind
	FutureKind
	ActorKind
	FunctionKind
	ObjectKind // a host object (module, environment, generator, error)
)

var kindNames = [...]string{
	NoneKind: "none", BoolKind: "bool", IntKind: "int", FloatKind: "float",
	StringKind: "string", ListKind: "list", MapKind: "map", TensorKind: "tensor",
	FutureKind: "future", ActorKind: "actor", FunctionKind: "function",
	ObjectKind: "object",
}

func (k Kind) String() string { return kindNames[k] }

// Value is one rayflow value. Numbers and booleans live in num, so
// arithmetic does not allocate; everything else is behind ref.
// The zero Value is none.
type Value struct {
	kind Kind
	num  uint64
	ref  any
}

// None is the none value.
var None = Value{}

// True and False are the two booleans.
var (
	True  = Value{kind: BoolKind, num: 1}
	False = Value{kind: BoolKind}
)

// Int makes an int value.
func Int(i int64) Value { return Value{kind: IntKind, num: uint64(i)} }

// Float makes a float value.
func Float(f float64) Value { return Value{kind: FloatKind, num: math.Float64bits(f)} }

// Bool makes a bool value.
func Bool(b bool) Value {
	if b {
		return True
	}
	return False
}

// Str makes a string value.
func Str(s string) Value { return Value{kind: StringKind, ref: s} }

// ListOf makes a list value that owns elems.
func ListOf(elems []Value) Value { return Value{kind: ListKind, ref: &List{Elems: elems}} }

// ListValue wraps an existing list.
func ListValue(l *List) Value { return Value{kind: ListKind, ref: l} }

// MapValue wraps a map.
func MapValue(m *Map) Value { return Value{kind: MapKind, ref: m} }

// TensorValue wraps a tensor.
func TensorValue(t *Tensor) Value { return Value{kind: TensorKind, ref: t} }

// FutureValue wraps a future.
func FutureValue(f *Future) Value { return Value{kind: FutureKind, ref: f} }

// ActorValue wraps an actor handle.
func ActorValue(a *ActorHandle) Value { return Value{kind: ActorKind, ref: a} }

// FuncValue wraps a callable.
func FuncValue(c Callable) Value { return Value{kind: FunctionKind, ref: c} }

// ObjectValue wraps a host object.
func ObjectValue(o Object) Value { return Value{kind: ObjectKind, ref: o} }

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNone reports whether v is none.
func (v Value) IsNone() bool { return v.kind == NoneKind }

// AsInt returns the int in v; v must be an int.
func (v Value) AsInt() int64 { return int64(v.num) }

// AsFloat returns the float in v; v must be a float.
func (v Value) AsFloat() float64 { return math.Float64frombits(v.num) }

// AsBool returns the bool in v; v must be a bool.
func (v Value) AsBool() bool { return v.num != 0 }

// AsString returns the string in v; v must be a string.
func (v Value) AsString() string { return v.ref.(string) }

// AsList returns the list in v; v must be a list.
func (v Value) AsList() *List { return v.ref.(*List) }

// AsMap returns the map in v; v must be a map.
func (v Value) AsMap() *Map { return v.ref.(*Map) }

// AsTensor returns the tensor in v; v must be a tensor.
func (v Value) AsTensor() *Tensor { return v.ref.(*Tensor) }

// AsFuture returns the future in v; v must be a future.
func (v Value) AsFuture() *Future { return v.ref.(*Future) }

// AsActor returns the actor handle in v; v must be an actor.
func (v Value) AsActor() *ActorHandle { return v.ref.(*ActorHandle) }

// AsCallable returns the callable in v; v must be a function.
func (v Value) AsCallable() Callable { return v.ref.(Callable) }

// AsObject returns the host object in v; v must be an object.
func (v Value) AsObject() Object { return v.ref.(Object) }

// IsNumber reports whether v is an int or a float.
func (v Value) IsNumber() bool { return v.kind == IntKind || v.kind == FloatKind }

// Number returns v as a float64; v must be an int or a float.
func (v Value) Number() float64 {
	if v.kind == IntKind {
		return float64(int64(v.num))
	}
	return math.Float64frombits(v.num)
}

// TypeName is the name `type(v)` returns.
func (v Value) TypeName() string {
	if v.kind == ObjectKind {
		return v.ref.(Object).TypeName()
	}
	return kindNames[v.kind]
}

// Truth is the value's truthiness, as in Python: none, false, 0, 0.0, ""
// and empty containers are false.
func (v Value) Truth() bool {
	switch v.kind {
	case NoneKind:
		return false
	case BoolKind, IntKind:
		return v.num != 0
	case FloatKind:
		return v.AsFloat() != 0
	case StringKind:
		return v.AsString() != ""
	case ListKind:
		return len(v.AsList().Elems) > 0
	case MapKind:
		return v.AsMap().Len() > 0
	case TensorKind:
		return len(v.AsTensor().Data) > 0
	}
	return true
}

// List is a mutable list.
type List struct {
	Elems []Value
}

// Tensor is a dense, immutable float64 array with a shape. Data is in
// row-major order; len(Data) is the product of Shape.
type Tensor struct {
	Shape []int
	Data  []float64
}

// Size is the number of elements of the tensor.
func (t *Tensor) Size() int { return len(t.Data) }

// Object is a host value with a type name and attributes, such as a
// stdlib module, an RL environment, a random generator or a caught error.
// Attributes that are methods are returned as bound Callables.
type Object interface {
	TypeName() string
	Attr(name string) (Value, bool)
}

// Future is a handle to a value that a task, an actor method or put will
// produce. Handle belongs to the runtime that made it and tells the
// future's ID and name (FutureHandle): a future is one word pair, not a
// copy of what the runtime's record holds already (a million futures
// held by a program are a million allocations of 16 bytes, issue 15).
// Until the runtime fills a future exec made for a grouped call
// (submitGrouped), its Handle is the call.
type Future struct {
	Handle any
}

// FutureHandle is what a runtime's handle tells of its future.
type FutureHandle interface {
	ID() string   // the deterministic object ID
	Name() string // what produces it, for messages: "task square"
}

// NewFuture makes a future whose handle is only its ID and name, for a
// runtime that keeps its futures' values elsewhere (tests, tools).
func NewFuture(id, name string) *Future { return &Future{Handle: &label{id: id, name: name}} }

// label is the handle of a future made by NewFuture.
type label struct{ id, name string }

func (l *label) ID() string   { return l.id }
func (l *label) Name() string { return l.name }

// ID is the future's deterministic object ID.
func (f *Future) ID() string {
	switch h := f.Handle.(type) {
	case FutureHandle:
		return h.ID()
	case *TaskCall: // a grouped call not sent yet
		return h.ID
	}
	return ""
}

// Name says what produces the future, for messages: "task square".
func (f *Future) Name() string {
	switch h := f.Handle.(type) {
	case FutureHandle:
		return h.Name()
	case *TaskCall: // a grouped call not sent yet
		return h.Name()
	}
	return ""
}

// ActorHandle refers to a live actor. Handle belongs to the runtime.
type ActorHandle struct {
	ID     string
	Class  *ActorClass
	Handle any
}
