package owner

import (
	"sort"
	"strings"

	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The results an owner awaits and the lineage it keeps are found by task
// ID. A task sent alone has an entry of its own in a map. The calls of a
// group sent whole (SentGroup) have ONE record for the group: their IDs
// are one caller's consecutive calls ("<caller>.<n>",
// exec.Thread.NextCallID), so a call's entry is found by its caller's ID
// and its number, at its index in the group's record, without a map
// entry, an insert or a delete per call. A record is dropped with the
// last of its calls taken out. What the tables hold and how they answer
// is the same for a call either way.

// consecutiveCalls reports whether ids (got from idAt, n of them) are one
// caller's consecutive calls (numbered as NextCallID numbers them:
// wire.CallRun), and returns that caller and the first call's number.
func consecutiveCalls(n int, idAt func(i int) string) (caller string, first uint64, ok bool) {
	var run wire.CallRun
	if !run.Start(idAt(0)) {
		return "", 0, false
	}
	first = run.N
	for i := 1; i < n; i++ {
		if !run.Next(idAt(i)) {
			return "", 0, false
		}
	}
	return run.Caller, first, true
}

// callRange is what a group record of either table has: the number of
// its first call and how many calls it holds. A caller's records are
// kept in the order of their first calls, so that the one holding a call
// is found by a binary search however many of that caller's groups are
// in flight (a batch of many groups).
type callRange interface {
	firstCall() uint64
	calls() int
}

// groupRecord is a group record of either table: its calls, and which
// of them it still holds (live: not taken out).
type groupRecord interface {
	callRange
	comparable
	live(k int) bool
}

func (g *awaitedGroup) firstCall() uint64 { return g.first }
func (g *awaitedGroup) calls() int        { return len(g.objs) }
func (g *awaitedGroup) live(k int) bool   { return g.objs[k] != nil }
func (g *lineageGroup) firstCall() uint64 { return g.first }
func (g *lineageGroup) calls() int        { return len(g.entries) }
func (g *lineageGroup) live(k int) bool   { return g.entries[k].t != nil }

// slotOf finds, among groups (by the calls' caller), the record that
// holds call id still, and id's index there (nil, 0: none does).
func slotOf[G groupRecord](groups map[string][]G, id string) (g G, k int) {
	if len(groups) == 0 {
		return g, 0
	}
	caller, n, ok := wire.CallNumber(id)
	if !ok {
		return g, 0
	}
	if h, k, ok := holding(groups[caller], n); ok && h.live(k) {
		return h, k
	}
	return g, 0
}

// unlist drops g, a record of groups that held call id, from groups.
func unlist[G groupRecord](groups map[string][]G, id string, g G) {
	caller, _, _ := wire.CallNumber(id)
	list := removeFrom(groups[caller], g)
	if len(list) == 0 {
		delete(groups, caller)
	} else {
		groups[caller] = list
	}
}

// holding returns the record of list (ordered by first call) whose
// calls include number n, and n's index there.
func holding[G callRange](list []G, n uint64) (g G, k int, ok bool) {
	i := sort.Search(len(list), func(i int) bool { return list[i].firstCall() > n }) - 1
	if i < 0 || n-list[i].firstCall() >= uint64(list[i].calls()) {
		return g, 0, false
	}
	return list[i], int(n - list[i].firstCall()), true
}

// insertFree adds g to list in the order of first calls; false (list
// unchanged) when g's calls meet those of a record of list.
func insertFree[G callRange](list []G, g G) ([]G, bool) {
	first, n := g.firstCall(), g.calls()
	i := sort.Search(len(list), func(i int) bool { return list[i].firstCall() >= first })
	if i > 0 && overlaps(list[i-1].firstCall(), list[i-1].calls(), first, n) ||
		i < len(list) && overlaps(list[i].firstCall(), list[i].calls(), first, n) {
		return list, false
	}
	list = append(list, g)
	copy(list[i+1:], list[i:])
	list[i] = g
	return list, true
}

// removeFrom drops g, a record of list, from list, keeping the order.
func removeFrom[G groupRecord](list []G, g G) []G {
	i := sort.Search(len(list), func(i int) bool { return list[i].firstCall() >= g.firstCall() })
	if i == len(list) || list[i] != g {
		return list
	}
	copy(list[i:], list[i+1:])
	var none G
	list[len(list)-1] = none
	return list[:len(list)-1]
}

// awaitTable is the results awaited from other nodes (Owner.awaited),
// guarded by Owner.awaitMu.
type awaitTable struct {
	alone  map[string]awaitedResult
	groups map[string][]*awaitedGroup // by the calls' caller
	// groupsMade and aloneMade count the records made, of groups and of
	// results alone (AwaitRecords).
	groupsMade, aloneMade int
}

// awaitedGroup is the results of one group's calls, awaited from one
// node: objs[i] is call first+i's object, nil once taken.
type awaitedGroup struct {
	first  uint64
	objs   []*objstore.Object
	sentTo string
	left   int
}

// slot finds the group record holding id's result, and its index there.
func (t *awaitTable) slot(id string) (*awaitedGroup, int) { return slotOf(t.groups, id) }

// get is id's awaited result (a zero one when it is not awaited).
func (t *awaitTable) get(id string) awaitedResult {
	if g, k := t.slot(id); g != nil {
		return awaitedResult{obj: g.objs[k], sentTo: g.sentTo}
	}
	return t.alone[id]
}

// put awaits id's result alone.
func (t *awaitTable) put(id string, r awaitedResult) {
	if g, k := t.slot(id); g != nil {
		t.takeAt(id, g, k)
	}
	if t.alone == nil {
		t.alone = map[string]awaitedResult{}
	}
	t.alone[id] = r
	t.aloneMade++
}

// putGroup awaits the results objs of the consecutive calls first,
// first+1, ... of caller from the node at addr, as one record; false
// (nothing done) when one of them may be awaited already.
func (t *awaitTable) putGroup(caller string, first uint64, objs []*objstore.Object, addr string) bool {
	if len(t.alone) > 0 {
		for _, o := range objs {
			if _, ok := t.alone[o.ID()]; ok {
				return false
			}
		}
	}
	list, ok := insertFree(t.groups[caller], &awaitedGroup{first: first, objs: objs, sentTo: addr, left: len(objs)})
	if !ok {
		return false
	}
	if t.groups == nil {
		t.groups = map[string][]*awaitedGroup{}
	}
	t.groups[caller] = list
	t.groupsMade++
	return true
}

// overlaps reports whether the call numbers [a, a+n) and [b, b+m) meet.
func overlaps(a uint64, n int, b uint64, m int) bool {
	return a < b+uint64(m) && b < a+uint64(n)
}

// take stops awaiting id's result and returns it.
func (t *awaitTable) take(id string) awaitedResult {
	if g, k := t.slot(id); g != nil {
		return t.takeAt(id, g, k)
	}
	r, ok := t.alone[id]
	if ok {
		delete(t.alone, id)
	}
	return r
}

// takeCall takes the result of call n of caller where a group's record
// holds it (nil when none does: awaited alone, or not awaited).
func (t *awaitTable) takeCall(caller string, n uint64) *objstore.Object {
	g, k, ok := holding(t.groups[caller], n)
	if !ok || !g.live(k) {
		return nil
	}
	return t.takeAt(g.objs[k].ID(), g, k).obj
}

// takeAt takes call k of group g (id is its ID), and drops g's record
// with its last call.
func (t *awaitTable) takeAt(id string, g *awaitedGroup, k int) awaitedResult {
	r := awaitedResult{obj: g.objs[k], sentTo: g.sentTo}
	g.objs[k] = nil
	if g.left--; g.left == 0 {
		unlist(t.groups, id, g)
	}
	return r
}

// each calls fn with every awaited result and its ID.
func (t *awaitTable) each(fn func(id string, r awaitedResult)) {
	for id, r := range t.alone {
		fn(id, r)
	}
	for _, list := range t.groups {
		for _, g := range list {
			for _, o := range g.objs {
				if o != nil {
					fn(o.ID(), awaitedResult{obj: o, sentTo: g.sentTo})
				}
			}
		}
	}
}

// takeIf stops awaiting the results whose IDs pick selects and returns
// their objects.
func (t *awaitTable) takeIf(pick func(id string) bool) []*objstore.Object {
	var ids []string
	t.each(func(id string, _ awaitedResult) {
		if pick(id) {
			ids = append(ids, id)
		}
	})
	objs := make([]*objstore.Object, 0, len(ids))
	for _, id := range ids {
		objs = append(objs, t.take(id).obj)
	}
	return objs
}

// lineageTable is the tasks sent away whose specification is kept
// (Owner.lineage), guarded by Owner.mu.
type lineageTable struct {
	alone  map[string]*lineageEntry
	groups map[string][]*lineageGroup // by the calls' caller
	// last is the group record slot found last, of caller lastCaller:
	// a group's calls are forgotten one after the other, each found in
	// it without a look-up by caller (nil once it leaves groups).
	last       *lineageGroup
	lastCaller string
}

// lineageGroup is the lineage of one group's calls: entries[i] is call
// first+i's (its task nil once forgotten).
type lineageGroup struct {
	first   uint64
	entries []lineageEntry
	left    int
}

// slot finds the group record holding id's lineage, and its index there.
func (t *lineageTable) slot(id string) (*lineageGroup, int) {
	if g := t.last; g != nil {
		if caller, n, ok := wire.CallNumber(id); ok && caller == t.lastCaller && n-g.first < uint64(len(g.entries)) {
			if k := int(n - g.first); g.live(k) {
				return g, k
			}
			return nil, 0 // records of one caller never overlap: no other holds it
		}
	}
	g, k := slotOf(t.groups, id)
	if g != nil {
		t.last, t.lastCaller = g, id[:strings.LastIndexByte(id, '.')]
	}
	return g, k
}

// get is id's lineage, or nil.
func (t *lineageTable) get(id string) *lineageEntry {
	if g, k := t.slot(id); g != nil {
		return &g.entries[k]
	}
	return t.alone[id]
}

// put keeps t's lineage alone, unless it is kept already.
func (t *lineageTable) put(task Task) {
	id := task.Call().ID
	if t.get(id) != nil {
		return
	}
	if t.alone == nil {
		t.alone = map[string]*lineageEntry{}
	}
	t.alone[id] = &lineageEntry{t: task}
}

// putGroup keeps the lineage of tasks, the consecutive calls first,
// first+1, ... of caller, as one record; false (nothing done) when the
// lineage of one of them may be kept already.
func (t *lineageTable) putGroup(caller string, first uint64, tasks []Task) bool {
	if len(t.alone) > 0 {
		for _, task := range tasks {
			if t.alone[task.Call().ID] != nil {
				return false
			}
		}
	}
	g := &lineageGroup{first: first, entries: make([]lineageEntry, len(tasks)), left: len(tasks)}
	list, ok := insertFree(t.groups[caller], g)
	if !ok {
		return false
	}
	for i, task := range tasks {
		g.entries[i].t = task
	}
	if t.groups == nil {
		t.groups = map[string][]*lineageGroup{}
	}
	t.groups[caller] = list
	return true
}

// drop forgets id's lineage, and returns the task it was (nil when
// none was kept).
func (t *lineageTable) drop(id string) Task {
	g, k := t.slot(id)
	if g == nil {
		e := t.alone[id]
		if e == nil {
			return nil
		}
		delete(t.alone, id)
		return e.t
	}
	task := g.entries[k].t
	g.entries[k] = lineageEntry{}
	if g.left--; g.left == 0 {
		unlist(t.groups, id, g)
		if t.last == g {
			t.last, t.lastCaller = nil, ""
		}
	}
	return task
}

// dropIf forgets the lineage of the tasks whose IDs pick selects.
func (t *lineageTable) dropIf(pick func(id string) bool) {
	for id := range t.alone {
		if pick(id) {
			delete(t.alone, id)
		}
	}
	var ids []string
	for _, list := range t.groups {
		for _, g := range list {
			for _, e := range g.entries {
				if e.t != nil && pick(e.t.Call().ID) {
					ids = append(ids, e.t.Call().ID)
				}
			}
		}
	}
	for _, id := range ids {
		t.drop(id)
	}
}
