package nodeagent

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Spilled tasks travel in batches: one goroutine takes every task waiting
// to spill, asks the global scheduler to place them all in one Place
// message, and sends each node its tasks in one SubmitTask message (plain
// tasks in loose frames, what they share once: group_submit.go). While
// one batch is on the wire the next one gathers, so under load a message
// carries many tasks and the per-message cost does not dominate. A group
// of calls (group.go) is one item of a batch: placed once, by its one
// demand, and sent with the other tasks for its node.

// maxSpillBatch bounds the tasks in one batch.
const maxSpillBatch = 1024

// spillItem is a task or a group of calls (g set, t nil) to place; or,
// with units set, the groups one per-node cut spilled (place_units.go),
// which go in one batch.
type spillItem struct {
	t      *task
	g      *taskGroup
	origin *Node
	units  []spillItem
}

// into appends the item to batch: its units when it has them.
func (it spillItem) into(batch []spillItem) []spillItem {
	if it.units != nil {
		return append(batch, it.units...)
	}
	return append(batch, it)
}

// spill queues a task for the spiller.
func (nw *network) spill(t *task, origin *Node) {
	select {
	case nw.spillCh <- spillItem{t: t, origin: origin}:
	case <-nw.stop:
		t.obj.Complete(exec.None, exec.Errorf(exec.KindCancelled, "the node is stopping"), "")
	}
}

// spillGroup queues a group for the spiller (a unit of a per-node cut
// waits for the others of its cut: place_units.go).
func (nw *network) spillGroup(g *taskGroup, origin *Node) {
	if nw.collectUnit(g, origin) {
		return
	}
	select {
	case nw.spillCh <- spillItem{g: g, origin: origin}:
	case <-nw.stop:
		g.fail(exec.Errorf(exec.KindCancelled, "the node is stopping"))
	}
}

// request is what the global scheduler is asked of the item.
func (it spillItem) request(nw *network) wire.PlaceRequest {
	if it.g != nil {
		return wire.PlaceRequest{Name: it.g.name(), Demand: it.g.demand, Origin: it.origin.ID, ArgBytes: nw.argBytesOf(it.g.args())}
	}
	return nw.placeRequest(it.t, it.origin.ID) // with its placement hint, if any (a group has none)
}

// fail completes the item's calls with err.
func (it spillItem) fail(err *exec.Error) {
	if it.g != nil {
		it.g.fail(err)
		return
	}
	it.t.obj.Complete(exec.None, err, "")
}

// enqueue queues the item on its origin node.
func (it spillItem) enqueue() {
	if it.g != nil {
		it.origin.enqueueGroup(it.g)
		return
	}
	it.origin.enqueue(it.t)
}

// spillLoop places and sends spilled tasks in batches until stopped.
func (nw *network) spillLoop() {
	defer safe.Survive("the task spiller", nw.stop, nw.spillLoop, nw.spillDone)
	for {
		var batch []spillItem
		select {
		case it := <-nw.spillCh:
			batch = it.into(batch)
		case <-nw.stop:
			return
		}
	gather:
		for len(batch) < maxSpillBatch {
			select {
			case it := <-nw.spillCh:
				batch = it.into(batch)
			default:
				break gather
			}
		}
		nw.spillBatch(batch)
	}
}

func (nw *network) spillBatch(batch []spillItem) {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			for _, it := range batch {
				if it.g != nil {
					for _, t := range it.g.tasks {
						internalError(t.obj, r)
					}
					continue
				}
				internalError(it.t.obj, r)
			}
		}
	}()
	byAddr := dispatches{}
	batch = nw.sendToTemplatePlaces(batch, byAddr)
	batch = nw.spreadOnView(batch, byAddr) // place_view.go: spread calls, no Place round trip
	batch = nw.placeOnView(batch, byAddr)  // view.go: bottom-up
	if len(batch) > 0 {
		nw.placeAndSort(ctx, batch, byAddr)
	}
	nw.dispatchAll(ctx, byAddr)
}

// dispatchAll sends each node its part of a batch (sendEach).
func (nw *network) dispatchAll(ctx context.Context, byAddr dispatches) {
	sendEach(byAddr, func(addr string, d *dispatch) { nw.dispatchUnits(ctx, addr, d.tasks, d.groups) })
}

// sendEach calls send for each node's part of a batch, the nodes at
// once: each on its own goroutine (the last on this one), so that no
// node waits for another's answer before its tasks start (a frame is a
// call, answered once the node has taken its tasks in, and on a busy
// machine that answer can take a scheduling slice). It returns when
// every send has.
func sendEach(byAddr dispatches, send func(addr string, d *dispatch)) {
	var wg sync.WaitGroup
	left := len(byAddr)
	for addr, d := range byAddr {
		left--
		if left == 0 {
			send(addr, d)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer d.failOnPanic()
			send(addr, d)
		}()
	}
	wg.Wait()
}

// sendToTemplatePlaces sorts into byAddr the tasks of the batch that go
// where the same call of their template loop went before (template.go),
// and returns the others, to be placed.
func (nw *network) sendToTemplatePlaces(batch []spillItem, byAddr dispatches) []spillItem {
	rest := batch[:0:0]
	for _, it := range batch {
		if it.t == nil || it.t.call.Slot == 0 {
			rest = append(rest, it)
			continue
		}
		addr := nw.c.templates.lookup(it.t.call)
		if addr == "" || nw.isDead(addr) {
			rest = append(rest, it)
			continue
		}
		byAddr.add(addr, it)
	}
	return rest
}

// placeAndSort asks the global scheduler where the items of the batch
// go, and sorts them into byAddr (or queues them here, or fails them).
func (nw *network) placeAndSort(ctx context.Context, batch []spillItem, byAddr dispatches) {
	reqs := make([]wire.PlaceRequest, len(batch))
	for i, it := range batch {
		reqs[i] = it.request(nw)
	}
	results, err := nw.placeBatch(ctx, reqs)
	if err != nil {
		for _, it := range batch {
			it.fail(exec.Errorf(exec.KindResource, "cannot reach the global scheduler: %v", transport.Plain(err)))
		}
		return
	}
	for i, it := range batch {
		res := results[i]
		switch {
		case res.Err != nil:
			it.fail(exec.Errorf(exec.KindResource, "%v", res.Err))
		case res.Node == it.origin.ID || res.Addr == nw.addr:
			it.enqueue()
		default:
			if it.t != nil {
				nw.c.templates.remember(it.t.call, res.Addr)
			}
			byAddr.add(res.Addr, it)
		}
	}
}

// dispatches is what one batch sends each node, by address.
type dispatches map[string]*dispatch

// add adds an item to what goes to addr.
func (m dispatches) add(addr string, it spillItem) {
	d := m[addr]
	if d == nil {
		d = &dispatch{}
		m[addr] = d
	}
	if it.g != nil {
		d.groups = append(d.groups, it.g)
	} else {
		d.tasks = append(d.tasks, it.t)
	}
}

// dispatch is what one batch sends one node: tasks and groups.
type dispatch struct {
	tasks  []*task
	groups []*taskGroup
}

// failOnPanic fails the calls of d with an internal error if the
// goroutine sending them panics (a bug), as spillBatch does for the
// spiller's own.
func (d *dispatch) failOnPanic() {
	r := recover()
	if r == nil {
		return
	}
	for _, t := range d.tasks {
		internalError(t.obj, r)
	}
	for _, g := range d.groups {
		for _, t := range g.tasks {
			internalError(t.obj, r)
		}
	}
}

// argBytesOf says where the futures among a task's arguments live and
// how large they are, summed by process, for the global scheduler's
// locality score. A future passed twice counts once. Left out: plain
// values (they travel with the task) and futures whose size is unknown
// or small (handed here inside another value, or sent inline).
func (nw *network) argBytesOf(args []exec.Value) []wire.ArgBytesAt {
	var held []wire.ArgBytesAt
	var seen map[*objstore.Object]bool
	for _, a := range args {
		if a.Kind() != exec.FutureKind {
			continue
		}
		o := objstore.ObjectOf(a.AsFuture())
		if o == nil || seen[o] {
			continue
		}
		addr, size := o.WhereAndSize()
		if size <= InlineLimit {
			continue
		}
		if seen == nil {
			seen = map[*objstore.Object]bool{}
		}
		seen[o] = true
		if addr == "" {
			addr = nw.addr
		}
		held = addArgBytes(held, addr, size)
	}
	return held
}

// addArgBytes adds size bytes at addr to held.
func addArgBytes(held []wire.ArgBytesAt, addr string, size int64) []wire.ArgBytesAt {
	for i := range held {
		if held[i].Addr == addr {
			held[i].Bytes = resources.SatAdd(held[i].Bytes, size)
			return held
		}
	}
	return append(held, wire.ArgBytesAt{Addr: addr, Bytes: size})
}

// dispatchBatch sends tasks whose arguments are ready to the node at
// addr in one message; each completes when its TaskDone arrives.
func (nw *network) dispatchBatch(ctx context.Context, addr string, tasks []*task) {
	nw.dispatchUnits(ctx, addr, tasks, nil)
}

// dispatchUnits sends tasks and groups whose outside arguments are ready
// to the node at addr, in as few SubmitTask frames as fit (cut between
// units, never inside a group). Each call of a group is a message of its
// own marked with the group's name; each call completes when its TaskDone
// arrives.
func (nw *network) dispatchUnits(ctx context.Context, addr string, tasks []*task, groups []*taskGroup) {
	nw.knowLife(addr)
	var f submitFrame
	add := func(msgs [][]byte, calls []*task) {
		size := 0
		for _, m := range msgs {
			size += len(m) + binary.MaxVarintLen64
		}
		if f.size > 0 && f.size+size > maxFrameBytes {
			nw.sendFrame(ctx, addr, f)
			f = submitFrame{}
		}
		f.msgs = append(f.msgs, msgs...)
		f.calls = append(f.calls, calls...)
		f.size += size
	}
	msgs, sent, rest := nw.looseFrames(tasks, addr) // group_submit.go: what tasks share travels once
	for i, msg := range msgs {
		add([][]byte{msg}, sent[i])
	}
	for _, t := range rest {
		if msg := nw.taskMessage(t, addr); msg != nil {
			add([][]byte{msg}, []*task{t})
		}
	}
	for _, g := range groups {
		if msg, handled := nw.groupSubmit(g, addr); handled { // group_submit.go: one message
			if msg != nil {
				add([][]byte{msg}, g.tasks)
			}
			continue
		}
		if msgs, ok := nw.groupMessages(g, addr); ok {
			add(msgs, g.tasks)
		}
	}
	if len(f.msgs) > 0 {
		nw.sendFrame(ctx, addr, f)
	}
}

// maxFrameBytes bounds the messages of one SubmitTask frame, well under
// the transport's frame limit, unless one group alone is larger.
const maxFrameBytes = 16 << 20

// maxGroupBytes bounds the messages of a group sent whole; the calls of
// a larger group (large arguments inline) go alone. A variable for the
// tests.
var maxGroupBytes = 32 << 20

// submitFrame is the messages of one SubmitTask frame and the calls
// they send.
type submitFrame struct {
	msgs  [][]byte
	calls []*task
	size  int
}

// sendFrame sends a frame; its calls are placed again if it cannot be.
func (nw *network) sendFrame(ctx context.Context, addr string, f submitFrame) {
	if _, err := nw.pool.Call(ctx, addr, transport.SubmitTask, wire.EncodeSubmits(f.msgs)); err != nil {
		for _, t := range f.calls {
			nw.sendFailed(t, addr, err)
		}
	}
}

// taskMessage encodes the message that sends t to the node at addr, and
// awaits its result from there; nil when t cannot be sent (t has
// failed).
func (nw *network) taskMessage(t *task, addr string) []byte {
	msg := nw.taskSubmit(t, addr, nil)
	if msg == nil {
		return nil
	}
	msg.Lineage = nw.c.lineage.forward(t.call.ID, addr)
	return msg.Encode()
}

// taskSubmit is the message of taskMessage without its lineage, for a
// call of a group when members (the objects of the group's calls) is
// set; nil when t cannot be sent (t has failed).
func (nw *network) taskSubmit(t *task, addr string, members map[*objstore.Object]bool) *wire.Submit {
	if nw.unsendable(t) {
		return nil
	}
	msg := &wire.Submit{Kind: wire.SubmitTask, ID: t.call.ID, ActorID: t.bound, Owner: nw.addr, Function: t.call.Ref(),
		Resources: t.call.Resources(), Output: nw.outputAddr(t.output)}
	if err := nw.fillGroupTask(msg, t.call, members, addr); err != nil {
		t.obj.Complete(exec.None, err, "")
		return nil
	}
	msg.Replay = encodeReplay(t.replay)
	nw.ow.Await(t.obj, addr)
	nw.ow.Remember(t)
	return msg
}

// groupMessages encodes the messages of a group's calls for the node at
// addr, each marked with the group's name (its first call's ID), the
// lineage of them all with the first. It returns false when a call
// cannot be sent (it has failed) or the group is too large to send
// whole: then the group's other calls go alone, each once the futures it
// takes are ready.
func (nw *network) groupMessages(g *taskGroup, addr string) ([][]byte, bool) {
	members := g.members()
	subs := make([]*wire.Submit, 0, len(g.tasks))
	ids := make([]string, 0, len(g.tasks))
	for _, t := range g.tasks {
		msg := nw.taskSubmit(t, addr, members)
		if msg == nil {
			nw.sendAlone(g.tasks, t)
			return nil, false
		}
		msg.Group = g.tasks[0].call.ID
		subs = append(subs, msg)
		ids = append(ids, t.call.ID)
	}
	msgs := make([][]byte, len(subs))
	size := 0
	for i, msg := range subs[1:] {
		msgs[i+1] = msg.Encode()
		size += len(msgs[i+1])
	}
	if size > maxGroupBytes {
		// Checked before the lineage is forwarded: the stash would hold
		// that the node has what was never sent.
		nw.sendAlone(g.tasks, nil)
		return nil, false
	}
	subs[0].Lineage = nw.c.lineage.forwardGroup(ids, addr)
	msgs[0] = subs[0].Encode()
	return msgs, true
}

// unsendable reports whether t must not be sent to another node: it was
// cancelled (stopIfCancelled), or an argument of it failed, and then t
// is failed here with that argument's error.
func (nw *network) unsendable(t *task) bool {
	if nw.c.stopIfCancelled(t) {
		return true
	}
	if err := owner.FailedDependency(t.obj.Name(), t.call.Args); err != nil {
		nw.c.stats.Failed.Add(1)
		nw.c.Head().taskCounts(t.call.Name()).Failed.Add(1)
		t.obj.Complete(exec.None, err, "")
		return true
	}
	return false
}

// sendAlone places the calls of a group that cannot go whole again, each
// alone once the futures it takes are ready; failed, a call that could
// not be sent (it has failed), is left out.
func (nw *network) sendAlone(calls []*task, failed *task) {
	for _, t := range calls {
		if t != failed {
			nw.ow.TakeAwaited(t.call.ID)
			nw.respill(t)
		}
	}
}

// maxSendFailures bounds how often a task is placed again because its
// node could not be reached; at resendDelay apart this outlasts the time
// the heads take to declare a dead node dead.
const (
	maxSendFailures = owner.MaxSendFailures
	resendDelay     = owner.ResendDelay
)

// sendFailed handles a task that could not be sent to its node: the node
// probably died and the heads have not said so yet, so the task is
// placed again a little later.
func (nw *network) sendFailed(t *task, addr string, err error) {
	nw.ow.TakeAwaited(t.call.ID)
	nw.c.templates.forget(addr)
	t.sendFailures++
	if t.sendFailures > maxSendFailures {
		t.obj.Complete(exec.None, &exec.Error{Kind: exec.KindLost,
			Msg: fmt.Sprintf("%s was lost: the node at %s could not be reached: %v", t.obj.Name(), addr, transport.Plain(err))}, "")
		return
	}
	time.AfterFunc(resendDelay, func() { nw.respill(t) })
}

// respill places a task of this process again, once the futures it takes
// are ready: a call of a group was sent before the earlier calls of its
// group it takes had run, and runs again alone.
func (nw *network) respill(t *task) {
	t.viaHead = true // given back or failed once: the head, which sees every node, decides
	whenArgsReady(t.call.Args, func() { nw.spill(t, nw.c.Head()) })
}

// handleSubmitBatch accepts the messages of one SubmitTask frame. The
// consecutive calls marked with one group's name run as that group.
func (nw *network) handleSubmitBatch(payload []byte) error {
	var group []*wire.Submit
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	flush := func() {
		if len(group) > 0 {
			keep(nw.runGroupForOwner(group))
			group = nil
		}
	}
	err := wire.EachSubmit(payload, func(b []byte) error {
		if wire.IsGroup(b) {
			flush()
			gm, err := wire.DecodeGroupSubmit(b)
			if err != nil {
				return err
			}
			return nw.runGroupSubmit(gm)
		}
		m, err := wire.DecodeSubmit(b)
		if err != nil {
			return err
		}
		if len(group) > 0 && m.Group != group[0].Group {
			flush()
		}
		if m.Kind == wire.SubmitTask && m.Group != "" {
			group = append(group, m)
			return nil
		}
		return nw.handleMessage(m)
	})
	flush()
	if err != nil {
		return err
	}
	return firstErr
}

// runGroupForOwner runs the calls of a group another process sent, in
// order on one worker slot of this node (a taskGroup), once the futures
// they take from outside the group are ready; a call taking an earlier
// call's future reads its value here. Each call reports its own result
// to its owner. A call that cannot run here fails for its owner, and the
// calls taking its future fail as they would alone.
func (nw *network) runGroupForOwner(ms []*wire.Submit) error {
	made := make(map[string]*objstore.Object, len(ms))
	dones := &doneList{nw: nw, owner: ms[0].Owner, calls: -1}
	g := &taskGroup{tasks: make([]*task, 0, len(ms)), run: groupRun{dones: dones}}
	var outside []exec.Value
	for _, m := range ms {
		prog, args, refused, err := nw.prepare(m, made)
		if err != nil {
			// Nothing of the group has started: its owner sends each
			// call again.
			return err
		}
		if refused != nil {
			made[m.ID] = refused
			continue
		}
		t, failed := nw.taskForOwner(prog, m, dones)
		if t == nil {
			made[m.ID] = failed
			continue
		}
		t.call.Args = args
		for _, a := range args {
			if a.Kind() == exec.FutureKind && made[a.AsFuture().ID()] != objstore.ObjectOf(a.AsFuture()) {
				outside = append(outside, a)
			}
		}
		made[m.ID] = t.obj
		g.demand = t.demand
		g.add(t)
	}
	nw.enqueueReceivedGroup(g, dones, outside)
	return nil
}

// enqueueReceivedGroup queues a group received from its owner on this
// node once its arguments from outside it are ready; dones reports its
// calls' results, as many as it has. It reports false when none of its
// calls could run (each failed for its owner already).
func (nw *network) enqueueReceivedGroup(g *taskGroup, dones *doneList, outside []exec.Value) bool {
	dones.expect(len(g.tasks))
	if len(g.tasks) == 0 {
		return false
	}
	nw.groupsIn.Add(1)
	n := nw.c.Head()
	whenArgsReady(outside, func() { n.enqueueGroup(g) })
	return true
}
