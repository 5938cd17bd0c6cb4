package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// How the graph is built.
//
// The planner walks a pipeline's body as an abstract interpreter: every
// value is a val (a constant, the nodes it comes from, a list of vals,
// a function), every task, actor or method call site the compiler
// annotated makes a node, and every future a node returns carries that
// node to wherever it is passed, so the edges are the data dependencies.
// Plain fns that (transitively) make calls are inlined, up to a depth.
//
// Code runs in one of three modes:
//
//   - static: the code runs exactly once per visit; each call makes a
//     new node, and loops whose length is known are unrolled.
//   - hidden: the iterations of an unrolled loop beyond the unroll limit
//     are walked once, as a summary; their calls go to one collapsed node
//     per call site, which counts how many calls it stands for.
//   - region: code that may run any number of times (a while loop, a loop
//     over a value known only at run time, a branch on such a value, the
//     rest of a loop after a possible break). Its calls make one node per
//     call site, inside a Region; loops in it are walked until nothing
//     changes (so loop-carried dependencies show up as edges), and every
//     assignment joins the new value with the old one, since the code may
//     also not run at all.

// frame is one activation: the pipeline, or an inlined fn.
type frame struct {
	fn    *compiler.Func
	slots []*val
	ret   *val
	path  string // the inlined calls leading here, to key call sites
	via   []Inline
}

func (fr *frame) get(slot int) *val {
	if slot < 0 || slot >= len(fr.slots) || fr.slots[slot] == nil {
		return unknown()
	}
	return fr.slots[slot]
}

// hidden is the state of the summary pass of the iterations beyond the
// unroll limit.
type hidden struct {
	mult    int64 // how many times the summary code stands for
	byKey   map[string]*Node
	regions map[string]*Region
}

type walker struct {
	prog *compiler.Program
	opts Options
	p    *Pipeline

	region  *Region
	hidden  *hidden
	changed int // bumped by anything a region pass adds

	inlining    []*compiler.Func
	unrollDepth int
	shown       int     // nodes made in static mode
	capped      *hidden // collapses what comes after MaxNodes
	counts      map[NodeKind]int

	consts    map[*compiler.Global]*val
	constBusy map[*compiler.Global]bool
	hasSites  map[*compiler.Func]bool
}

// flowKind is a jump out of straight-line code.
type flowKind int

const (
	flowNone flowKind = iota
	flowContinue
	flowBreak
	flowReturn
)

func (k flowKind) String() string {
	return [...]string{"", "continue", "break", "return"}[k]
}

// flow is how a statement ends: with a jump for certain (kind), or
// perhaps with one, when the jump sits under a condition known only at
// run time (maybe).
type flow struct {
	kind  flowKind
	maybe flowKind
	pos   lang.Position
}

func (f flow) orMaybe(g flow) flow {
	if g.kind > f.maybe {
		f.maybe, f.pos = g.kind, g.pos
	}
	if g.maybe > f.maybe {
		f.maybe, f.pos = g.maybe, g.pos
	}
	return f
}

func posText(p lang.Position) string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// pipeline walks one pipeline.
func (w *walker) pipeline(f *compiler.Func) {
	fr := &frame{fn: f, slots: make([]*val, f.NumSlots)}
	for i, prm := range f.Params {
		var v *val
		param := Param{Name: prm.Name}
		typ := ""
		if prm.Type != nil {
			typ = prm.Type.Name
		}
		if text, ok := w.opts.Params[prm.Name]; ok {
			v = parseParam(text, typ)
			param.Value, param.Source = text, "given"
			setSrc(v, "parameter "+prm.Name+" as given")
		} else if prm.Default != nil {
			v = w.expr(prm.Default, fr)
			param.Value, param.Source = exprText(prm.Default), "default"
			if v.known {
				param.Value = literal(v.k)
			}
			setSrc(v, "default of parameter "+prm.Name)
		} else {
			v = unknown()
			param.Source = "unknown"
		}
		w.p.Params = append(w.p.Params, param)
		if i < len(fr.slots) {
			fr.slots[i] = v
		}
	}
	w.block(f.Body.Stmts, fr)
}

// parseParam reads a parameter given on the command line as a constant
// of its declared type; anything else is unknown to the plan.
func parseParam(text, typ string) *val {
	switch typ {
	case "string":
		return constant(text)
	case "int":
		if n, err := compiler.ParseInt(text); err == nil {
			return constant(n)
		}
	case "float":
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return constant(f)
		}
	case "bool":
		if text == "true" || text == "false" {
			return constant(text == "true")
		}
	case "", "any":
		if n, err := compiler.ParseInt(text); err == nil {
			return constant(n)
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return constant(f)
		}
		if text == "true" || text == "false" {
			return constant(text == "true")
		}
		return constant(text)
	}
	return unknown()
}

func setSrc(v *val, src string) {
	if v.known || v.list {
		v.src = []string{src}
	}
	for _, e := range v.elems {
		setSrc(e, src)
	}
	if v.more != nil {
		setSrc(v.more, src)
	}
}

// block walks statements in order. After a statement that may jump
// (under a run-time condition), the rest runs only if it did not: in
// static code the rest becomes a dynamic region.
func (w *walker) block(stmts []*lang.Stmt, fr *frame) flow {
	var out flow
	for i, s := range stmts {
		f := w.stmt(s, fr)
		if f.kind != flowNone {
			out.kind, out.pos = f.kind, f.pos
			return out
		}
		if f.maybe == flowNone {
			continue
		}
		out = out.orMaybe(f)
		rest := stmts[i+1:]
		if w.region == nil && len(rest) > 0 {
			reason := fmt.Sprintf("code after a possible %s at %s", f.maybe, posText(f.pos))
			w.dynamic(reason, rest[0].Pos, fr, false, func() {
				out = out.orMaybe(w.block(rest, fr))
			})
			return out
		}
	}
	return out
}

func (w *walker) stmt(s *lang.Stmt, fr *frame) flow {
	switch {
	case s.Let != nil:
		v := w.expr(s.Let.Value, fr)
		w.bind(fr, s.Let.Slots, v)
	case s.If != nil:
		return w.ifStmt(s.If, fr)
	case s.For != nil:
		return w.forStmt(s.For, fr)
	case s.While != nil:
		return w.whileStmt(s.While, fr)
	case s.Break != nil:
		if s.Break.Kind == "break" {
			return flow{kind: flowBreak, pos: s.Break.Pos}
		}
		return flow{kind: flowContinue, pos: s.Break.Pos}
	case s.Return != nil:
		v := constant(nil)
		if s.Return.Value != nil {
			v = w.expr(s.Return.Value, fr)
		}
		fr.ret = join(fr.ret, v)
		return flow{kind: flowReturn, pos: s.Return.Pos}
	case s.Try != nil:
		f := w.block(s.Try.Body.Stmts, fr)
		w.dynamic("catch handler", s.Try.Handler.Pos, fr, false, func() {
			if s.Try.ErrSlot >= 0 {
				w.bind(fr, []int{s.Try.ErrSlot}, unknown())
			}
			f = f.orMaybe(w.block(s.Try.Handler.Stmts, fr))
		})
		return f
	case s.Block != nil:
		return w.block(s.Block.Stmts, fr)
	case s.Simple != nil:
		w.simple(s.Simple, fr)
	}
	return flow{}
}

// bind assigns v to slots, unpacking a list for several names.
func (w *walker) bind(fr *frame, slots []int, v *val) {
	if len(slots) == 1 {
		w.set(fr, slots[0], v)
		return
	}
	for i, s := range slots {
		var e *val
		if v.lengthKnown() && v.length() == int64(len(slots)) {
			e = v.elem(int64(i))
		} else if v.list {
			e = v.anyElem()
		} else {
			e = derive(v)
		}
		w.set(fr, s, e)
	}
}

// set assigns a slot: a plain assignment in static code; in a region,
// where the code may run any number of times, the join of old and new.
func (w *walker) set(fr *frame, slot int, v *val) {
	if slot < 0 || slot >= len(fr.slots) {
		return
	}
	if w.region == nil {
		fr.slots[slot] = v
		return
	}
	old := fr.slots[slot]
	nv := join(old, v)
	if old == nil || sig(old) != sig(nv) {
		w.changed++
	}
	fr.slots[slot] = nv
}

func (w *walker) simple(s *lang.Simple, fr *frame) {
	if s.Op == "" {
		w.expr(s.Targets[0], fr)
		return
	}
	v := w.expr(s.Value, fr)
	if len(s.Targets) > 1 {
		for i, t := range s.Targets {
			var e *val
			if v.lengthKnown() && v.length() == int64(len(s.Targets)) {
				e = v.elem(int64(i))
			} else {
				e = v.anyElem()
			}
			w.assign(t, e, fr)
		}
		return
	}
	if s.Op != "=" {
		old := w.expr(s.Targets[0], fr)
		v = binop(s.Op[:len(s.Op)-1], old, v)
	}
	w.assign(s.Targets[0], v, fr)
}

// assign stores v into a target: a variable, or an element of a list.
func (w *walker) assign(t *lang.Expr, v *val, fr *frame) {
	pf := lang.PostfixOf(t)
	if pf == nil {
		return
	}
	if len(pf.Suffixes) == 0 {
		if ref := pf.Primary.Ref; ref != nil && ref.Kind == lang.RefLocal {
			w.set(fr, ref.Index, v)
		}
		return
	}
	// xs[i] = v: evaluate the container, then update it in place.
	last := pf.Suffixes[len(pf.Suffixes)-1]
	head := &lang.Postfix{Pos: pf.Pos, Primary: pf.Primary, Suffixes: pf.Suffixes[:len(pf.Suffixes)-1]}
	c := w.postfix(head, fr)
	if last.Index == nil {
		return
	}
	i := w.expr(last.Index.Start, fr)
	before := sig(c)
	switch {
	case c.list && w.region == nil && i.known && c.lengthKnown():
		if k, ok := i.k.(int64); ok {
			if k < 0 {
				k += c.length()
			}
			if k >= 0 && k < int64(len(c.elems)) {
				c.elems[k] = v
				return
			}
		}
		c.more = join(c.more, v)
	case c.list:
		c.more = join(c.more, v)
		if c.moreN == 0 {
			c.moreN = -1
		}
	default:
		c.refs = allRefs(v, c.refs)
	}
	if w.region != nil && sig(c) != before {
		w.changed++
	}
}

func (w *walker) ifStmt(s *lang.If, fr *frame) flow {
	for c := s; c != nil; c = c.ElseIf {
		cond := w.expr(c.Cond, fr)
		t, ok := truthy(cond)
		if ok {
			if t {
				return w.block(c.Then.Stmts, fr)
			}
			if c.Else != nil {
				return w.block(c.Else.Stmts, fr)
			}
			continue
		}
		var out flow
		w.dynamic("branch on a value known only at run time", c.Pos, fr, false, func() {
			out = out.orMaybe(w.block(c.Then.Stmts, fr))
			for d := c.ElseIf; d != nil; d = d.ElseIf {
				w.expr(d.Cond, fr)
				out = out.orMaybe(w.block(d.Then.Stmts, fr))
				if d.Else != nil {
					out = out.orMaybe(w.block(d.Else.Stmts, fr))
				}
			}
			if c.Else != nil {
				out = out.orMaybe(w.block(c.Else.Stmts, fr))
			}
		})
		return out
	}
	return flow{}
}

func (w *walker) whileStmt(s *lang.While, fr *frame) flow {
	cond := w.expr(s.Cond, fr)
	if t, ok := truthy(cond); ok && !t {
		return flow{}
	}
	var out flow
	w.dynamic("while loop", s.Pos, fr, true, func() {
		w.expr(s.Cond, fr)
		out = out.orMaybe(loopExit(w.block(s.Body.Stmts, fr)))
	})
	return out
}

// loopExit is what a loop body's ending means outside the loop: only a
// return goes further.
func loopExit(f flow) flow {
	out := flow{}
	if f.kind == flowReturn || f.maybe == flowReturn {
		out.maybe, out.pos = flowReturn, f.pos
	}
	return out
}

func (w *walker) forStmt(s *lang.For, fr *frame) flow {
	it := w.expr(s.Iter, fr)
	iter := iterable(it)
	body := func(item *val) flow {
		w.bindLoop(fr, s.Slots, item)
		return w.block(s.Body.Stmts, fr)
	}
	if w.region == nil && iter.lengthKnown() {
		loop := &Loop{Pos: s.Pos, Kind: "for loop", Iter: exprText(s.Iter)}
		return w.unroll(loop, iter, fr, body)
	}
	var out flow
	what := "for loop over a value known only at run time (" + shorten(exprText(s.Iter), 40) + ")"
	if w.region != nil {
		// Already dynamic; the same name on every pass keeps one region.
		what = "for loop"
	}
	w.dynamic(what, s.Pos, fr, true, func() {
		out = out.orMaybe(loopExit(body(iter.anyElem())))
	})
	return out
}

// bindLoop binds a loop's names to one item.
func (w *walker) bindLoop(fr *frame, slots []int, item *val) {
	w.bind(fr, slots, item)
}

// iterable turns what a for loop iterates over into a list: lists as
// they are, strings into characters, anything else into a list of
// unknown length.
func iterable(v *val) *val {
	if v.list {
		return v
	}
	if v.known {
		if s, ok := v.k.(string); ok {
			out := &val{list: true, src: v.src}
			for _, r := range s {
				out.elems = append(out.elems, constant(string(r), v.src...))
			}
			return out
		}
	}
	return &val{list: true, more: derive(v), moreN: -1}
}

// unroll runs a loop of known length in static code: the first
// opts.Unroll iterations one by one, the rest as one summary pass whose
// calls are collapsed. In hidden code every iteration is summarised.
func (w *walker) unroll(loop *Loop, iter *val, fr *frame, body func(*val) flow) flow {
	n := iter.length()
	loop.N, loop.Bound = n, bound(iter.src)
	if w.hidden != nil || w.unrollDepth >= maxUnrollDepth {
		return w.summary(n, iter, 0, fr, body)
	}
	w.unrollDepth++
	defer func() { w.unrollDepth-- }()
	shown := min(n, int64(w.opts.Unroll))
	loop.Shown = shown
	startNodes := len(w.p.Nodes)
	at := len(w.p.Items)
	defer func() {
		// Show the loop only when it made calls.
		if len(w.p.Nodes) > startNodes {
			w.p.Items = append(w.p.Items[:at], append([]Item{{Loop: loop}}, w.p.Items[at:]...)...)
		}
	}()
	for k := int64(0); k < shown; k++ {
		f := body(iter.elem(k))
		switch f.kind {
		case flowBreak:
			loop.Shown = k + 1
			return flow{}
		case flowReturn:
			loop.Shown = k + 1
			return f
		}
		if f.maybe == flowBreak || f.maybe == flowReturn {
			loop.Shown = k + 1
			if k+1 < n {
				loop.Until = fmt.Sprintf("%s at %s", f.maybe, posText(f.pos))
				reason := fmt.Sprintf("iterations %d..%d of the %s {at} (it may stop at the %s at %s)",
					k+2, n, loop.Kind, f.maybe, posText(f.pos))
				rest := restOf(iter, k+1)
				w.dynamic(reason, loop.Pos, fr, true, func() { body(rest) })
			}
			return loopExit(f)
		}
	}
	if n > shown {
		return w.summary(n-shown, iter, shown, fr, body)
	}
	return flow{}
}

// maxUnrollDepth is how deeply nested loops are unrolled one iteration
// at a time; deeper ones are only summarised, so the walk stays small.
const maxUnrollDepth = 3

// summary walks the iterations from `from` on once, as n iterations
// whose calls are collapsed into one node per call site.
func (w *walker) summary(n int64, iter *val, from int64, fr *frame, body func(*val) flow) flow {
	if n <= 0 {
		return flow{}
	}
	outer := w.hidden
	h := &hidden{mult: n, byKey: map[string]*Node{}, regions: map[string]*Region{}}
	if outer != nil {
		h.mult, h.byKey, h.regions = satMul(outer.mult, n), outer.byKey, outer.regions
	}
	w.hidden = h
	f := body(restOf(iter, from))
	w.hidden = outer
	if f.kind == flowReturn || f.maybe == flowReturn {
		return flow{maybe: flowReturn, pos: f.pos}
	}
	return flow{}
}

func satMul(a, b int64) int64 {
	if a != 0 && b > (1<<62)/a {
		return 1 << 62
	}
	return a * b
}

// restOf is what an item of iter from index `from` on may be.
func restOf(iter *val, from int64) *val {
	var out *val
	for i := from; i < int64(len(iter.elems)); i++ {
		out = join(out, iter.elems[i])
	}
	out = join(out, iter.more)
	if out == nil {
		return unknown()
	}
	return out
}

func bound(src []string) string {
	if len(src) == 0 {
		return "literal"
	}
	s := src[0]
	for _, t := range src[1:] {
		s += ", " + t
	}
	return s
}

// dynamic runs body as a dynamic region: a new one in static code, the
// one for this place in summary or region code (so each call site in it
// shows once). A loop's body is walked until a pass adds nothing.
func (w *walker) dynamic(what string, pos lang.Position, fr *frame, loop bool, body func()) *Region {
	key := fr.path + posText(pos) + what
	reason := what + " at " + posText(pos)
	if strings.Contains(what, "{at}") {
		reason = strings.Replace(what, "{at}", "at "+posText(pos), 1)
	}
	var r *Region
	switch {
	case w.region != nil:
		r = w.region.children[key]
		if r == nil {
			r = w.newRegion(reason, pos)
			w.region.children[key] = r
			w.region.Items = append(w.region.Items, Item{Region: r})
		}
	case w.hidden != nil:
		r = w.hidden.regions[key]
		if r == nil {
			r = w.newRegion(reason, pos)
			w.hidden.regions[key] = r
			w.p.Items = append(w.p.Items, Item{Region: r})
		}
	default:
		r = w.newRegion(reason, pos)
		w.p.Items = append(w.p.Items, Item{Region: r})
	}
	saveRegion, saveHidden := w.region, w.hidden
	r.Parent = saveRegion
	w.region, w.hidden = r, nil
	if loop {
		for pass := 0; pass < maxPasses; pass++ {
			before := w.changed
			body()
			if w.changed == before {
				break
			}
		}
	} else {
		body()
	}
	w.region, w.hidden = saveRegion, saveHidden
	return r
}

// maxPasses bounds the walks of a loop in a region; each pass adds only
// nodes, edges and joins, so it settles quickly.
const maxPasses = 8

func (w *walker) newRegion(reason string, pos lang.Position) *Region {
	r := &Region{Reason: reason, Pos: pos, children: map[string]*Region{}, byKey: map[string]*Node{}, waits: map[string]*Wait{}}
	w.p.Regions = append(w.p.Regions, r)
	return r
}
