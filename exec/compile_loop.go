package exec

import (
	"unicode/utf8"

	"github.com/rayflow/rayflow/lang"
)

// forStmt compiles `for x in iter { }`. A loop over range(...) counts
// without building a list.
func (cc *compileCtx) forStmt(f *lang.For) execFn {
	plan := cc.prog.Plan.Loop(f)
	if plan != nil {
		if cc.ahead == nil {
			cc.ahead = map[*lang.Call]*lang.For{}
		}
		cc.ahead[plan.Call] = f
	}
	sites := cc.prog.Plan.TemplateSites(f)
	if plan == nil && sites == nil && len(f.Slots) == 1 && cc.isRange(f.Iter) {
		body := cc.loopBody(f.Body) // before the bounds, as below
		return cc.rangeLoop(f, cc.rangeArgs(f.Iter), body)
	}
	body := cc.block(f.Body)
	bind := cc.binder(f.Slots, f.Pos)
	step := func(fr *frame, v Value) (ctl, bool) {
		bind(fr, v)
		switch body(fr) {
		case ctlBreak:
			return ctlNext, false
		case ctlReturn:
			return ctlReturn, false
		}
		if err := fr.th.check(); err != nil {
			panic(cc.locate(err, f.Pos))
		}
		return ctlNext, true
	}
	if sites != nil {
		step = templateStep(sites, step)
	}
	if plan != nil {
		return cc.aheadFor(f, plan, step)
	}
	if rng := cc.rangeArgs(f.Iter); rng != nil {
		return func(fr *frame) ctl {
			i, stop, stride := rng(fr)
			for left := rangeLen(i, stop, stride); left > 0; left, i = left-1, i+stride {
				if c, more := step(fr, Int(i)); !more {
					return c
				}
			}
			return ctlNext
		}
	}
	iter, pos := cc.expr(f.Iter), f.Iter.Pos
	return func(fr *frame) ctl {
		c, _ := cc.iterate(fr, iter(fr), pos, step)
		return c
	}
}

// rangeLoop is forStmt for `for i in range(...)` with one loop name,
// not run ahead and not a template loop (the common counting loop): the
// counter goes straight into the loop's slot, with no list, no binder
// and no step function between the loop and its body (runLocalLoop).
func (cc *compileCtx) rangeLoop(f *lang.For, rng func(*frame) (int64, int64, int64), body []loopStmt) execFn {
	lp := &localLoop{rng: rng, slot: f.Slots[0], body: body, pos: f.Pos}
	return func(fr *frame) ctl { return cc.runLocalLoop(lp, fr) }
}

// localLoop is a loop that runLocalLoop runs: a while loop whose
// condition compares locals (cond), or a range loop into one local (rng
// and slot). Its body's updates of locals are made inline (loopStmt).
type localLoop struct {
	cond *localCompare
	rng  func(*frame) (start, stop, stride int64)
	slot int
	body []loopStmt
	pos  lang.Position // where a cancellation or the step limit stops it
}

// runLocalLoop runs a localLoop: the test, the body and the check at
// the back edge, in one Go loop with no closure call but for the
// statements of the body that are not updates of locals on ints.
func (cc *compileCtx) runLocalLoop(lp *localLoop, fr *frame) ctl {
	var i, stride int64
	var left uint64 // the range's values still to come (rangeLen)
	if lp.rng != nil {
		var stop int64
		i, stop, stride = lp.rng(fr)
		left = rangeLen(i, stop, stride)
	}
	th := fr.th
	for {
		if lp.cond != nil {
			h, ok := lp.cond.ints(fr)
			if !ok {
				h = lp.cond.generic(cc, fr)
			}
			if !h {
				return ctlNext
			}
		} else {
			if left == 0 {
				return ctlNext
			}
			fr.slots[lp.slot] = Value{kind: IntKind, num: uint64(i)}
			i, left = i+stride, left-1
		}
	body:
		for j := range lp.body {
			s := &lp.body[j]
			if u := s.upd; u != nil { // see localUpdate
				x, y := &fr.slots[u.dst], &u.k
				if u.src >= 0 {
					y = &fr.slots[u.src]
				}
				if x.kind == IntKind && y.kind == IntKind {
					if c, ok := addSubInts(u.sub, int64(x.num), int64(y.num)); ok {
						x.num = uint64(c) // an int Value has nothing in ref
						continue
					}
				}
			}
			switch s.run(fr) {
			case ctlBreak:
				return ctlNext
			case ctlReturn:
				return ctlReturn
			case ctlContinue:
				break body
			}
		}
		if err := th.check(); err != nil {
			panic(cc.locate(err, lp.pos))
		}
	}
}

// binder returns a function that binds one loop value to the loop's
// names: one name gets the value, two unpack a pair.
func (cc *compileCtx) binder(slots []int, pos lang.Position) func(*frame, Value) {
	if len(slots) == 1 {
		s := slots[0]
		return func(fr *frame, v Value) { fr.slots[s] = v }
	}
	return func(fr *frame, v Value) {
		vals := cc.unpack(v, len(slots), pos)
		for i, s := range slots {
			fr.slots[s] = vals[i]
		}
	}
}

// iterate calls step for each element of a list, the keys of a map, the
// characters of a string or the rows of a tensor, until step says stop.
func (cc *compileCtx) iterate(fr *frame, v Value, pos lang.Position, step func(*frame, Value) (ctl, bool)) (ctl, bool) {
	switch v.kind {
	case ListKind:
		l := v.AsList()
		for i := 0; i < len(l.Elems); i++ {
			if c, more := step(fr, l.Elems[i]); !more {
				return c, false
			}
		}
	case MapKind:
		keys := append([]Value(nil), v.AsMap().Keys()...)
		for _, k := range keys {
			if c, more := step(fr, k); !more {
				return c, false
			}
		}
	case StringKind:
		s := v.AsString()
		for i := 0; i < len(s); {
			_, size := utf8.DecodeRuneInString(s[i:])
			if c, more := step(fr, Str(s[i:i+size])); !more {
				return c, false
			}
			i += size
		}
	case TensorKind:
		t := v.AsTensor()
		for i := 0; i < tensorRows(t); i++ {
			if c, more := step(fr, tensorRow(t, i)); !more {
				return c, false
			}
		}
	case FutureKind:
		panic(cc.locate(futureAsValue(v), pos))
	default:
		panic(cc.errAt(pos, KindType, "cannot iterate over %s", v.TypeName()))
	}
	return ctlNext, true
}

// isRange reports whether e is a call of range with one to three
// positional arguments.
func (cc *compileCtx) isRange(e *lang.Expr) bool {
	pf := lang.PostfixOf(e)
	if pf == nil || pf.Primary.Ref == nil || pf.Primary.Ref.Kind != lang.RefBuiltin || pf.Primary.Name != "range" ||
		len(pf.Suffixes) != 1 || pf.Suffixes[0].Call == nil {
		return false
	}
	args := pf.Suffixes[0].Call.Args
	return len(args) >= 1 && len(args) <= 3 && positional(pf.Suffixes[0].Call)
}

// rangeArgs recognises `range(...)` with one to three positional
// arguments and compiles its bounds.
func (cc *compileCtx) rangeArgs(e *lang.Expr) func(*frame) (int64, int64, int64) {
	if !cc.isRange(e) {
		return nil
	}
	pf := lang.PostfixOf(e)
	args := pf.Suffixes[0].Call.Args
	fns := make([]evalFn, len(args))
	for i, a := range args {
		fns[i] = cc.expr(a.Value)
	}
	pos := pf.Pos // where a call of range reports its errors
	return func(fr *frame) (int64, int64, int64) {
		vals := make([]Value, len(fns))
		for i, f := range fns {
			vals[i] = f(fr)
		}
		start, stop, step, err := rangeBounds(vals)
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return start, stop, step
	}
}

// list compiles a list literal or a comprehension.
func (cc *compileCtx) list(l *lang.ListLit) evalFn {
	if l.First == nil {
		return func(*frame) Value { return ListOf(nil) }
	}
	if l.Comp != nil {
		return cc.comprehension(l)
	}
	elems := []evalFn{cc.expr(l.First)}
	for _, e := range l.Rest {
		elems = append(elems, cc.expr(e))
	}
	return func(fr *frame) Value {
		out := make([]Value, len(elems))
		for i, e := range elems {
			out[i] = e(fr)
		}
		return ListOf(out)
	}
}

// comprehension compiles `[elem for x in xs if cond ...]` into nested
// loops that append to one result list. A comprehension of one clause
// with no condition makes one element per value of its iterable: when
// the iterable knows its length (a range, a list, a tensor) the list is
// made that long at once (up to maxPresize elements, then grown), not
// copied as it grows (issue 15: [f(i) for i in range(n)] holding a
// million futures).
func (cc *compileCtx) comprehension(l *lang.ListLit) evalFn {
	elem := cc.expr(l.First)
	emit := func(fr *frame, out *[]Value) { *out = append(*out, elem(fr)) }
	loop := cc.compClause(l.Comp, emit, l.Comp.Next == nil && len(l.Comp.Conds) == 0)
	return func(fr *frame) Value {
		var out []Value
		loop(fr, &out)
		return ListOf(out)
	}
}

// maxPresize bounds the elements a comprehension's list is made with
// before its first element (comprehension): 32 MiB of values, so that a
// comprehension that fails or runs out of memory early (range(10**12))
// does not take more up front than its growth would have.
const maxPresize = 1 << 20

// presize makes *out room for n elements, up to maxPresize, when it has
// none yet.
func presize(out *[]Value, n uint64) {
	if cap(*out) == 0 && n > 0 {
		*out = make([]Value, 0, min(n, maxPresize))
	}
}

// compClause compiles one `for` clause of a comprehension and those after
// it. sized says that the clause emits one element per value of its
// iterable (comprehension), so that its length sizes the list.
func (cc *compileCtx) compClause(c *lang.CompFor, emit func(*frame, *[]Value), sized bool) func(*frame, *[]Value) {
	inner := emit
	if c.Next != nil {
		inner = cc.compClause(c.Next, emit, false)
	}
	conds := make([]evalFn, len(c.Conds))
	for i, cond := range c.Conds {
		conds[i] = cc.or(cond)
	}
	bind := cc.binder(c.Slots, c.Pos)
	iterExpr := &lang.Expr{Pos: c.Iter.Pos, Body: c.Iter}
	rng := cc.rangeArgs(iterExpr)
	iter, pos := cc.or(c.Iter), c.Iter.Pos
	return func(fr *frame, out *[]Value) {
		step := func(fr *frame, v Value) (ctl, bool) {
			bind(fr, v)
			for _, cond := range conds {
				if !cc.truth(cond(fr), pos) {
					return ctlNext, true
				}
			}
			inner(fr, out)
			if err := fr.th.check(); err != nil {
				panic(cc.locate(err, c.Pos))
			}
			return ctlNext, true
		}
		if rng != nil {
			i, stop, stride := rng(fr)
			left := rangeLen(i, stop, stride)
			if sized {
				presize(out, left)
			}
			for ; left > 0; left, i = left-1, i+stride {
				step(fr, Int(i))
			}
			return
		}
		xs := iter(fr)
		if sized {
			switch xs.kind {
			case ListKind:
				presize(out, uint64(len(xs.AsList().Elems)))
			case TensorKind:
				presize(out, uint64(tensorRows(xs.AsTensor())))
			}
		}
		cc.iterate(fr, xs, pos, step)
	}
}

// index compiles `x[i]` and slices `x[i:j:k]`.
func (cc *compileCtx) index(recv evalFn, ix *lang.Index) evalFn {
	pos := ix.Pos
	if !ix.Slice {
		key := cc.expr(ix.Start)
		return func(fr *frame) Value {
			v, err := Index(recv(fr), key(fr))
			if err != nil {
				panic(cc.locate(err, pos))
			}
			return v
		}
	}
	opt := func(e *lang.Expr) evalFn {
		if e == nil {
			return func(*frame) Value { return None }
		}
		return cc.expr(e)
	}
	start, end, step := opt(ix.Start), opt(ix.End), opt(ix.Step)
	return func(fr *frame) Value {
		v, err := sliceValue(recv(fr), start(fr), end(fr), step(fr))
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}
}
