package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

func (w *walker) expr(e *lang.Expr, fr *frame) *val {
	if e == nil {
		return constant(nil)
	}
	if e.Cond == nil {
		return w.or(e.Body, fr)
	}
	c := w.or(e.Cond, fr)
	if t, ok := truthy(c); ok {
		if t {
			return w.or(e.Body, fr)
		}
		return w.expr(e.Else, fr)
	}
	var a, b *val
	w.dynamic("conditional expression", e.Pos, fr, false, func() {
		a = join(a, w.or(e.Body, fr))
		b = join(b, w.expr(e.Else, fr))
	})
	return join(a, b)
}

func (w *walker) or(o *lang.Or, fr *frame) *val {
	v := w.and(o.Terms[0], fr)
	for _, t := range o.Terms[1:] {
		if tv, ok := truthy(v); ok {
			if tv {
				return v
			}
			v = w.and(t, fr)
			continue
		}
		var r *val
		w.dynamic("right side of 'or'", t.Pos, fr, false, func() { r = join(r, w.and(t, fr)) })
		v = join(v, r)
	}
	return v
}

func (w *walker) and(a *lang.And, fr *frame) *val {
	v := w.not(a.Terms[0], fr)
	for _, t := range a.Terms[1:] {
		if tv, ok := truthy(v); ok {
			if !tv {
				return v
			}
			v = w.not(t, fr)
			continue
		}
		var r *val
		w.dynamic("right side of 'and'", t.Pos, fr, false, func() { r = join(r, w.not(t, fr)) })
		v = join(v, r)
	}
	return v
}

func (w *walker) not(n *lang.Not, fr *frame) *val {
	if n.Negated != nil {
		v := w.not(n.Negated, fr)
		if t, ok := truthy(v); ok {
			return constant(!t, v.src...)
		}
		return derive(v)
	}
	left := w.sum(n.Cmp.Left, fr)
	if len(n.Cmp.Rests) == 0 {
		return left
	}
	all := []*val{left}
	result, known := true, true
	for _, op := range n.Cmp.Rests {
		right := w.sum(op.Right, fr)
		all = append(all, right)
		r, ok := compare(op.Op, left, right)
		if !ok {
			known = false
		} else if !r {
			result = false
		}
		left = right
	}
	if known {
		out := constant(result)
		for _, v := range all {
			out.src = unionSrc(out.src, v.src)
		}
		return out
	}
	return derive(all...)
}

func (w *walker) sum(s *lang.Sum, fr *frame) *val {
	v := w.product(s.Left, fr)
	for _, op := range s.Rests {
		v = binop(op.Op, v, w.product(op.Right, fr))
	}
	return v
}

func (w *walker) product(p *lang.Product, fr *frame) *val {
	v := w.unary(p.Left, fr)
	for _, op := range p.Rests {
		v = binop(op.Op, v, w.unary(op.Right, fr))
	}
	return v
}

func (w *walker) unary(u *lang.Unary, fr *frame) *val {
	if u.Operand != nil {
		v := w.unary(u.Operand, fr)
		if v.known {
			if r, ok := unaryOp(u.Op, v.k); ok {
				return constant(r, v.src...)
			}
			return derive(v)
		}
		if u.Op == "-" {
			return derive(v)
		}
		return v
	}
	v := w.postfix(u.Power.Base, fr)
	if u.Power.Exponent != nil {
		v = binop("**", v, w.unary(u.Power.Exponent, fr))
	}
	return v
}

// binop applies an operator, computing constants where both sides are
// known.
func binop(op string, a, b *val) *val {
	if a.known && b.known {
		if r, ok := arith(op, a.k, b.k); ok {
			return constant(r, unionSrc(a.src, b.src)...)
		}
	}
	switch {
	case op == "+" && a.list && b.list:
		out := &val{list: true, src: unionSrc(a.src, b.src)}
		if a.more == nil {
			out.elems = append(append([]*val(nil), a.elems...), b.elems...)
			out.more, out.moreN = b.more, b.moreN
			return out
		}
		out.elems = a.elems
		out.more, out.moreN = join(a.more, b.anyElem()), -1
		if a.lengthKnown() && b.lengthKnown() {
			out.moreN = a.moreN + b.length()
		}
		return out
	case op == "*" && a.list && b.known:
		k, ok := b.k.(int64)
		if ok && a.lengthKnown() && k >= 0 {
			n := a.length() * k
			out := &val{list: true, src: unionSrc(a.src, b.src)}
			if a.more == nil && n <= 64 {
				for i := int64(0); i < k; i++ {
					out.elems = append(out.elems, a.elems...)
				}
				return out
			}
			out.more, out.moreN = a.anyElem(), n
			return out
		}
	}
	return derive(a, b)
}

// postfix evaluates a primary with its calls, indexes and fields.
func (w *walker) postfix(pf *lang.Postfix, fr *frame) *val {
	cur := w.primary(pf.Primary, fr)
	var recv *val
	field := ""
	for _, s := range pf.Suffixes {
		switch {
		case s.Call != nil:
			cur = w.call(pf, s.Call, cur, recv, field, fr)
			recv, field = nil, ""
		case s.Index != nil:
			cur = w.index(cur, s.Index, fr)
			recv, field = nil, ""
		case s.Field != "":
			recv, field = cur, s.Field
			if cur.module != "" && cur.member == "" {
				cur = &val{module: cur.module, member: s.Field}
			} else {
				cur = derive(cur)
			}
		}
	}
	return cur
}

func (w *walker) primary(p *lang.Primary, fr *frame) *val {
	switch {
	case p.Int != nil:
		if n, err := compiler.ParseInt(*p.Int); err == nil {
			return constant(n)
		}
		return unknown()
	case p.Float != nil:
		if f, err := strconv.ParseFloat(strings.ReplaceAll(*p.Float, "_", ""), 64); err == nil {
			return constant(f)
		}
		return unknown()
	case p.String != nil:
		return constant(*p.String)
	case p.Bool != nil:
		return constant(*p.Bool == "true")
	case p.None:
		return constant(nil)
	case p.Name != "":
		return w.name(p, fr)
	case p.List != nil:
		return w.list(p.List, fr)
	case p.Map != nil:
		out := &val{}
		for _, e := range p.Map.Entries {
			out.refs = allRefs(w.expr(e.Key, fr), out.refs)
			out.refs = allRefs(w.expr(e.Value, fr), out.refs)
		}
		return out
	case p.Paren != nil:
		return w.expr(p.Paren, fr)
	}
	return unknown()
}

func (w *walker) name(p *lang.Primary, fr *frame) *val {
	ref := p.Ref
	if ref == nil {
		return unknown()
	}
	switch ref.Kind {
	case lang.RefLocal:
		return fr.get(ref.Index)
	case lang.RefGlobal:
		g := w.prog.Globals[ref.Index]
		if g.Kind == compiler.GlobalConst {
			return clone(w.constVal(g))
		}
		return &val{global: g}
	case lang.RefBuiltin:
		return &val{builtin: ref.Name}
	case lang.RefModule:
		return &val{module: ref.Name}
	}
	return unknown()
}

// constVal evaluates a const declaration once.
func (w *walker) constVal(g *compiler.Global) *val {
	if v, ok := w.consts[g]; ok {
		return v
	}
	if w.constBusy[g] {
		return unknown()
	}
	w.constBusy[g] = true
	saveRegion, saveHidden := w.region, w.hidden
	w.region, w.hidden = nil, nil
	v := w.expr(g.Const.Value, &frame{})
	w.region, w.hidden = saveRegion, saveHidden
	setSrc(v, "const "+g.Name)
	w.consts[g] = v
	return v
}

func clone(v *val) *val {
	if v == nil {
		return nil
	}
	c := *v
	if v.list {
		c.elems = make([]*val, len(v.elems))
		for i, e := range v.elems {
			c.elems[i] = clone(e)
		}
		c.more = clone(v.more)
	}
	return &c
}

func (w *walker) index(c *val, ix *lang.Index, fr *frame) *val {
	i := w.expr(ix.Start, fr)
	if ix.Slice {
		j := w.expr(ix.End, fr)
		step := w.expr(ix.Step, fr)
		if c.list {
			return &val{list: true, more: c.anyElem(), moreN: -1}
		}
		return derive(c, i, j, step)
	}
	if c.list {
		if k, ok := i.k.(int64); ok && i.known && c.lengthKnown() {
			if k < 0 {
				k += c.length()
			}
			if k >= 0 && k < c.length() {
				return c.elem(k)
			}
		}
		return join(c.anyElem(), derive(i))
	}
	if k, ok := indexConst(c, i); ok {
		return constant(k, c.src...)
	}
	return derive(c, i)
}

// list evaluates a list literal or a comprehension.
func (w *walker) list(l *lang.ListLit, fr *frame) *val {
	out := &val{list: true}
	if l.Comp != nil {
		w.comp(l, l.Comp, fr, out, 0)
		return out
	}
	if l.First != nil {
		out.elems = append(out.elems, w.expr(l.First, fr))
	}
	for _, e := range l.Rest {
		out.elems = append(out.elems, w.expr(e, fr))
	}
	return out
}

// comp evaluates one clause of a comprehension into out. count is how
// many elements each evaluation of the element stands for: 0 for one
// exact element, n > 0 for n elements summarised, -1 for an unknown
// number.
func (w *walker) comp(l *lang.ListLit, c *lang.CompFor, fr *frame, out *val, count int64) {
	if c == nil {
		e := w.expr(l.First, fr)
		switch {
		case count == 0 && out.more == nil:
			out.elems = append(out.elems, e)
		case count < 0 || out.moreN < 0:
			out.more, out.moreN = join(out.more, e), -1
		default:
			out.more = join(out.more, e)
			out.moreN += max(count, 1)
		}
		return
	}
	iter := iterable(w.or(c.Iter, fr))
	if iter.src != nil {
		out.src = unionSrc(out.src, iter.src)
	}
	item := func(v *val, count int64) {
		w.bind(fr, c.Slots, v)
		for i, cond := range c.Conds {
			t, ok := truthy(w.or(cond, fr))
			if ok && !t {
				return
			}
			if !ok {
				rest := c.Conds[i+1:]
				w.dynamic("comprehension condition", cond.Pos, fr, false, func() {
					for _, more := range rest {
						w.or(more, fr)
					}
					w.comp(l, c.Next, fr, out, -1)
				})
				return
			}
		}
		w.comp(l, c.Next, fr, out, count)
	}
	switch {
	case w.region == nil && iter.lengthKnown() && count >= 0:
		n := iter.length()
		if w.hidden != nil || count > 0 || w.unrollDepth >= maxUnrollDepth {
			w.summary(n, iter, 0, fr, func(v *val) flow {
				item(v, satMul(max(count, 1), n))
				return flow{}
			})
			return
		}
		loop := &Loop{Pos: c.Pos, Kind: "comprehension", Iter: orText(c.Iter), N: n, Bound: bound(iter.src)}
		at, startNodes := len(w.p.Items), len(w.p.Nodes)
		w.unrollDepth++
		shown := min(n, int64(w.opts.Unroll))
		loop.Shown = shown
		for k := int64(0); k < shown; k++ {
			item(iter.elem(k), 0)
		}
		if n > shown {
			w.summary(n-shown, iter, shown, fr, func(v *val) flow {
				item(v, n-shown)
				return flow{}
			})
		}
		w.unrollDepth--
		if len(w.p.Nodes) > startNodes {
			w.p.Items = append(w.p.Items[:at], append([]Item{{Loop: loop}}, w.p.Items[at:]...)...)
		}
	case w.region == nil && count >= 0:
		w.dynamic("comprehension over a value known only at run time ("+shorten(orText(c.Iter), 40)+")", c.Pos, fr, false, func() {
			item(iter.anyElem(), -1)
		})
	default:
		item(iter.anyElem(), -1)
	}
}

// call evaluates a call: a task, actor or method call site makes a node;
// a plain fn is inlined; built-ins are modelled; anything else is
// followed only as "its result comes from its arguments".
func (w *walker) call(pf *lang.Postfix, call *lang.Call, callee, recv *val, field string, fr *frame) *val {
	args := make([]*val, len(call.Args))
	for i, a := range call.Args {
		args[i] = w.expr(a.Value, fr)
	}
	if site := w.prog.Sites[call]; site != nil {
		return w.node(site, call, pf.Pos, args, recv, fr)
	}
	switch {
	case callee.global != nil && callee.global.Kind == compiler.GlobalFunc && callee.global.Func.Kind == "fn":
		return w.inline(callee.global.Func, call, pf.Pos, args, fr)
	case callee.global != nil && callee.global.Kind == compiler.GlobalFunc && callee.global.Func.Kind == "task":
		// A task reached through a variable: the compiler made no call
		// site, so make its annotation here from the declaration.
		return w.node(taskSite(callee.global.Func, call, fr), call, pf.Pos, args, nil, fr)
	case callee.global != nil && callee.global.Kind == compiler.GlobalActor:
		a := callee.global.Actor
		site := &compiler.CallSite{Pos: call.Pos, Kind: "actor", Callee: a.Name, Actor: a, Resources: a.Resources,
			Retries: -1, Deterministic: true, Enclosing: fr.fn}
		return w.node(site, call, pf.Pos, args, nil, fr)
	case callee.builtin != "":
		return w.builtin(callee.builtin, call, pf.Pos, args, fr)
	case callee.module != "":
		return derive(args...)
	case field != "" && recv != nil:
		return w.valueMethod(recv, field, args)
	case callee.global == nil && pf.Primary.Ref != nil && pf.Primary.Ref.Kind == lang.RefLocal && len(pf.Suffixes) > 0 && pf.Suffixes[0].Call == call:
		w.opaque(fmt.Sprintf("call of the function value '%s'", pf.Primary.Name), pf.Pos, fr)
	}
	return derive(append(args, callee)...)
}

// opaque records a call the planner cannot see into as a dynamic region
// of its own, kept even though it shows no nodes.
func (w *walker) opaque(what string, pos lang.Position, fr *frame) {
	r := w.dynamic(what, pos, fr, false, func() {})
	r.Opaque = true
}

// valueMethod models the methods of lists that change which futures a
// list holds; other methods of values give results derived from their
// receiver and arguments.
func (w *walker) valueMethod(recv *val, name string, args []*val) *val {
	if !recv.list || (name != "append" && name != "extend" && name != "insert") {
		return derive(append(args, recv)...)
	}
	before := sig(recv)
	var add *val
	var n int64 = -1
	switch {
	case name == "append" && len(args) == 1:
		add, n = args[0], 1
	case name == "extend" && len(args) == 1:
		if args[0].lengthKnown() {
			n = args[0].length()
		}
		add = args[0].anyElem()
		if w.region == nil && recv.more == nil && args[0].list && args[0].more == nil {
			recv.elems = append(recv.elems, args[0].elems...)
			return constant(nil)
		}
	case name == "insert" && len(args) == 2:
		add = args[1]
		recv.more, recv.moreN = join(recv.more, recv.anyElem()), -1
		recv.elems = nil
	default:
		return constant(nil)
	}
	switch {
	case w.region == nil && w.hidden == nil && recv.more == nil && name == "append":
		recv.elems = append(recv.elems, add)
	case w.region == nil && w.hidden != nil && n >= 0 && recv.moreN >= 0:
		recv.more = join(recv.more, add)
		recv.moreN += satMul(n, w.hidden.mult)
	case w.region == nil && n >= 0 && recv.moreN >= 0:
		recv.more = join(recv.more, add)
		recv.moreN += n
	default:
		recv.more, recv.moreN = join(recv.more, add), -1
	}
	if w.region != nil && sig(recv) != before {
		w.changed++
	}
	return constant(nil)
}

func (w *walker) builtin(name string, call *lang.Call, pos lang.Position, args []*val, fr *frame) *val {
	arg := func(i int) *val {
		if i < len(args) {
			return args[i]
		}
		return unknown()
	}
	switch name {
	case "get":
		w.wait(pos, arg(0), fr)
		return got(arg(0))
	case "put":
		return derive(arg(0))
	case "wait":
		fs := arg(0)
		part := &val{list: true, more: fs.anyElem(), moreN: -1}
		return &val{list: true, elems: []*val{part, clone(part)}}
	case "range":
		return rangeVal(args, w.opts.Unroll)
	case "len":
		v := arg(0)
		if v.lengthKnown() {
			return constant(v.length(), v.src...)
		}
		if s, ok := v.k.(string); ok && v.known {
			return constant(int64(len([]rune(s))), v.src...)
		}
		return derive(v)
	case "list", "sorted", "reversed":
		v := arg(0)
		if !v.list {
			return &val{list: true, more: derive(v), moreN: -1}
		}
		out := clone(v)
		if name == "sorted" && len(v.elems) > 1 {
			e := v.anyElem()
			for i := range out.elems {
				out.elems[i] = e
			}
		}
		if name == "reversed" {
			if v.more == nil {
				for i, j := 0, len(out.elems)-1; i < j; i, j = i+1, j-1 {
					out.elems[i], out.elems[j] = out.elems[j], out.elems[i]
				}
			} else {
				out.more, out.elems = v.anyElem(), nil
				out.moreN = v.length()
				if !v.lengthKnown() {
					out.moreN = -1
				}
			}
		}
		return out
	case "enumerate":
		v := iterable(arg(0))
		out := &val{list: true, src: v.src, moreN: v.moreN}
		for i, e := range v.elems {
			out.elems = append(out.elems, &val{list: true, elems: []*val{constant(int64(i)), e}})
		}
		if v.more != nil {
			out.more = &val{list: true, elems: []*val{unknown(), v.more}}
		}
		return out
	case "zip":
		if len(args) == 2 && args[0].lengthKnown() && args[1].lengthKnown() && args[0].more == nil && args[1].more == nil {
			a, b := args[0], args[1]
			out := &val{list: true, src: unionSrc(a.src, b.src)}
			for i := 0; i < min(len(a.elems), len(b.elems)); i++ {
				out.elems = append(out.elems, &val{list: true, elems: []*val{a.elems[i], b.elems[i]}})
			}
			return out
		}
		var elems []*val
		for _, a := range args {
			elems = append(elems, iterable(a).anyElem())
		}
		return &val{list: true, more: &val{list: true, elems: elems}, moreN: -1}
	case "reduce":
		if r := w.reduce(call, pos, args, fr); r != nil {
			return r
		}
	case "print", "fail", "cancel":
		return constant(nil)
	case "abs", "int", "float", "str", "min", "max":
		if r, ok := scalarBuiltin(name, args); ok {
			return r
		}
	}
	return derive(args...)
}

// reduce makes the node of reduce(f, xs) for a task f named directly: it
// stands for the len(xs)-1 calls of f the reduction makes, and depends
// on the futures of xs. nil when f is not a task the plan knows.
func (w *walker) reduce(call *lang.Call, pos lang.Position, args []*val, fr *frame) *val {
	if len(args) != 2 || args[0].global == nil || args[0].global.Kind != compiler.GlobalFunc || args[0].global.Func.Kind != "task" {
		return nil
	}
	v := w.node(taskSite(args[0].global.Func, call, fr), call, pos, []*val{constant(nil), args[1]}, nil, fr)
	for n := range v.refs {
		n.names = []string{"f", "xs"}
		n.Reduce = &Reduction{Inputs: -1}
		if xs := args[1]; xs.list && xs.lengthKnown() {
			n.Reduce.Inputs = xs.length()
		}
	}
	return v
}

// taskSite is the annotation of a call of task f for which the compiler
// made no call site (f reached through a variable, or by reduce), made
// here from f's declaration.
func taskSite(f *compiler.Func, call *lang.Call, fr *frame) *compiler.CallSite {
	return &compiler.CallSite{Pos: call.Pos, Kind: "task", Callee: f.Name, Func: f, Resources: f.Resources,
		Retries: f.Retries, Deterministic: f.Deterministic, Enclosing: fr.fn}
}

// rangeVal is range(...) of constants as a list: the first `limit`
// elements one by one, the rest summarised.
func rangeVal(args []*val, limit int) *val {
	var ns []int64
	var src []string
	for _, a := range args {
		n, ok := a.k.(int64)
		if !a.known || !ok {
			return &val{list: true, more: derive(args...), moreN: -1}
		}
		ns = append(ns, n)
		src = unionSrc(src, a.src)
	}
	start, stop, step := int64(0), int64(0), int64(1)
	switch len(ns) {
	case 1:
		stop = ns[0]
	case 2:
		start, stop = ns[0], ns[1]
	case 3:
		start, stop, step = ns[0], ns[1], ns[2]
	default:
		return &val{list: true, more: unknown(), moreN: -1}
	}
	if step == 0 {
		return &val{list: true, more: unknown(), moreN: -1}
	}
	var n int64
	switch {
	case step > 0 && stop > start:
		n = (stop - start + step - 1) / step
	case step < 0 && stop < start:
		n = (start - stop - step - 1) / -step
	}
	out := &val{list: true, src: src}
	shown := min(n, int64(limit))
	for i := int64(0); i < shown; i++ {
		out.elems = append(out.elems, constant(start+i*step, src...))
	}
	if n > shown {
		out.more, out.moreN = &val{src: src}, n-shown
	}
	return out
}

// got is what get(v) returns: the values of the futures in v.
func got(v *val) *val {
	if v == nil {
		return nil
	}
	out := &val{known: v.known, k: v.k, src: v.src, list: v.list, moreN: v.moreN}
	for n, k := range v.refs {
		if k == EdgeFuture {
			k = EdgeValue
		}
		if out.refs == nil {
			out.refs = map[*Node]EdgeKind{}
		}
		out.refs[n] = k
	}
	for _, e := range v.elems {
		out.elems = append(out.elems, got(e))
	}
	out.more = got(v.more)
	return out
}

// wait records a get in the driver.
func (w *walker) wait(pos lang.Position, v *val, fr *frame) {
	if w.hidden != nil {
		return
	}
	var on []*Node
	for n, k := range allRefs(v, nil) {
		if k == EdgeFuture {
			on = append(on, n)
		}
	}
	if len(on) == 0 {
		return
	}
	if w.region == nil {
		// Static code: each get is its own wait, in order.
		sortNodes(on)
		w.p.Items = append(w.p.Items, Item{Wait: &Wait{Pos: pos, On: on}})
		return
	}
	key := fr.path + posText(pos)
	wt := w.region.waits[key]
	if wt == nil {
		wt = &Wait{Pos: pos}
		w.region.waits[key] = wt
		w.region.Items = append(w.region.Items, Item{Wait: wt})
	}
	seen := map[*Node]bool{}
	for _, n := range wt.On {
		seen[n] = true
	}
	for _, n := range on {
		if !seen[n] {
			wt.On = append(wt.On, n)
		}
	}
	sortNodes(wt.On)
}

// inline walks a plain fn's body in place of its call, when it makes
// calls the graph shows; other fns are followed as "the result comes
// from the arguments".
func (w *walker) inline(f *compiler.Func, call *lang.Call, pos lang.Position, args []*val, fr *frame) *val {
	if !w.hasSites[f] {
		return derive(args...)
	}
	for _, g := range w.inlining {
		if g == f {
			w.opaque(fmt.Sprintf("recursive call of fn %s", f.Name), pos, fr)
			return derive(args...)
		}
	}
	if len(w.inlining) >= w.opts.InlineDepth {
		w.opaque(fmt.Sprintf("call of fn %s beyond the inlining depth (%d)", f.Name, w.opts.InlineDepth), pos, fr)
		return derive(args...)
	}
	nf := &frame{fn: f, slots: make([]*val, f.NumSlots), path: fr.path + posText(call.Pos) + ">",
		via: append(append([]Inline(nil), fr.via...), Inline{Fn: f.Name, Pos: pos})}
	given := make([]bool, len(f.Params))
	for i, a := range call.Args {
		j := i
		if a.Name != "" {
			j = paramIndex(f.Params, a.Name)
		}
		if j >= 0 && j < len(f.Params) && j < len(nf.slots) {
			nf.slots[j], given[j] = args[i], true
		}
	}
	for j, prm := range f.Params {
		if !given[j] && prm.Default != nil && j < len(nf.slots) {
			nf.slots[j] = w.expr(prm.Default, nf)
		}
	}
	w.inlining = append(w.inlining, f)
	fl := w.block(f.Body.Stmts, nf)
	w.inlining = w.inlining[:len(w.inlining)-1]
	ret := nf.ret
	if fl.kind != flowReturn {
		ret = join(ret, constant(nil))
	}
	if ret == nil {
		return constant(nil)
	}
	return ret
}

func paramIndex(params []*lang.Param, name string) int {
	for i, p := range params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// node makes (or, in a region or a summary, finds) the node of a call
// site and records its dependencies.
func (w *walker) node(site *compiler.CallSite, call *lang.Call, pos lang.Position, args []*val, recv *val, fr *frame) *val {
	key := fr.path + posText(call.Pos)
	var n *Node
	switch {
	case w.region != nil:
		n = w.region.byKey[key]
		if n == nil {
			n = w.newNode(site, call, pos, fr)
			n.Region = w.region
			w.region.byKey[key] = n
			w.region.Items = append(w.region.Items, Item{Node: n})
			w.changed++
		}
	case w.hidden != nil || w.shown >= w.opts.MaxNodes:
		h := w.hidden
		if h == nil {
			if w.capped == nil {
				w.capped = &hidden{mult: 1, byKey: map[string]*Node{}, regions: map[string]*Region{}}
			}
			h = w.capped
		}
		n = h.byKey[key]
		if n == nil {
			n = w.newNode(site, call, pos, fr)
			n.Collapsed, n.Count = true, 0
			h.byKey[key] = n
			w.p.Items = append(w.p.Items, Item{Node: n})
		}
		n.Count += h.mult
	default:
		n = w.newNode(site, call, pos, fr)
		w.shown++
		w.p.Items = append(w.p.Items, Item{Node: n})
	}
	if n.argVals == nil {
		n.argVals = args
	} else {
		for i := range args {
			if i < len(n.argVals) {
				n.argVals[i] = join(n.argVals[i], args[i])
			}
		}
	}
	for _, a := range args {
		w.depend(n, a, false)
	}
	if recv != nil && site.Kind == "method" {
		for r, k := range allRefs(recv, nil) {
			if k == EdgeHandle {
				k = EdgeActor
				if n.Callee == "?."+site.Callee && r.Site != nil && r.Site.Actor != nil {
					n.Callee = r.Site.Actor.Name + "." + site.Callee
				}
			}
			w.edge(n, r, k)
		}
	}
	if site.Kind == "actor" {
		return &val{refs: map[*Node]EdgeKind{n: EdgeHandle}}
	}
	return &val{refs: map[*Node]EdgeKind{n: EdgeFuture}}
}

func (w *walker) edge(n, from *Node, k EdgeKind) {
	if n.addEdge(from, k) && w.region != nil {
		w.changed++
	}
}

// depend adds the edges an argument brings: futures passed directly,
// results got by the driver, futures inside containers, actor handles.
func (w *walker) depend(n *Node, v *val, nested bool) {
	if v == nil {
		return
	}
	for from, k := range v.refs {
		if nested && k == EdgeFuture {
			k = EdgeRef
		}
		w.edge(n, from, k)
	}
	for _, e := range v.elems {
		w.depend(n, e, true)
	}
	w.depend(n, v.more, true)
}

func (w *walker) newNode(site *compiler.CallSite, call *lang.Call, pos lang.Position, fr *frame) *Node {
	n := &Node{Kind: NodeKind(site.Kind), Callee: site.Callee, Site: site, Pos: pos, Count: 1,
		Via: fr.via, args: call.Args, seq: len(w.p.Nodes)}
	switch {
	case site.Kind == "method" && site.Actor != nil:
		n.Callee = site.Actor.Name + "." + site.Callee
	case site.Kind == "method":
		n.Callee = "?." + site.Callee
	}
	var params []*lang.Param
	switch {
	case site.Func != nil:
		params = site.Func.Params
		n.Hints = site.Func.Hints
	case site.Actor != nil && site.Kind == "actor":
		params = site.Actor.Params
	}
	if site.Kind == "actor" && site.Actor != nil {
		n.Hints = site.Actor.Hints
	}
	for i, a := range call.Args {
		name := a.Name
		if name == "" && i < len(params) {
			name = params[i].Name
		}
		n.names = append(n.names, name)
	}
	w.counts[n.Kind]++
	prefix := map[NodeKind]string{TaskNode: "t", ActorNode: "a", MethodNode: "m"}[n.Kind]
	n.ID = fmt.Sprintf("%s%d", prefix, w.counts[n.Kind])
	w.p.Nodes = append(w.p.Nodes, n)
	return n
}
