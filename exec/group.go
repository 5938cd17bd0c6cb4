package exec

import (
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// Grouped calls. Where the planner decided to batch or fuse a call site
// (decision.Site), its calls do not go to the runtime one by one: they
// wait in their thread's group, which goes as one unit of work when it
// is full or when the thread next talks to the runtime for anything
// else (get, wait, put, cancel, an ungrouped call, an actor) or ends. So
// a future is never seen by the runtime before its call has been sent,
// and results are exactly those of calls sent one by one: only the
// number of placements and messages changes.
//
// The group belongs to its thread (no lock): it is filled and sent by
// the goroutine running the thread.

// GroupRuntime is implemented by a runtime that can start several calls
// as one unit of work: one placement, one message, the calls run in order
// on one worker, and a call whose direct argument is the future of an
// earlier call of the group gets that value there, without a round trip.
type GroupRuntime interface {
	// SubmitGroup starts calls and fills futs[i] (made by exec, with ID
	// and Name set) as Submit would return it, in order: when calls[k]
	// is started, the futures of calls[:k] are filled, so its arguments
	// are futures like any other.
	SubmitGroup(th *Thread, calls []*TaskCall, futs []*Future) error
}

// IntoRuntime is implemented by a runtime that fills a future exec made
// (SubmitInto, as Submit would return it) rather than returning its own:
// the future the program holds is then the one the runtime saw, so that
// the runtime can tell when the program drops it (the node agent releases
// a result no future refers to).
type IntoRuntime interface {
	SubmitInto(th *Thread, call *TaskCall, fut *Future) error
}

// PlanStats count what the planner's decisions did in one process, for
// `rayflow run --explain`.
type PlanStats struct {
	GroupedCalls atomic.Int64 // calls sent in groups (batch, fuse)
	Groups       atomic.Int64 // the groups they went in
	AheadCalls   atomic.Int64 // calls started early by loops run ahead
	// TemplateCalls are the calls of template loops the runtime sent
	// where the same call went before, without placing them.
	TemplateCalls atomic.Int64
	// HintPlaced are the calls placed by a placement hint (spread,
	// locality, colocate, a tree reduction's calls next to their input),
	// HintFallbacks those whose hint could not be honoured (the node it
	// names never has room), placed as without it.
	HintPlaced, HintFallbacks atomic.Int64
	// TreeCalls are the calls of reductions run as trees (tree_reduce),
	// TreeDepth the depth of the deepest, in calls one after the other.
	TreeCalls, TreeDepth atomic.Int64
}

// threadPlan is what the plan's decisions keep on one thread.
type threadPlan struct {
	group callGroup                 // calls waiting to be sent as one unit
	ahead map[*lang.For]*aheadQueue // calls started early by loops run ahead (ahead.go)
	slots map[*CallSite]int         // calls of each template site in the current iteration
	// spare is where the thread's grouped calls are made, a chunk at a
	// time (newCall), and chunk the size of the last chunk.
	spare []TaskCall
	chunk int
	// spareArgs is where the arguments of the thread's grouped calls are
	// made (newArgs), a chunk the size of the calls' at a time: the
	// calls of a chunk hold one another's arguments anyway (a call's
	// chunk holds every call made in it), so the chunk keeps alive about
	// what they keep.
	spareArgs []Value
	// ids is where the IDs of the thread's grouped calls are written
	// (groupedCallID), a chunk of idChunk bytes at a time: a kept ID
	// keeps its chunk, at most idChunk bytes of IDs and no pointer.
	ids []byte
}

// idChunk is the room of a chunk of grouped calls' IDs: about 30 IDs.
const idChunk = 512

// callChunkMax bounds a chunk of grouped calls (newCall): 256 calls,
// about 20 KB.
const callChunkMax = 256

// newCall returns a zero call for a grouped call site. The calls of a
// group are made in one chunk (chunks double from 8 to callChunkMax, so
// a thread that groups few calls makes small ones): one allocation for
// many calls, where a call alone is one each. A group's calls are kept
// together anyway — its lineage record holds them all until the group
// is released — so a chunk keeps alive about what its groups keep; a
// call's future does not refer to its call once the call is sent.
func (p *threadPlan) newCall() *TaskCall {
	if len(p.spare) == 0 {
		p.chunk = min(max(2*p.chunk, 8), callChunkMax)
		p.spare = make([]TaskCall, p.chunk)
	}
	call := &p.spare[0]
	p.spare = p.spare[1:]
	return call
}

// newArgs returns room for the n arguments of a grouped call
// (len n, cap n: it cannot grow into the next call's).
func (p *threadPlan) newArgs(n int) []Value {
	if len(p.spareArgs) < n {
		p.spareArgs = make([]Value, max(min(max(2*p.chunk, 8), callChunkMax), n))
	}
	args := p.spareArgs[:n:n]
	p.spareArgs = p.spareArgs[n:]
	return args
}

// groupedCallID is NextCallID for a grouped call: the ID is written
// into the thread's chunk of IDs and aliases it (one allocation for
// about thirty calls, where NextCallID makes one a call). The chunk's
// bytes are never written again once an ID is made of them.
func (th *Thread) groupedCallID(p *threadPlan) string {
	th.seq++
	if cap(p.ids)-len(p.ids) < len(th.TaskID)+21 { // '.' and the longest number
		p.ids = make([]byte, 0, max(idChunk, len(th.TaskID)+21))
	}
	from := len(p.ids)
	p.ids = append(p.ids, th.TaskID...)
	p.ids = append(p.ids, '.')
	p.ids = strconv.AppendUint(p.ids, th.seq, 10)
	return unsafe.String(&p.ids[from], len(p.ids)-from)
}

// nextSlot counts a call of template site and returns its slot.
func (p *threadPlan) nextSlot(site *CallSite) int {
	if p.slots == nil {
		p.slots = map[*CallSite]int{}
	}
	p.slots[site]++
	return p.slots[site]
}

// startIteration starts the slots of a template loop's sites again.
func (p *threadPlan) startIteration(sites []*CallSite) {
	for _, s := range sites {
		delete(p.slots, s)
	}
}

// templateStep wraps the step of a template loop (decision.Set.Templates)
// so that each iteration numbers its calls from slot 1 again.
func templateStep(sites []*CallSite, step func(*frame, Value) (ctl, bool)) func(*frame, Value) (ctl, bool) {
	return func(fr *frame, v Value) (ctl, bool) {
		fr.th.plan().startIteration(sites)
		return step(fr, v)
	}
}

// plan is the thread's threadPlan, made on first use.
func (th *Thread) plan() *threadPlan {
	if th.planned == nil {
		th.planned = &threadPlan{}
	}
	return th.planned
}

// callGroup is the calls of one thread waiting to be sent together.
type callGroup struct {
	calls []*TaskCall
	futs  []*Future
	limit int       // send when this many are waiting
	last  int       // how many calls the last group sent held
	site  *CallSite // the call site of the last call added
	// members indexes futs once a lookup in a large group
	// (memberIndexFrom) misses its last call, so that fuse finds a member
	// at once; a small group is scanned. A fused chain (each call takes
	// the last one's future) and a batch of calls that take no future of
	// the group never need it.
	members map[*Future]bool
}

// groupSize is how many calls of a site go together now: its batch size,
// or what the adaptive planner decided for it; 1 or less sends them alone
// (unless they fuse).
func (p *Program) groupSize(d *decision.Site, site *CallSite) int {
	switch {
	case d == nil:
		return 0
	case d.Group > 1:
		return d.Group
	case d.Adaptive:
		return p.Adapt.Group(site)
	}
	return 0
}

// submitGrouped adds a call to the thread's group and returns its
// future, which the runtime fills when the group is sent.
func (th *Thread) submitGrouped(call *TaskCall, d *decision.Site, size int) (*Future, error) {
	g := &th.plan().group
	if len(g.calls) > 0 && !g.feeds(call) && (size <= 1 || g.site != call.Site) {
		// A call that takes nothing from the group goes in a group of
		// its own call site's: unrelated calls do not queue behind
		// one another.
		if err := th.flushGroup(); err != nil {
			return nil, err
		}
	}
	g.site = call.Site
	limit := size
	if limit <= 1 {
		limit = decision.MaxGroup // a fused chain
	}
	if len(g.calls) == 0 || limit < g.limit {
		g.limit = limit
	}
	if len(g.calls) == 0 {
		// Room for as many calls as the thread's last group held: a
		// loop's groups are alike, so they are made at their size, not
		// grown to it.
		room := min(max(g.last, 4), g.limit)
		g.calls, g.futs = make([]*TaskCall, 0, room), make([]*Future, 0, room)
	}
	fut := &Future{Handle: call} // its ID and name are the call's until the runtime fills it
	g.calls = append(g.calls, call)
	g.futs = append(g.futs, fut)
	if g.members != nil {
		g.members[fut] = true
	}
	if len(g.calls) >= g.limit {
		if err := th.flushGroup(); err != nil {
			return nil, err
		}
	}
	return fut, nil
}

// feeds reports whether one of call's direct arguments is the future of
// a call waiting in the group.
func (g *callGroup) feeds(call *TaskCall) bool {
	for _, a := range call.Args {
		if a.kind == FutureKind && g.has(a.AsFuture()) {
			return true
		}
	}
	return false
}

// memberIndexFrom is the group size from which members are indexed.
const memberIndexFrom = 32

// has reports whether f is the future of a waiting call: most often the
// last one (a fused chain), so a small group is scanned from its end.
func (g *callGroup) has(f *Future) bool {
	last := len(g.futs) - 1
	switch {
	case last >= 0 && g.futs[last] == f:
		return true
	case g.members != nil:
		return g.members[f]
	case len(g.futs) > memberIndexFrom:
		g.members = make(map[*Future]bool, 2*len(g.futs))
		for _, m := range g.futs {
			g.members[m] = true
		}
		return g.members[f]
	}
	for i := last - 1; i >= 0; i-- {
		if g.futs[i] == f {
			return true
		}
	}
	return false
}

// flushGroup sends the waiting calls, if any.
func (th *Thread) flushGroup() error {
	if th.planned == nil {
		return nil
	}
	g := &th.planned.group
	if len(g.calls) == 0 {
		return nil
	}
	calls, futs := g.calls, g.futs
	g.calls, g.futs, g.members, g.last = nil, nil, nil, len(calls)
	if f := calls[0].Func; f != nil && f.prog.Adapt != nil {
		f.prog.Adapt.Sent(calls[0].Site, len(calls))
	}
	if gr, ok := th.Runtime.(GroupRuntime); ok && len(calls) > 1 {
		if f := calls[0].Func; f != nil {
			f.prog.PlanStats.GroupedCalls.Add(int64(len(calls)))
			f.prog.PlanStats.Groups.Add(1)
		}
		return gr.SubmitGroup(th, calls, futs)
	}
	into, _ := th.Runtime.(IntoRuntime)
	for i, call := range calls {
		if into != nil {
			if err := into.SubmitInto(th, call, futs[i]); err != nil {
				return err
			}
			continue
		}
		got, err := th.Runtime.Submit(th, call)
		if err != nil {
			return err
		}
		*futs[i] = *got
	}
	return nil
}

// rt is the thread's runtime, once the calls waiting in its group are
// sent: every use of the runtime other than a grouped call goes through
// it, so the runtime never sees a future whose call it does not know.
func (th *Thread) rt() (Runtime, error) {
	if th.planned != nil && len(th.planned.group.calls) > 0 {
		if err := th.flushGroup(); err != nil {
			return nil, err
		}
	}
	return th.Runtime, nil
}

// sendGroupAtEnd sends the calls still waiting when a task, method or
// pipeline body ends, whether it ended well or not: they were made, so
// they run, as ungrouped calls would. A failure to send them is the
// body's error when it had none; it returns the body's error.
func (th *Thread) sendGroupAtEnd(err *Error, f *Function) *Error {
	if ferr := th.flushGroup(); ferr != nil && err == nil {
		return asError(ferr, f.Info.Pos, f.qualifiedName())
	}
	return err
}
