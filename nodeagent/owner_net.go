package nodeagent

import (
	"context"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// ownerNet is the network as the owner sees it (owner.Network): the
// methods the owner calls, each delegating to the network or its
// cluster. It also encodes and decodes references (the network's
// EncodeRef and DecodeRef).
type ownerNet struct{ *network }

var _ owner.Network = ownerNet{}

func (n ownerNet) Addr() string       { return n.addr }
func (n ownerNet) NodeID() string     { return n.c.Head().ID }
func (n ownerNet) Driver() bool       { return n.cfg.Driver }
func (n ownerNet) KeepsLineage() bool { return n.c.keepsLineage() }

// LineageStore is the GCS the lineage is read back from, or nil when no
// lineage is kept.
func (n ownerNet) LineageStore() stash.Store {
	if n.c.lineage == nil || !n.c.keepsLineage() {
		return nil
	}
	return n.c.lineage.store
}

func (n ownerNet) AskStashes(ids []string) stash.Bundle { return n.askStashes(ids) }

// FitsHere reports whether demand fits in this node's free resources.
func (n ownerNet) FitsHere(demand resources.Resources) bool {
	return demand.Fits(n.c.Head().state().Available)
}

func (n ownerNet) Place(ctx context.Context, name string, demand resources.Resources, origin, spread string) (string, string, error) {
	return n.place(ctx, name, demand, origin, spread)
}

func (n ownerNet) ActorSpread(class *exec.ActorClass) string { return actorSpread(class) }

func (n ownerNet) FillCall(msg *wire.Submit, prog *exec.Program, args []exec.Value) *exec.Error {
	return n.fillCall(msg, prog, args)
}

func (n ownerNet) ArgValue(a wire.Arg) (exec.Value, error) { return n.argValue(a) }
func (n ownerNet) KnowLife(addr string)                    { n.knowLife(addr) }
func (n ownerNet) IsDead(addr string) bool                 { return n.isDead(addr) }

func (n ownerNet) Call(ctx context.Context, addr string, typ transport.MsgType, payload []byte) (*transport.Message, error) {
	return n.pool.Call(ctx, addr, typ, payload)
}

func (n ownerNet) Send(addr string, typ transport.MsgType, payload []byte) error {
	return n.pool.Send(addr, typ, payload)
}

// Grouped reports whether the task is a call of a group, whose lineage
// is its group's (owner.Grouped).
func (t *task) Grouped() bool { return t.group != nil }

var _ owner.Grouped = (*task)(nil)

// DeleteLineage asks every head to delete the tasks' rows (each deletes
// on the GCS shards it leads), at most releaseTimeout.
func (n ownerNet) DeleteLineage(ids []string) {
	if !n.c.keepsLineage() || len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	payload := append([]byte{wire.GCSDeleteTasks}, wire.EncodeStrings(ids...)...)
	for _, addr := range n.hc.Order() {
		n.hc.CallAt(ctx, addr, transport.GCSRequest, payload)
	}
}

func (n ownerNet) Fetch(id, addr string) (exec.Value, *exec.Error) { return n.fetch(id, addr) }

// Spill places a task of this process again through the global
// scheduler, from this process's node, once the futures it takes are
// ready (a call of a group may take an earlier call's, run again too):
// given back by a busy node, or run again after a failure, it goes
// wherever there is room, without its placement hint.
func (n ownerNet) Spill(t owner.Task) {
	tk := t.(*task)
	tk.hint = nil
	n.respill(tk)
}
