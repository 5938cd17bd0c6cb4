package exec

import (
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// The closure compiler.
//
// Each expression becomes an evalFn and each statement an execFn, built
// once when the program is loaded. Names were resolved by the compiler to
// frame slots, actor fields, globals, built-ins and modules, so running
// code indexes slices and never looks a name up in a map. Errors are Go
// panics carrying *Error; every call site recovers them only to add its
// frame to the stack, and the thread's entry point turns them into return
// values.

type evalFn func(fr *frame) Value

// frame is the activation of one function.
type frame struct {
	th     *Thread
	prog   *Program
	slots  []Value
	fields []Value // the actor's state, in methods and field initialisers
	ret    Value
}

// compileCtx is what the compiler of one function knows.
type compileCtx struct {
	prog   *Program
	fnName string
	fn     *compiler.Func
	actor  *compiler.Actor
	// callPos is where the callee expression of the call being compiled
	// starts: a call's position in errors and stacks.
	callPos lang.Position
	// ahead maps the call of each loop run ahead to its loop.
	ahead map[*lang.Call]*lang.For
}

// raise panics with an error of kind at pos, in the current function.
func (cc *compileCtx) errAt(pos lang.Position, kind, format string, args ...any) *Error {
	e := Errorf(kind, format, args...)
	e.Pos = pos
	e.Stack = []Frame{{Pos: pos, Name: cc.fnName}}
	return e
}

// locate gives an error raised without a position (by a built-in or an
// operator) the position of the expression that raised it.
func (cc *compileCtx) locate(err error, pos lang.Position) *Error {
	return locateAt(err, pos, cc.fnName)
}

// locateAt places an error returned by a built-in at the call: a fresh
// error gets the position, one that already has a stack (a remote task's
// error seen through get) gets the call as its next frame.
func locateAt(err error, pos lang.Position, fnName string) *Error {
	e := asError(err, pos, fnName)
	if n := len(e.Stack); n > 0 && (e.Stack[n-1].Pos != pos || e.Stack[n-1].Name != fnName) {
		e.Stack = append(e.Stack, Frame{Pos: pos, Name: fnName})
	}
	return e
}

// asError turns anything recovered or returned into an *Error with a
// position and a first stack frame.
func asError(r any, pos lang.Position, fnName string) *Error {
	var e *Error
	switch v := r.(type) {
	case *Error:
		e = v
	case error:
		e = &Error{Kind: KindValue, Msg: v.Error()}
	default:
		e = &Error{Kind: KindInternal, Msg: "internal error: " + strings.TrimSpace(toString(v)) +
			"; please report this as a bug with the program that caused it"}
	}
	if e.Pos.Line == 0 && pos.Line != 0 {
		e.Pos = pos
	}
	if len(e.Stack) == 0 && pos.Line != 0 {
		e.Stack = []Frame{{Pos: pos, Name: fnName}}
	}
	return e
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	}
	return "unexpected panic"
}

func (cc *compileCtx) expr(e *lang.Expr) evalFn {
	body := cc.or(e.Body)
	if e.Cond == nil {
		return body
	}
	cond, alt := cc.or(e.Cond), cc.expr(e.Else)
	pos := e.Cond.Pos
	return func(fr *frame) Value {
		if cc.truth(cond(fr), pos) {
			return body(fr)
		}
		return alt(fr)
	}
}

// truth is a condition's truth value; a future is an error there.
func (cc *compileCtx) truth(v Value, pos lang.Position) bool {
	if v.kind == BoolKind {
		return v.num != 0
	}
	if v.kind == FutureKind {
		panic(cc.locate(futureAsValue(v), pos))
	}
	return v.Truth()
}

func (cc *compileCtx) or(o *lang.Or) evalFn {
	terms := make([]evalFn, len(o.Terms))
	for i, t := range o.Terms {
		terms[i] = cc.and(t)
	}
	return cc.shortCircuit(terms, true, o.Pos)
}

func (cc *compileCtx) and(a *lang.And) evalFn {
	terms := make([]evalFn, len(a.Terms))
	for i, t := range a.Terms {
		terms[i] = cc.not(t)
	}
	return cc.shortCircuit(terms, false, a.Pos)
}

// shortCircuit compiles `a or b or c` (stopAt true) and `a and b and c`
// (stopAt false): the value of the first term whose truth is stopAt,
// else of the last term.
func (cc *compileCtx) shortCircuit(terms []evalFn, stopAt bool, pos lang.Position) evalFn {
	if len(terms) == 1 {
		return terms[0]
	}
	return func(fr *frame) Value {
		var v Value
		for _, t := range terms {
			v = t(fr)
			if cc.truth(v, pos) == stopAt {
				return v
			}
		}
		return v
	}
}

func (cc *compileCtx) not(n *lang.Not) evalFn {
	if n.Negated != nil {
		inner, pos := cc.not(n.Negated), n.Pos
		return func(fr *frame) Value { return Bool(!cc.truth(inner(fr), pos)) }
	}
	return cc.comparison(n.Cmp)
}

func (cc *compileCtx) comparison(c *lang.Comparison) evalFn {
	left := cc.sum(c.Left)
	if len(c.Rests) == 0 {
		return left
	}
	if len(c.Rests) == 1 {
		op, right, pos := c.Rests[0].Op, cc.sum(c.Rests[0].Right), c.Rests[0].Pos
		return cc.compareOp(op, left, right, pos)
	}
	// Chained: a < b < c is a < b and b < c, each operand evaluated once.
	ops := make([]string, len(c.Rests))
	rights := make([]evalFn, len(c.Rests))
	poss := make([]lang.Position, len(c.Rests))
	for i, r := range c.Rests {
		ops[i], rights[i], poss[i] = r.Op, cc.sum(r.Right), r.Pos
	}
	return func(fr *frame) Value {
		x := left(fr)
		for i, op := range ops {
			y := rights[i](fr)
			ok, err := Compare(op, x, y)
			if err != nil {
				panic(cc.locate(err, poss[i]))
			}
			if !ok {
				return False
			}
			x = y
		}
		return True
	}
}

func (cc *compileCtx) compareOp(op string, left, right evalFn, pos lang.Position) evalFn {
	if op == "<" {
		return func(fr *frame) Value {
			x, y := left(fr), right(fr)
			if x.kind == IntKind && y.kind == IntKind {
				return Bool(int64(x.num) < int64(y.num))
			}
			ok, err := Compare(op, x, y)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return Bool(ok)
		}
	}
	return func(fr *frame) Value {
		ok, err := Compare(op, left(fr), right(fr))
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return Bool(ok)
	}
}

func (cc *compileCtx) sum(s *lang.Sum) evalFn {
	f := cc.product(s.Left)
	for _, r := range s.Rests {
		f = cc.binary(r.Op, f, cc.product(r.Right), r.Pos)
	}
	return f
}

func (cc *compileCtx) product(p *lang.Product) evalFn {
	f := cc.unary(p.Left)
	for _, r := range p.Rests {
		f = cc.binary(r.Op, f, cc.unary(r.Right), r.Pos)
	}
	return f
}

// binary compiles an arithmetic operator, with a fast path for two ints.
func (cc *compileCtx) binary(op string, left, right evalFn, pos lang.Position) evalFn {
	switch op {
	case "+":
		return func(fr *frame) Value {
			x, y := left(fr), right(fr)
			if x.kind == IntKind && y.kind == IntKind {
				a, b := int64(x.num), int64(y.num)
				c := a + b
				if (c > a) == (b > 0) {
					return Value{kind: IntKind, num: uint64(c)}
				}
			}
			v, err := Arith(op, x, y)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	case "-":
		return func(fr *frame) Value {
			x, y := left(fr), right(fr)
			if x.kind == IntKind && y.kind == IntKind {
				a, b := int64(x.num), int64(y.num)
				c := a - b
				if (c < a) == (b > 0) {
					return Value{kind: IntKind, num: uint64(c)}
				}
			}
			v, err := Arith(op, x, y)
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	return func(fr *frame) Value {
		v, err := Arith(op, left(fr), right(fr))
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}
}

func (cc *compileCtx) unary(u *lang.Unary) evalFn {
	if u.Operand == nil {
		return cc.power(u.Power)
	}
	inner, pos := cc.unary(u.Operand), u.Pos
	if u.Op == "+" {
		return func(fr *frame) Value {
			v, err := Unary("+", inner(fr))
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	if lit := cc.negLiteral(u.Operand); lit != nil {
		v := *lit
		return func(*frame) Value { return v }
	}
	return func(fr *frame) Value {
		v, err := Negate(inner(fr))
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}
}

// negLiteral folds -5 and -2.5 into constants; -9223372036854775808 is
// only reachable this way.
func (cc *compileCtx) negLiteral(u *lang.Unary) *Value {
	if u.Power == nil || u.Power.Exponent != nil || len(u.Power.Base.Suffixes) > 0 {
		return nil
	}
	p := u.Power.Base.Primary
	switch {
	case p.Int != nil:
		text := "-" + strings.ReplaceAll(*p.Int, "_", "")
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			v := Int(n)
			return &v
		}
	case p.Float != nil:
		if f, err := strconv.ParseFloat(strings.ReplaceAll(*p.Float, "_", ""), 64); err == nil {
			v := Float(-f)
			return &v
		}
	}
	return nil
}

func (cc *compileCtx) power(p *lang.Power) evalFn {
	base := cc.postfix(p.Base)
	if p.Exponent == nil {
		return base
	}
	return cc.binary("**", base, cc.unary(p.Exponent), p.Pos)
}
