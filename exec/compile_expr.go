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

// A small function that builds a closure for a hot path is marked
// //go:noinline. When Go inlines the builder into its caller, the copy
// of the closure compiled there does not get its own calls inlined (Go
// 1.26: check, Int and the int fast paths all became real calls), which
// costs far more at run time than the builder's call saves at load time.

// frame is the activation of one function.
type frame struct {
	th     *Thread
	prog   *Program
	slots  []Value
	fields []Value // the actor's state, in methods and field initialisers
	ret    Value
	// own is the slots a pooled frame keeps for the calls made at its
	// depth (ownSlots).
	own []Value
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
		r := c.Rests[0]
		test := cc.compareTest(r.Op, left, cc.sum(r.Right), sumOperand(c.Left), sumOperand(r.Right), r.Pos)
		return func(fr *frame) Value { return Bool(test(fr)) }
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

// testFn is a compiled condition: the truth of an expression, without
// making a bool Value first.
type testFn func(fr *frame) bool

// cond compiles the condition of an if or a while. A single comparison
// gives its result straight (compareTest); anything else is evaluated
// and its truth taken, as in an expression.
func (cc *compileCtx) cond(e *lang.Expr) testFn {
	if c := singleComparison(e); c != nil {
		r := c.Rests[0]
		return cc.compareTest(r.Op, cc.sum(c.Left), cc.sum(r.Right), sumOperand(c.Left), sumOperand(r.Right), r.Pos)
	}
	value, pos := cc.expr(e), e.Pos
	return func(fr *frame) bool { return cc.truth(value(fr), pos) }
}

// singleComparison returns e's comparison when e is exactly `a op b`.
func singleComparison(e *lang.Expr) *lang.Comparison {
	if e.Cond != nil || len(e.Body.Terms) != 1 || len(e.Body.Terms[0].Terms) != 1 {
		return nil
	}
	c := e.Body.Terms[0].Terms[0].Cmp
	if c == nil || len(c.Rests) != 1 {
		return nil
	}
	return c
}

// cmpCode is an ordering or equality operator, for comparing two ints
// without going through Compare.
type cmpCode uint8

const (
	cmpNone cmpCode = iota // in, not in: no int fast path
	cmpLT
	cmpLE
	cmpGT
	cmpGE
	cmpEQ
	cmpNE
)

func cmpCodeOf(op string) cmpCode {
	switch op {
	case "<":
		return cmpLT
	case "<=":
		return cmpLE
	case ">":
		return cmpGT
	case ">=":
		return cmpGE
	case "==":
		return cmpEQ
	case "!=":
		return cmpNE
	}
	return cmpNone
}

// ints compares two ints as the operator does.
func (c cmpCode) ints(a, b int64) bool {
	switch c {
	case cmpLT:
		return a < b
	case cmpLE:
		return a <= b
	case cmpGT:
		return a > b
	case cmpGE:
		return a >= b
	case cmpEQ:
		return a == b
	}
	return a != b
}

// compareTest compiles `left op right` to a bool. Two ints compare
// inline; any other pair goes through Compare, which also gives the
// errors. A local compared with a local or an int literal is read
// directly (localCompare).
func (cc *compileCtx) compareTest(op string, left, right evalFn, lo, ro operand, pos lang.Position) testFn {
	code := cmpCodeOf(op)
	if code == cmpNone {
		return func(fr *frame) bool { return cc.compare(op, left(fr), right(fr), pos) }
	}
	if lc := newLocalCompare(code, op, lo, ro, pos); lc != nil {
		return cc.localCompareTest(lc)
	}
	return func(fr *frame) bool {
		x, y := left(fr), right(fr)
		if x.kind == IntKind && y.kind == IntKind {
			return code.ints(int64(x.num), int64(y.num))
		}
		return cc.compare(op, x, y, pos)
	}
}

// localCompare is a comparison of a local with a local or an int
// literal, as in `n < 2` or `i < n`: the shape of most conditions of
// ifs and loops, which make it themselves (ints, inlined) rather than
// through a closure.
type localCompare struct {
	accept cmpOutcome // the outcomes for which the comparison holds
	op     string
	left   int   // the left local's slot
	right  int   // the right local's slot, or -1 for the literal
	k      Value // the literal
	pos    lang.Position
}

// cmpOutcome is a set of outcomes of comparing two ints.
type cmpOutcome uint8

const (
	outLess cmpOutcome = 1 << iota
	outEqual
	outGreater
)

// outcomesOf is the set of outcomes for which code holds.
func outcomesOf(code cmpCode) cmpOutcome {
	return [...]cmpOutcome{
		cmpLT: outLess, cmpLE: outLess | outEqual, cmpGT: outGreater, cmpGE: outGreater | outEqual,
		cmpEQ: outEqual, cmpNE: outLess | outGreater,
	}[code]
}

// newLocalCompare returns the localCompare for `lo op ro`, or nil when
// the operands do not have that shape.
func newLocalCompare(code cmpCode, op string, lo, ro operand, pos lang.Position) *localCompare {
	if code == cmpNone || lo.kind != operandLocal {
		return nil
	}
	lc := &localCompare{accept: outcomesOf(code), op: op, left: lo.slot, right: -1, pos: pos}
	switch ro.kind {
	case operandLocal:
		lc.right = ro.slot
	case operandInt:
		lc.k = Int(ro.val)
	default:
		return nil
	}
	return lc
}

// localCompareOf returns the localCompare that condition e is, or nil.
func localCompareOf(e *lang.Expr) *localCompare {
	c := singleComparison(e)
	if c == nil {
		return nil
	}
	r := c.Rests[0]
	return newLocalCompare(cmpCodeOf(r.Op), r.Op, sumOperand(c.Left), sumOperand(r.Right), r.Pos)
}

// ints is the comparison when both operands are ints (ok); it is small
// enough for Go to inline. Otherwise the caller calls generic.
func (lc *localCompare) ints(fr *frame) (holds, ok bool) {
	x, y := fr.slots[lc.left], lc.k
	if lc.right >= 0 {
		y = fr.slots[lc.right]
	}
	if x.kind != IntKind || y.kind != IntKind {
		return false, false
	}
	a, b := int64(x.num), int64(y.num)
	out := outEqual
	if a < b {
		out = outLess
	} else if a > b {
		out = outGreater
	}
	return lc.accept&out != 0, true
}

// generic is the comparison through Compare, which also gives its errors.
func (lc *localCompare) generic(cc *compileCtx, fr *frame) bool {
	y := lc.k
	if lc.right >= 0 {
		y = fr.slots[lc.right]
	}
	return cc.compare(lc.op, fr.slots[lc.left], y, lc.pos)
}

//go:noinline
func (cc *compileCtx) localCompareTest(lc *localCompare) testFn {
	return func(fr *frame) bool {
		if h, ok := lc.ints(fr); ok {
			return h
		}
		return lc.generic(cc, fr)
	}
}

// compare is the generic comparison, raising its error at pos.
func (cc *compileCtx) compare(op string, x, y Value, pos lang.Position) bool {
	ok, err := Compare(op, x, y)
	if err != nil {
		panic(cc.locate(err, pos))
	}
	return ok
}

// operand is what the compiler can tell of an operator's operand at
// compile time: a local variable (its slot) or an int literal (its
// value). A specialised operator reads such an operand directly rather
// than through its evalFn; it still checks the value's kind at run
// time, as a local may hold anything.
type operand struct {
	kind operandKind
	slot int   // operandLocal
	val  int64 // operandInt
}

type operandKind uint8

const (
	operandOther operandKind = iota
	operandLocal
	operandInt
)

// value is an expression that is read from its slot when it is a local
// (`return n`, `f(x)`), and evaluated through its closure otherwise.
type value struct {
	slot int // -1: not a local
	eval evalFn
}

func valueOf(eval evalFn, o operand) value {
	if o.kind == operandLocal {
		return value{slot: o.slot}
	}
	return value{slot: -1, eval: eval}
}

func (v value) get(fr *frame) Value {
	if v.slot >= 0 {
		return fr.slots[v.slot]
	}
	return v.eval(fr)
}

func sumOperand(s *lang.Sum) operand {
	if len(s.Rests) > 0 {
		return operand{}
	}
	return productOperand(s.Left)
}

func productOperand(p *lang.Product) operand {
	if len(p.Rests) > 0 {
		return operand{}
	}
	return unaryOperand(p.Left)
}

// unaryOperand recognises a bare local name or a non-negative int
// literal; -5 and everything else are operandOther.
func unaryOperand(u *lang.Unary) operand {
	if u.Operand != nil || u.Power == nil || u.Power.Exponent != nil || len(u.Power.Base.Suffixes) > 0 {
		return operand{}
	}
	p := u.Power.Base.Primary
	switch {
	case p.Int != nil:
		if n, err := strconv.ParseInt(strings.ReplaceAll(*p.Int, "_", ""), 10, 64); err == nil {
			return operand{kind: operandInt, val: n}
		}
	case p.Name != "" && p.Ref != nil && p.Ref.Kind == lang.RefLocal:
		return operand{kind: operandLocal, slot: p.Ref.Index}
	}
	return operand{}
}

func (cc *compileCtx) sum(s *lang.Sum) evalFn {
	f, lo := cc.product(s.Left), productOperand(s.Left)
	for _, r := range s.Rests {
		f = cc.binary(r.Op, f, cc.product(r.Right), lo, productOperand(r.Right), r.Pos)
		lo = operand{}
	}
	return f
}

func (cc *compileCtx) product(p *lang.Product) evalFn {
	f, lo := cc.unary(p.Left), unaryOperand(p.Left)
	for _, r := range p.Rests {
		f = cc.binary(r.Op, f, cc.unary(r.Right), lo, unaryOperand(r.Right), r.Pos)
		lo = operand{}
	}
	return f
}

// binary compiles an arithmetic operator, with a fast path for two ints:
// inline for + and -, straight to intArith for the others. A local or an int literal as an operand (lo, ro) is read
// directly: addSubLocalInt and addSubLocals.
func (cc *compileCtx) binary(op string, left, right evalFn, lo, ro operand, pos lang.Position) evalFn {
	if op != "+" && op != "-" {
		return func(fr *frame) Value {
			x, y := left(fr), right(fr)
			if x.kind == IntKind && y.kind == IntKind { // what Arith does for two ints, without its dispatch
				if v, err := intArith(op, int64(x.num), int64(y.num)); err == nil {
					return v
				}
			}
			return cc.arithAt(op, x, y, pos)
		}
	}
	sub := op == "-"
	switch {
	case lo.kind == operandLocal && ro.kind == operandInt:
		return cc.addSubLocalInt(sub, lo.slot, ro.val, pos)
	case lo.kind == operandLocal && ro.kind == operandLocal:
		return cc.addSubLocals(sub, lo.slot, ro.slot, pos)
	}
	return func(fr *frame) Value {
		x, y := left(fr), right(fr)
		if x.kind == IntKind && y.kind == IntKind {
			if c, ok := addSubInts(sub, int64(x.num), int64(y.num)); ok {
				return Value{kind: IntKind, num: uint64(c)}
			}
		}
		return cc.arithAt(op, x, y, pos)
	}
}

// addSubLocalInt is binary for `local + literal` and `local - literal`,
// as in `n - 1`.
//
//go:noinline
func (cc *compileCtx) addSubLocalInt(sub bool, slot int, k int64, pos lang.Position) evalFn {
	op, la := addSubOp(sub), &localArith{sub: sub, slot: slot, k: k}
	return func(fr *frame) Value {
		if v, ok := la.ints(fr); ok {
			return v
		}
		return cc.arithAt(op, fr.slots[slot], Int(k), pos)
	}
}

// localArith is `local + literal` or `local - literal`, as in `n - 1`,
// which a call also evaluates as its argument without calling the
// argument's closure (inlineCall1).
type localArith struct {
	sub  bool
	slot int
	k    int64
}

// localArithOf returns the localArith that e is, or nil.
func localArithOf(e *lang.Expr) *localArith {
	c := singleOperand(e)
	if c == nil || len(c.Left.Rests) != 1 || c.Left.Rests[0].Op != "+" && c.Left.Rests[0].Op != "-" {
		return nil
	}
	lo, ro := productOperand(c.Left.Left), productOperand(c.Left.Rests[0].Right)
	if lo.kind != operandLocal || ro.kind != operandInt {
		return nil
	}
	return &localArith{sub: c.Left.Rests[0].Op == "-", slot: lo.slot, k: ro.val}
}

// singleOperand returns e's comparison when e is one sum: no condition,
// no and, or, not or comparison operator.
func singleOperand(e *lang.Expr) *lang.Comparison {
	if e.Cond != nil || len(e.Body.Terms) != 1 || len(e.Body.Terms[0].Terms) != 1 {
		return nil
	}
	c := e.Body.Terms[0].Terms[0].Cmp
	if c == nil || len(c.Rests) != 0 {
		return nil
	}
	return c
}

// ints is the value when the local holds an int and the result does
// not overflow (ok); otherwise the caller evaluates the expression the
// generic way, which reports the error.
func (la *localArith) ints(fr *frame) (Value, bool) {
	x := fr.slots[la.slot]
	if x.kind != IntKind {
		return Value{}, false
	}
	c, ok := addSubInts(la.sub, int64(x.num), la.k)
	return Value{kind: IntKind, num: uint64(c)}, ok
}

// addSubLocals is binary for `local + local` and `local - local`.
//
//go:noinline
func (cc *compileCtx) addSubLocals(sub bool, a, b int, pos lang.Position) evalFn {
	op := addSubOp(sub)
	return func(fr *frame) Value {
		if x, y := fr.slots[a], fr.slots[b]; x.kind == IntKind && y.kind == IntKind {
			if c, ok := addSubInts(sub, int64(x.num), int64(y.num)); ok {
				return Value{kind: IntKind, num: uint64(c)}
			}
		}
		return cc.arithAt(op, fr.slots[a], fr.slots[b], pos)
	}
}

func addSubOp(sub bool) string {
	if sub {
		return "-"
	}
	return "+"
}

// addSubInts is a+b (sub false) or a-b; ok is false on overflow, which
// the caller leaves to Arith to report.
// The sum overflowed when it has a sign neither operand has, the
// difference when a and b differ in sign and c differs from a.
func addSubInts(sub bool, a, b int64) (c int64, ok bool) {
	if sub {
		c = a - b
		return c, (a^b)&(a^c) >= 0
	}
	c = a + b
	return c, (a^c)&(b^c) >= 0
}

// arithAt is the generic arithmetic operator, raising its error at pos.
func (cc *compileCtx) arithAt(op string, x, y Value, pos lang.Position) Value {
	v, err := Arith(op, x, y)
	if err != nil {
		panic(cc.locate(err, pos))
	}
	return v
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
	return cc.binary("**", base, cc.unary(p.Exponent), operand{}, operand{}, p.Pos)
}
