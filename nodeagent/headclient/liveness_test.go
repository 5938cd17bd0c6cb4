package headclient

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func table(head string, rows ...NodeState) ReadFunc {
	return func(context.Context) (string, []NodeState, error) { return head, rows, nil }
}

func TestLivenessReportsEachDeathOnce(t *testing.T) {
	l := NewLiveness()
	ctx := context.Background()
	a := NodeState{Addr: "a:1", State: "alive", Epoch: "1"}
	b := NodeState{Addr: "b:1", State: "alive", Epoch: "1"}
	if got := l.Look(ctx, table("h", a, b)); len(got) != 0 {
		t.Fatalf("first look reported %v dead", got)
	}
	if !l.Known("a:1") || l.Known("c:1") {
		t.Fatal("Known does not follow the looks")
	}
	died := l.Died("b:1")
	bDead := NodeState{Addr: "b:1", State: "dead", Epoch: "1"}
	if got := l.Look(ctx, table("h", a, bDead)); !slices.Equal(got, []string{"b:1"}) {
		t.Fatalf("look after b died reported %v", got)
	}
	select {
	case <-died:
	default:
		t.Fatal("Died(b) was not closed when b was declared dead")
	}
	if !l.IsDead("b:1") {
		t.Fatal("b is not dead")
	}
	if got := l.Look(ctx, table("h", a, bDead)); len(got) != 0 {
		t.Fatalf("the same death was reported again: %v", got)
	}
	select {
	case <-l.Died("b:1"):
	default:
		t.Fatal("Died of a dead node is not closed")
	}
	// A failed read reports nothing and changes nothing.
	if got := l.Look(ctx, func(context.Context) (string, []NodeState, error) { return "", nil, errors.New("no head") }); got != nil {
		t.Fatalf("a failed read reported %v", got)
	}
}

// A node restarted on the same port between two looks shows as a new
// epoch: its earlier life died, once, and the address is alive again.
func TestLivenessSeesRestartOnSamePort(t *testing.T) {
	l := NewLiveness()
	ctx := context.Background()
	l.Look(ctx, table("h", NodeState{Addr: "a:1", State: "alive", Epoch: "1"}))
	died := l.Died("a:1")
	restarted := table("h", NodeState{Addr: "a:1", State: "alive", Epoch: "2"})
	if got := l.Look(ctx, restarted); !slices.Equal(got, []string{"a:1"}) {
		t.Fatalf("restart reported %v, want a:1 once", got)
	}
	select {
	case <-died:
		t.Fatal("a new life at a:1 ended the waits on the address")
	default:
	}
	if got := l.Look(ctx, restarted); len(got) != 0 {
		t.Fatalf("restart reported again: %v", got)
	}
	if l.IsDead("a:1") {
		t.Fatal("the new life at a:1 is taken for dead")
	}
	// The old life's dead row next to the new live one was counted with
	// the restart: it is not reported again, at any look.
	withOld := table("h", NodeState{Addr: "a:1", State: "dead", Epoch: "1"}, NodeState{Addr: "a:1", State: "alive", Epoch: "2"})
	for i := range 2 {
		if got := l.Look(ctx, withOld); len(got) != 0 {
			t.Fatalf("look %d reported the dead life again: %v", i+1, got)
		}
	}
}
