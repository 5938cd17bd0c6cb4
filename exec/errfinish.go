package exec

import "github.com/rayflow/rayflow/lang"

// finishError completes the stack of an error recovered at a place that
// had saved frames on the thread: the call sites pushed since then are
// the callers of the failing code, innermost last in th.frames. They are
// added (innermost first) and popped.
func finishError(th *Thread, r any, saved int, pos lang.Position, fnName string) *Error {
	if e, ok := r.(*Error); ok && e.Pos.Line == 0 && len(th.frames) > saved {
		// Raised without a position (a depth or step limit): it happened
		// in the innermost call, whose site is the last frame.
		e.Pos = th.frames[len(th.frames)-1].Pos
		pos = lang.Position{}
	}
	e := asError(r, pos, fnName)
	for i := len(th.frames) - 1; i >= saved; i-- {
		e.Stack = append(e.Stack, *th.frames[i])
	}
	th.frames = th.frames[:saved]
	return e
}

// pushFrame records a call site before calling a rayflow function.
func (th *Thread) pushFrame(site *Frame) {
	th.frames = append(th.frames, site)
}

func (th *Thread) popFrame() { th.frames = th.frames[:len(th.frames)-1] }

// reserve takes n zeroed slots from the thread's value stack. A slice
// given out stays valid when the stack grows: growing starts a new array
// and leaves older frames on the old one.
func (th *Thread) reserve(n int) []Value { return th.reserveArgs(n, 0) }

// reserveArgs is reserve for a call that fills the first nargs slots
// itself: only the slots past them are cleared.
func (th *Thread) reserveArgs(n, nargs int) []Value {
	base := len(th.vals)
	need := base + n
	if need > cap(th.vals) {
		th.vals = make([]Value, base, max(2*cap(th.vals), need, 1024))
	}
	th.vals = th.vals[:need]
	slots := th.vals[base:need:need]
	clear(slots[nargs:])
	return slots
}

// frameAt returns a reusable frame record for the current call depth.
func (th *Thread) frameAt(depth int) *frame {
	if depth < len(th.fpool) {
		return th.fpool[depth]
	}
	return th.growFrames(depth)
}

// ownSlots returns n slots of the frame's own, the first nargs left for
// the caller to fill and the rest cleared. A pooled frame keeps them for
// the next call at its depth.
func (fr *frame) ownSlots(n, nargs int) []Value {
	if cap(fr.own) < n {
		fr.own = make([]Value, n)
	}
	slots := fr.own[:n:n]
	if nargs < n {
		clear(slots[nargs:])
	}
	return slots
}

// growFrames is frameAt at a depth not reached before.
func (th *Thread) growFrames(depth int) *frame {
	for len(th.fpool) <= depth {
		th.fpool = append(th.fpool, &frame{th: th})
	}
	return th.fpool[depth]
}
