package objstore

import (
	"testing"
	"unsafe"

	"github.com/rayflow/rayflow/exec"
)

// An Object stays in the 128-byte size class: a million queued tasks keep
// a million of them (issue 15: ~400 bytes a queued task).
func TestObjectIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(Object{}); n > 128 {
		t.Fatalf("an Object is %d bytes, want at most 128", n)
	}
}

// A task's result made, completed and read here, with a waiter, never
// makes a far record or a done channel: those are for objects whose value
// lives elsewhere and for readers that block.
func TestLocalObjectMakesNoFarRecordNorChannel(t *testing.T) {
	o := NewObject("t.1", "task f")
	var order []int
	o.OnReady(func() { order = append(order, 1) })
	o.OnReady(func() { order = append(order, 2) })
	o.OnReady(func() { order = append(order, 3) })
	o.MarkShared()
	o.SetOrder(7)
	o.SetOwner("")
	o.SetBig(nil)
	o.Complete(exec.Int(5), nil, "")
	if v, err := o.Result(); err != nil || v != exec.Int(5) {
		t.Fatalf("Result = %v, %v", v, err)
	}
	if o.Done() != closedDone {
		t.Fatal("a ready object's Done is not the shared closed channel")
	}
	if o.far.Load() != nil || o.done != nil {
		t.Fatalf("far record %v, done channel %v: want neither", o.far.Load(), o.done)
	}
	if len(order) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 3 {
		t.Fatalf("waiters ran in the order %v, want 1 2 3", order)
	}
	if !o.IsReady() || o.Order() != 7 {
		t.Fatalf("ready %v, order %d: want true, 7", o.IsReady(), o.Order())
	}
	if o.SharedLocation() != "" || o.Owner() != "" {
		t.Fatal("a local object names another process")
	}
}

// The bits of the state are independent: the order keeps the ready and
// shared bits, and they keep the order.
func TestObjectStateBits(t *testing.T) {
	o := NewObject("t.2", "method m")
	o.SetOrder(1 << 40)
	o.MarkShared()
	o.Complete(exec.None, nil, "")
	o.SetOrder(3)
	if o.Order() != 3 || !o.IsReady() || o.state.Load()&sharedBit == 0 {
		t.Fatalf("order %d ready %v state %b", o.Order(), o.IsReady(), o.state.Load())
	}
}
