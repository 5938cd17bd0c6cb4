package exec

import (
	"github.com/rayflow/rayflow/lang"
)

// ctl says how a statement ended.
type ctl uint8

const (
	ctlNext ctl = iota
	ctlBreak
	ctlContinue
	ctlReturn
)

type execFn func(fr *frame) ctl

func (cc *compileCtx) params(params []*lang.Param) []param {
	out := make([]param, len(params))
	for i, p := range params {
		out[i] = param{name: p.Name, pos: p.Pos}
		if p.Type != nil {
			out[i].typ = p.Type.Name
		}
		out[i].fast = typeKinds(out[i].typ)
		if p.Default != nil {
			out[i].def = cc.expr(p.Default)
		}
	}
	return out
}

// stmts compiles the statements of a block.
func (cc *compileCtx) stmts(b *lang.Block) []execFn {
	stmts := make([]execFn, len(b.Stmts))
	for i, s := range b.Stmts {
		stmts[i] = cc.stmt(s)
	}
	return stmts
}

func (cc *compileCtx) block(b *lang.Block) execFn {
	stmts := cc.stmts(b)
	switch len(stmts) {
	case 0:
		return func(*frame) ctl { return ctlNext }
	case 1:
		return stmts[0]
	}
	return func(fr *frame) ctl { return runStmts(stmts, fr) }
}

// runStmts runs statements in order until one ends otherwise than
// normally (break, continue, return), as a block does. Function bodies
// and loop bodies call it directly, without a block closure between.
func runStmts(stmts []execFn, fr *frame) ctl {
	for _, s := range stmts {
		if c := s(fr); c != ctlNext {
			return c
		}
	}
	return ctlNext
}

func (cc *compileCtx) stmt(s *lang.Stmt) execFn {
	switch {
	case s.Let != nil:
		return cc.let(s.Let)
	case s.If != nil:
		return cc.ifStmt(s.If)
	case s.For != nil:
		return cc.forStmt(s.For)
	case s.While != nil:
		return cc.while(s.While)
	case s.Break != nil:
		if s.Break.Kind == "break" {
			return func(*frame) ctl { return ctlBreak }
		}
		return func(*frame) ctl { return ctlContinue }
	case s.Return != nil:
		return cc.ret(s.Return)
	case s.Try != nil:
		return cc.try(s.Try)
	case s.Block != nil:
		return cc.block(s.Block)
	case s.Simple != nil:
		return cc.simple(s.Simple)
	}
	return func(*frame) ctl { return ctlNext }
}

func (cc *compileCtx) let(l *lang.Let) execFn {
	value := cc.expr(l.Value)
	if len(l.Slots) == 1 {
		slot := l.Slots[0]
		return func(fr *frame) ctl {
			fr.slots[slot] = value(fr)
			return ctlNext
		}
	}
	slots, pos := l.Slots, l.Pos
	return func(fr *frame) ctl {
		vals := cc.unpack(value(fr), len(slots), pos)
		for i, s := range slots {
			fr.slots[s] = vals[i]
		}
		return ctlNext
	}
}

// unpack checks that v is a list of n values and returns them.
func (cc *compileCtx) unpack(v Value, n int, pos lang.Position) []Value {
	if v.kind == FutureKind {
		panic(cc.locate(futureAsValue(v), pos))
	}
	if v.kind != ListKind {
		panic(cc.errAt(pos, KindType, "cannot unpack %s into %d names; expected a list of %d", v.TypeName(), n, n))
	}
	elems := v.AsList().Elems
	if len(elems) != n {
		panic(cc.errAt(pos, KindValue, "cannot unpack a list of %d into %d names", len(elems), n))
	}
	return elems
}

func (cc *compileCtx) ifStmt(s *lang.If) execFn {
	cond, then := cc.cond(s.Cond), cc.block(s.Then)
	var otherwise execFn
	switch {
	case s.ElseIf != nil:
		otherwise = cc.ifStmt(s.ElseIf)
	case s.Else != nil:
		otherwise = cc.block(s.Else)
	default:
		if lc := localCompareOf(s.Cond); lc != nil {
			return cc.ifLocalThen(lc, then)
		}
		return ifThen(cond, then)
	}
	return func(fr *frame) ctl {
		if cond(fr) {
			return then(fr)
		}
		return otherwise(fr)
	}
}

// ifThen is ifStmt without an else: nothing to call when the condition
// is false.
//
//go:noinline
func ifThen(cond testFn, then execFn) execFn {
	return func(fr *frame) ctl {
		if cond(fr) {
			return then(fr)
		}
		return ctlNext
	}
}

// ifLocalThen is ifThen for a condition that compares locals or a
// local and a literal, as in `if n < 2 { return n }`: the comparison is
// made here, not in a closure of its own.
//
//go:noinline
func (cc *compileCtx) ifLocalThen(lc *localCompare, then execFn) execFn {
	return func(fr *frame) ctl {
		h, ok := lc.ints(fr)
		if !ok {
			h = lc.generic(cc, fr)
		}
		if h {
			return then(fr)
		}
		return ctlNext
	}
}

func (cc *compileCtx) while(w *lang.While) execFn {
	cond := cc.cond(w.Cond)
	sites := cc.prog.Plan.TemplateSites(w)
	if lc := localCompareOf(w.Cond); lc != nil && sites == nil {
		return cc.whileLocal(w, lc, cc.loopBody(w.Body))
	}
	body := cc.stmts(w.Body)
	return func(fr *frame) ctl {
		for cond(fr) {
			if sites != nil {
				fr.th.plan().startIteration(sites)
			}
			switch runStmts(body, fr) {
			case ctlBreak:
				return ctlNext
			case ctlReturn:
				return ctlReturn
			}
			if err := fr.th.check(); err != nil {
				panic(cc.locate(err, w.Pos))
			}
		}
		return ctlNext
	}
}

// whileLocal is while for a loop, not a template loop, whose condition
// compares locals or a local and a literal, as in `while i < n { }`:
// runLocalLoop makes the comparison itself.
func (cc *compileCtx) whileLocal(w *lang.While, lc *localCompare, body []loopStmt) execFn {
	lp := &localLoop{cond: lc, body: body, pos: w.Pos}
	return func(fr *frame) ctl { return cc.runLocalLoop(lp, fr) }
}

// loopStmt is a statement of a loop body: its closure, and for an
// update of a local by a local or a literal (`total += i`, `i += 1`)
// the update, which runLocalLoop makes itself while it is on ints.
type loopStmt struct {
	run execFn
	upd *localUpdate
}

// loopBody compiles the statements of a loop's body.
func (cc *compileCtx) loopBody(b *lang.Block) []loopStmt {
	body := make([]loopStmt, len(b.Stmts))
	for i, s := range b.Stmts {
		body[i] = loopStmt{run: cc.stmt(s), upd: localUpdateOf(s)}
	}
	return body
}

// localUpdate is `x += y` or `x -= y`, x a local and y a local or an
// int literal. runLocalLoop makes it itself when both are ints and the
// result does not overflow; otherwise the statement's closure makes it
// the generic way (and reports the error).
type localUpdate struct {
	sub bool
	dst int   // x's slot
	src int   // y's slot, or -1 for the literal
	k   Value // the literal
}

// localUpdateOf returns the localUpdate that s is, or nil.
func localUpdateOf(s *lang.Stmt) *localUpdate {
	if s.Simple == nil || s.Simple.Op != "+=" && s.Simple.Op != "-=" || len(s.Simple.Targets) != 1 {
		return nil
	}
	x, y := exprOperand(s.Simple.Targets[0]), exprOperand(s.Simple.Value)
	if x.kind != operandLocal {
		return nil
	}
	u := &localUpdate{sub: s.Simple.Op == "-=", dst: x.slot, src: -1}
	switch y.kind {
	case operandLocal:
		u.src = y.slot
	case operandInt:
		u.k = Int(y.val)
	default:
		return nil
	}
	return u
}

func (cc *compileCtx) ret(r *lang.Return) execFn {
	if r.Value == nil {
		return func(fr *frame) ctl {
			fr.ret = None
			return ctlReturn
		}
	}
	value := cc.expr(r.Value)
	if o := exprOperand(r.Value); o.kind == operandLocal {
		return retLocal(o.slot)
	}
	return func(fr *frame) ctl {
		fr.ret = value(fr)
		return ctlReturn
	}
}

// returnExpr compiles a function body that only returns, in the shape
//
//	if cond1 { return a1 }
//	...
//	return b
//
// to one expression, `a1 if cond1 else ... b`: the function's result
// comes back as a Value, without if and return statements or the frame's
// ret between. It returns nil for a body of any other shape. The parts
// are compiled in the order the statements would be.
func (cc *compileCtx) returnExpr(b *lang.Block) evalFn {
	n := len(b.Stmts)
	if n == 0 || !isReturnOf(b.Stmts[n-1]) {
		return nil
	}
	for _, s := range b.Stmts[:n-1] {
		if s.If == nil || s.If.ElseIf != nil || s.If.Else != nil || len(s.If.Then.Stmts) != 1 || !isReturnOf(s.If.Then.Stmts[0]) {
			return nil
		}
	}
	type branch struct {
		cond  testFn
		lc    *localCompare
		value evalFn
	}
	branches := make([]branch, n-1)
	for i, s := range b.Stmts[:n-1] {
		branches[i] = branch{cond: cc.cond(s.If.Cond), lc: localCompareOf(s.If.Cond)}
		branches[i].value = cc.expr(s.If.Then.Stmts[0].Return.Value)
	}
	result := cc.expr(b.Stmts[n-1].Return.Value)
	for i := n - 2; i >= 0; i-- {
		if br := branches[i]; br.lc != nil {
			value := valueOf(br.value, exprOperand(b.Stmts[i].If.Then.Stmts[0].Return.Value))
			result = cc.localCompareChoice(br.lc, value, result)
		} else {
			result = choice(br.cond, br.value, result)
		}
	}
	return result
}

// isReturnOf reports whether s is `return value`.
func isReturnOf(s *lang.Stmt) bool { return s.Return != nil && s.Return.Value != nil }

// choice is `then if cond else otherwise`, for returnExpr.
//
//go:noinline
func choice(cond testFn, then, otherwise evalFn) evalFn {
	return func(fr *frame) Value {
		if cond(fr) {
			return then(fr)
		}
		return otherwise(fr)
	}
}

// localCompareChoice is choice with a condition that compares locals or
// a local and a literal, as in fib's `if n < 2 { return n }`: the
// comparison is made here, not in a closure of its own.
//
//go:noinline
func (cc *compileCtx) localCompareChoice(lc *localCompare, then value, otherwise evalFn) evalFn {
	return func(fr *frame) Value {
		h, ok := lc.ints(fr)
		if !ok {
			h = lc.generic(cc, fr)
		}
		if h {
			return then.get(fr)
		}
		return otherwise(fr)
	}
}

// retLocal is ret for `return name`, name a local: the slot is read
// directly.
//
//go:noinline
func retLocal(slot int) execFn {
	return func(fr *frame) ctl {
		fr.ret = fr.slots[slot]
		return ctlReturn
	}
}

// try compiles try/catch: an error raised in the body (any kind but an
// internal one) is bound to the catch name and the handler runs.
func (cc *compileCtx) try(t *lang.Try) execFn {
	body, handler, slot := cc.block(t.Body), cc.block(t.Handler), t.ErrSlot
	return func(fr *frame) ctl {
		c, err := runProtected(fr, body)
		if err == nil {
			return c
		}
		if slot >= 0 {
			fr.slots[slot] = ErrorValue(err)
		}
		return handler(fr)
	}
}

// runProtected runs body and recovers a runtime error from it. A
// cancellation, or a stop by the memory monitor (Thread.Stop), is not
// caught: it must stop the thread.
func runProtected(fr *frame, body execFn) (c ctl, err *Error) {
	saved, savedVals := len(fr.th.frames), len(fr.th.vals)
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok || (e.Kind == KindCancelled || e.Kind == KindMemory) && isThreadCancelled(fr.th) || e.Kind == KindStepLimit {
				panic(r)
			}
			err = finishError(fr.th, e, saved, lang.Position{}, "")
			fr.th.vals = fr.th.vals[:savedVals]
		}
	}()
	return body(fr), nil
}

func isThreadCancelled(th *Thread) bool {
	_, ok := th.Cancelled()
	return ok
}

func (cc *compileCtx) simple(s *lang.Simple) execFn {
	if s.Op == "" {
		e := cc.expr(s.Targets[0])
		return func(fr *frame) ctl {
			e(fr)
			return ctlNext
		}
	}
	value := cc.expr(s.Value)
	if len(s.Targets) > 1 {
		stores := make([]func(*frame, Value), len(s.Targets))
		for i, t := range s.Targets {
			stores[i] = cc.store(t)
		}
		pos := s.Pos
		return func(fr *frame) ctl {
			vals := cc.unpack(value(fr), len(stores), pos)
			for i, st := range stores {
				st(fr, vals[i])
			}
			return ctlNext
		}
	}
	if s.Op == "=" {
		store := cc.store(s.Targets[0])
		return func(fr *frame) ctl {
			store(fr, value(fr))
			return ctlNext
		}
	}
	return cc.augmented(s.Targets[0], s.Op[:len(s.Op)-1], value, exprOperand(s.Value), s.Pos)
}

// exprOperand is what the compiler knows of a whole expression as an
// operand (see operand).
func exprOperand(e *lang.Expr) operand {
	u := lang.UnaryOf(e)
	if u == nil {
		return operand{}
	}
	return unaryOperand(u)
}

// store compiles the left side of an assignment into a setter.
func (cc *compileCtx) store(target *lang.Expr) func(*frame, Value) {
	pf := lang.PostfixOf(target) // the compiler checked that it is one
	if len(pf.Suffixes) == 0 {
		ref := pf.Primary.Ref
		i := ref.Index
		if ref.Kind == lang.RefField {
			return func(fr *frame, v Value) { fr.fields[i] = v }
		}
		return func(fr *frame, v Value) { fr.slots[i] = v }
	}
	last := pf.Suffixes[len(pf.Suffixes)-1]
	container := cc.postfix(&lang.Postfix{Pos: pf.Pos, Primary: pf.Primary, Suffixes: pf.Suffixes[:len(pf.Suffixes)-1]})
	key, pos := cc.expr(last.Index.Start), last.Pos
	return func(fr *frame, v Value) {
		if err := setIndex(container(fr), key(fr), v); err != nil {
			panic(cc.locate(err, pos))
		}
	}
}

// augmented compiles `target op= value`, evaluating the target's
// container and index once.
func (cc *compileCtx) augmented(target *lang.Expr, op string, value evalFn, vo operand, pos lang.Position) execFn {
	pf := lang.PostfixOf(target) // the compiler checked that it is one
	if len(pf.Suffixes) == 0 {
		ref := pf.Primary.Ref
		i := ref.Index
		if ref.Kind == lang.RefField {
			return func(fr *frame) ctl {
				fr.fields[i] = cc.arith(op, fr.fields[i], value(fr), pos)
				return ctlNext
			}
		}
		if op == "+" || op == "-" {
			return cc.addSubToLocal(op == "-", i, value, vo, pos)
		}
		return func(fr *frame) ctl {
			fr.slots[i] = cc.arith(op, fr.slots[i], value(fr), pos)
			return ctlNext
		}
	}
	last := pf.Suffixes[len(pf.Suffixes)-1]
	container := cc.postfix(&lang.Postfix{Pos: pf.Pos, Primary: pf.Primary, Suffixes: pf.Suffixes[:len(pf.Suffixes)-1]})
	key := cc.expr(last.Index.Start)
	return func(fr *frame) ctl {
		c, k := container(fr), key(fr)
		old, err := Index(c, k)
		if err != nil {
			panic(cc.locate(err, pos))
		}
		if err := setIndex(c, k, cc.arith(op, old, value(fr), pos)); err != nil {
			panic(cc.locate(err, pos))
		}
		return ctlNext
	}
}

// addSubToLocal is augmented for `x += v` and `x -= v` on a local:
// two ints add inline, and v is read directly when it is a local or an
// int literal (vo). Anything else, overflow included, goes through
// arith.
func (cc *compileCtx) addSubToLocal(sub bool, slot int, value evalFn, vo operand, pos lang.Position) execFn {
	op := addSubOp(sub)
	switch vo.kind {
	case operandLocal:
		src := vo.slot
		return func(fr *frame) ctl {
			x, y := fr.slots[slot], fr.slots[src]
			if x.kind == IntKind && y.kind == IntKind {
				if c, ok := addSubInts(sub, int64(x.num), int64(y.num)); ok {
					fr.slots[slot] = Value{kind: IntKind, num: uint64(c)}
					return ctlNext
				}
			}
			fr.slots[slot] = cc.arith(op, x, y, pos)
			return ctlNext
		}
	case operandInt:
		k := vo.val
		return func(fr *frame) ctl {
			if x := fr.slots[slot]; x.kind == IntKind {
				if c, ok := addSubInts(sub, int64(x.num), k); ok {
					fr.slots[slot] = Value{kind: IntKind, num: uint64(c)}
					return ctlNext
				}
			}
			fr.slots[slot] = cc.arith(op, fr.slots[slot], Int(k), pos)
			return ctlNext
		}
	}
	return func(fr *frame) ctl {
		x := fr.slots[slot]
		y := value(fr)
		if x.kind == IntKind && y.kind == IntKind {
			if c, ok := addSubInts(sub, int64(x.num), int64(y.num)); ok {
				fr.slots[slot] = Value{kind: IntKind, num: uint64(c)}
				return ctlNext
			}
		}
		fr.slots[slot] = cc.arith(op, x, y, pos)
		return ctlNext
	}
}

func (cc *compileCtx) arith(op string, x, y Value, pos lang.Position) Value {
	if op == "+" && x.kind == IntKind && y.kind == IntKind {
		a, b := int64(x.num), int64(y.num)
		if c := a + b; (c > a) == (b > 0) {
			return Int(c)
		}
	}
	v, err := Arith(op, x, y)
	if err != nil {
		panic(cc.locate(err, pos))
	}
	return v
}
