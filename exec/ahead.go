package exec

import (
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// Loops run ahead (the planner's pipeline decision). In a loop that
// calls a task and gets its result at once, the calls of the next
// iterations are started before their iteration comes, so that the loop
// waits for one result while the next ones are already running. How many
// run ahead grows with the loop, as a TCP window does: aheadStart at
// first, then as many as the iterations the loop has finished, up to
// Depth; so a loop that breaks out early has started at most as many
// calls it never gets as it got (and aheadStart), while a long loop
// soon keeps Depth in flight. The planner allows it only where it cannot change
// what the program does: the callee is deterministic and prints
// nothing, the call is made exactly once per iteration, and its
// arguments depend only on the loop's variables and on names the loop
// does not change. Each call is still made with the arguments of its own
// iteration; only its start moves earlier. A call started for an
// iteration the loop never reaches (it broke out early) is never gotten.
//
// The queue of started calls belongs to the thread running the loop
// (Thread.ahead, no lock); a loop saves and restores the queue of an
// enclosing run of itself, so recursion is safe.

// aheadQueue holds the futures of the calls started early for the
// iterations from the current one on, in iteration order.
type aheadQueue struct {
	futs []Value
}

// aheadFor compiles a loop whose call is run ahead.
func (cc *compileCtx) aheadFor(f *lang.For, plan *decision.Loop, step func(*frame, Value) (ctl, bool)) execFn {
	args := cc.args(plan.Call)
	fn := cc.prog.funcs[plan.Site.Func]
	bind := cc.binder(f.Slots, f.Pos)
	rng := cc.rangeArgs(f.Iter)
	iter := cc.expr(f.Iter)
	return func(fr *frame) ctl {
		var at func(k int) (Value, bool)
		if rng != nil {
			start, stop, stride := rng(fr)
			at = rangeAt(start, stop, stride)
		} else {
			v := iter(fr)
			if v.kind != ListKind {
				c, _ := cc.iterate(fr, v, f.Iter.Pos, step)
				return c
			}
			l := v.AsList()
			at = func(k int) (Value, bool) {
				if k < len(l.Elems) {
					return l.Elems[k], true
				}
				return None, false
			}
		}
		th := fr.th
		q := &aheadQueue{}
		saved := th.setAhead(f, q)
		defer th.setAhead(f, saved)
		started, stopped := 0, false
		for k := 0; ; k++ {
			v, ok := at(k)
			if !ok {
				return ctlNext
			}
			for !stopped && started < k+aheadWindow(k, plan.Depth) {
				next, more := at(started)
				if !more {
					break
				}
				fut, ok := cc.startAhead(fr, f.Slots, bind, next, args, fn, plan)
				if !ok {
					stopped = true
					break
				}
				q.futs = append(q.futs, fut)
				started++
				fn.prog.PlanStats.AheadCalls.Add(1)
			}
			if started <= k {
				started = k + 1 // this iteration makes its own call
			}
			if c, more := step(fr, v); !more {
				return c
			}
		}
	}
}

// aheadStart is how many calls a run-ahead loop starts early before any
// of its iterations is done.
const aheadStart = 8

// aheadWindow is how many calls run ahead of iteration k (0-based) of a
// loop whose plan allows depth: aheadStart, then k, at most depth.
func aheadWindow(k, depth int) int {
	return min(depth, max(aheadStart, k))
}

// rangeAt gives the k-th value of range(start, stop, stride).
func rangeAt(start, stop, stride int64) func(k int) (Value, bool) {
	n := rangeLen(start, stop, stride)
	return func(k int) (Value, bool) {
		if k >= 0 && uint64(k) < n {
			return Int(start + int64(k)*stride), true // exact: the value fits
		}
		return None, false
	}
}

// startAhead makes the loop's call for a later iteration whose loop
// value is v: the loop's names are bound to v while the arguments are
// evaluated, then restored. It reports false when the arguments or the
// call fail: the iteration will then make the call itself, in its turn,
// and meet the error there.
func (cc *compileCtx) startAhead(fr *frame, slots []int, bind func(*frame, Value), v Value, args *argList, fn *Function, plan *decision.Loop) (fut Value, ok bool) {
	saved := make([]Value, len(slots))
	for i, s := range slots {
		saved[i] = fr.slots[s]
	}
	defer func() {
		for i, s := range slots {
			fr.slots[s] = saved[i]
		}
		if r := recover(); r != nil {
			fut, ok = None, false
		}
	}()
	bind(fr, v)
	pos, kw := args.eval(fr)
	fut, err := fn.submitOwned(fr.th, pos, kw, plan.Site)
	return fut, err == nil
}

// setAhead makes q the queue of loop f on this thread and returns the
// one it replaces.
func (th *Thread) setAhead(f *lang.For, q *aheadQueue) *aheadQueue {
	tp := th.plan()
	if tp.ahead == nil {
		tp.ahead = map[*lang.For]*aheadQueue{}
	}
	old := tp.ahead[f]
	if q == nil {
		delete(tp.ahead, f)
	} else {
		tp.ahead[f] = q
	}
	return old
}

// takeAhead returns the future started early for this iteration's call
// of loop f, if there is one.
func (th *Thread) takeAhead(f *lang.For) (Value, bool) {
	if th.planned == nil {
		return None, false
	}
	q := th.planned.ahead[f]
	if q == nil || len(q.futs) == 0 {
		return None, false
	}
	v := q.futs[0]
	q.futs = q.futs[1:]
	return v, true
}

// aheadCall compiles the call of a loop run ahead: it takes the future
// started early for this iteration, or makes the call when there is
// none (the loop stopped starting calls early).
func (cc *compileCtx) aheadCall(loop *lang.For, f *Function, al *argList, site *CallSite) evalFn {
	pos := cc.callPos
	return func(fr *frame) Value {
		if v, ok := fr.th.takeAhead(loop); ok {
			return v
		}
		args, kw := al.eval(fr)
		v, err := f.submitOwned(fr.th, args, kw, site)
		if err != nil {
			panic(cc.locate(err, pos))
		}
		return v
	}
}
