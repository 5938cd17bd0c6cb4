package nodeagent

import (
	"context"
	"fmt"
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
// message, and sends each node its tasks in one SubmitTask message. While
// one batch is on the wire the next one gathers, so under load a message
// carries many tasks and the per-message cost does not dominate.

// maxSpillBatch bounds the tasks in one batch.
const maxSpillBatch = 1024

type spillItem struct {
	t      *task
	origin *Node
}

// spill queues a task for the spiller.
func (nw *network) spill(t *task, origin *Node) {
	select {
	case nw.spillCh <- spillItem{t, origin}:
	case <-nw.stop:
		t.obj.Complete(exec.None, exec.Errorf(exec.KindCancelled, "the node is stopping"), "")
	}
}

// spillLoop places and sends spilled tasks in batches until stopped.
func (nw *network) spillLoop() {
	defer safe.Survive("the task spiller", nw.stop, nw.spillLoop, nw.spillDone)
	for {
		var batch []spillItem
		select {
		case it := <-nw.spillCh:
			batch = append(batch, it)
		case <-nw.stop:
			return
		}
	gather:
		for len(batch) < maxSpillBatch {
			select {
			case it := <-nw.spillCh:
				batch = append(batch, it)
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
				internalError(it.t.obj, r)
			}
		}
	}()
	reqs := make([]wire.PlaceRequest, len(batch))
	for i, it := range batch {
		reqs[i] = nw.placeRequest(it.t, it.origin.ID)
	}
	results, err := nw.placeBatch(ctx, reqs)
	if err != nil {
		for _, it := range batch {
			it.t.obj.Complete(exec.None, exec.Errorf(exec.KindResource, "cannot reach the global scheduler: %v", transport.Plain(err)), "")
		}
		return
	}
	byAddr := map[string][]*task{}
	for i, it := range batch {
		res := results[i]
		switch {
		case res.Err != nil:
			it.t.obj.Complete(exec.None, exec.Errorf(exec.KindResource, "%v", res.Err), "")
		case res.Node == it.origin.ID || res.Addr == nw.addr:
			it.origin.enqueue(it.t)
		default:
			byAddr[res.Addr] = append(byAddr[res.Addr], it.t)
		}
	}
	for addr, tasks := range byAddr {
		nw.dispatchBatch(ctx, addr, tasks)
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
	nw.knowLife(addr)
	var msgs [][]byte
	var sent []*task
	for _, t := range tasks {
		msg := &wire.Submit{Kind: wire.SubmitTask, ID: t.call.ID, Owner: nw.addr, Function: t.call.Name(),
			Resources: t.call.Resources(), Output: nw.outputAddr(t.output)}
		if err := nw.fillTask(msg, t.call); err != nil {
			t.obj.Complete(exec.None, err, "")
			continue
		}
		msg.Lineage = nw.c.lineage.forward(t.call.ID, addr)
		msg.Replay = encodeReplay(t.replay)
		nw.ow.Await(t.obj, addr)
		nw.ow.Remember(t)
		msgs = append(msgs, msg.Encode())
		sent = append(sent, t)
	}
	if len(sent) == 0 {
		return
	}
	if _, err := nw.pool.Call(ctx, addr, transport.SubmitTask, wire.EncodeSubmits(msgs)); err != nil {
		for _, t := range sent {
			nw.sendFailed(t, addr, err)
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
	t.sendFailures++
	if t.sendFailures > maxSendFailures {
		t.obj.Complete(exec.None, &exec.Error{Kind: exec.KindLost,
			Msg: fmt.Sprintf("%s was lost: the node at %s could not be reached: %v", t.obj.Name(), addr, transport.Plain(err))}, "")
		return
	}
	time.AfterFunc(resendDelay, func() { nw.spill(t, nw.c.Head()) })
}

// handleSubmitBatch accepts the messages of one SubmitTask frame.
func (nw *network) handleSubmitBatch(payload []byte) error {
	return wire.EachSubmit(payload, nw.handleSubmit)
}
