package owner

import (
	"context"
	"fmt"
	"runtime"
	"time"
	"weak"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Handed-over actors.
//
// A handle passed to another process (in a task's arguments, say) lets
// that process call the actor directly. The actor's creator is the one
// that restarts it when its host dies (recovery.go); a process that was
// handed the actor learns where it went by asking the creator, then sends
// again, in their order, the calls it made that were not answered. The
// host answers a call the creator's replay already ran from the replay's
// result instead of running it twice.

// Borrow returns this process's handle on an actor another process
// created. There is one per actor, so that calls made through any copy
// of the handle keep one order and are sent again in it.
func (ow *Owner) Borrow(id string, class *exec.ActorClass, addr, creator string, gen int) *Actor {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if a := ow.borrowed[id].Value(); a != nil {
		a.learn(addr, gen)
		return a
	}
	a := &Actor{id: id, addr: addr, class: class, creator: creator, gen: gen}
	ow.borrowed[id] = weak.Make(a)
	runtime.AddCleanup(a, ow.dropBorrowed, id)
	if addr == "" {
		// Passed on while being restarted or relocated: calls wait in
		// pending until the creator says where the actor lives.
		go ow.relocate(a, "")
	}
	return a
}

// dropBorrowed forgets a handed-over actor once no handle refers to it.
func (ow *Owner) dropBorrowed(id string) {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if ow.borrowed[id].Value() == nil {
		delete(ow.borrowed, id)
	}
}

// CreatedActor is the handle of an actor this process created, or nil.
func (ow *Owner) CreatedActor(id string) *Actor {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	return ow.actors[id]
}

// borrowedAt lists the handed-over actors last known to live at addr.
func (ow *Owner) borrowedAt(addr string) []*Actor {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	var out []*Actor
	for _, wp := range ow.borrowed {
		if a := wp.Value(); a != nil && a.currentAddr() == addr {
			out = append(out, a)
		}
	}
	return out
}

// borrowedOfCall finds the handed-over actor with call id unanswered in
// its log, which its relocation sends again. (With lineage off the
// creator does not restart the actor, and the relocation fails the call.)
func (ow *Owner) borrowedOfCall(id string) *Actor {
	ow.mu.Lock()
	actors := make([]*Actor, 0, len(ow.borrowed))
	for _, wp := range ow.borrowed {
		if a := wp.Value(); a != nil {
			actors = append(actors, a)
		}
	}
	ow.mu.Unlock()
	return withLoggedCall(actors, id)
}

// learn takes a newer incarnation's address from a handle that arrived.
func (a *Actor) learn(addr string, gen int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen > a.gen && !a.relocating && addr != "" {
		a.addr, a.gen = addr, gen
	}
}

// Whereabouts is what a handle passed on says of the actor: where it
// lives, who created it (self when this process did), its incarnation.
func (a *Actor) Whereabouts(self string) (addr, creator string, gen int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	creator = a.creator
	if a.create != nil {
		creator = self
	}
	return a.addr, creator, a.gen
}

// relocateTimeout bounds how long a handed-over actor's calls wait for
// its creator to say where it lives now.
const relocateTimeout = 60 * time.Second

// relocate finds where a handed-over actor lives after its host at
// deadAddr failed, and sends its unanswered calls there.
func (ow *Owner) relocate(a *Actor, deadAddr string) {
	a.mu.Lock()
	if a.relocating || a.addr != deadAddr || a.deadErr != nil {
		a.mu.Unlock()
		return
	}
	a.relocating, a.addr = true, ""
	gen := a.gen
	a.mu.Unlock()
	addr, newGen, err := ow.askWhere(a, deadAddr, gen)
	if err != nil {
		a.mu.Lock()
		a.relocating = false
		a.mu.Unlock()
		a.failPending(ow, err)
		return
	}
	a.mu.Lock()
	calls := dropAnswered(a.log)
	a.log = nil
	a.mu.Unlock()
	if err := ow.publish(a, addr, newGen, calls); err != nil {
		// Not reached again: the calls are kept; look again.
		time.AfterFunc(ResendDelay, func() { ow.relocate(a, addr) })
	}
}

// askWhere asks the actor's creator where it lives now, until the creator
// names another incarnation than the one at deadAddr, says it is gone, or
// relocateTimeout passes (then the old address is tried again).
func (ow *Owner) askWhere(a *Actor, deadAddr string, gen int) (string, int, *exec.Error) {
	deadline := time.Now().Add(relocateTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		addr, newGen, gone, err := ow.queryWhere(a.creator, a.id, deadAddr, gen)
		switch {
		case err != nil:
			lastErr = err
			if ow.net.IsDead(a.creator) {
				return "", 0, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf(
					"actor %s was lost: its host at %s failed, and the process that created it (at %s), which restarts it, died too",
					a.class.Name(), deadAddr, a.creator)}
			}
		case gone != "":
			return "", 0, &exec.Error{Kind: exec.KindLost, Msg: gone}
		case addr != "":
			// A new incarnation, or the same one: the creator held the
			// question long enough to have seen its host die, so the
			// failure was passing (a broken connection, a redial backoff).
			return addr, newGen, nil
		}
		// Being restarted: ask again.
		time.Sleep(250 * time.Millisecond)
	}
	if lastErr != nil {
		return "", 0, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf(
			"actor %s was lost: its host at %s failed, and the process that created it (at %s) cannot be reached: %v",
			a.class.Name(), deadAddr, a.creator, transport.Plain(lastErr))}
	}
	return deadAddr, gen, nil
}

// queryWhere asks the creator at creator where actor id lives now. gone
// is set when the creator says the actor is gone for good (why).
func (ow *Owner) queryWhere(creator, id, deadAddr string, gen int) (addr string, newGen int, gone string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), whereWait+5*time.Second)
	defer cancel()
	w := &codec.Encoder{}
	w.Byte(wire.QueryActorWhere)
	w.String(id)
	w.String(deadAddr)
	w.Uvarint(uint64(gen))
	reply, err := ow.net.Call(ctx, creator, transport.Query, w.Bytes())
	if err != nil {
		return "", 0, "", err
	}
	r := codec.NewDecoder(reply.Payload)
	addr, newGen, gone = r.String(), int(r.Uvarint()), r.String()
	return addr, newGen, gone, wire.Err(r)
}

// whereWait is how long a creator holds a "where is it" question about
// an actor it still believes alive at the address the asker failed to
// reach: long enough for the heads to declare a dead node dead (4 s) and
// for the creator to notice.
const whereWait = 6 * time.Second

// AnswerWhere says where an actor this process created lives now, waiting
// (up to whereWait) while it is being restarted or still recorded at the
// address the asker found dead.
func (ow *Owner) AnswerWhere(ctx context.Context, id, deadAddr string, gen int) (addr string, newGen int, gone string) {
	a := ow.CreatedActor(id)
	if a == nil {
		return "", 0, fmt.Sprintf("actor %s is not known to the process that created it (it has finished, or was restarted)", id)
	}
	deadline := time.Now().Add(whereWait)
	for {
		a.mu.Lock()
		addr, newGen, dead := a.addr, a.gen, a.deadErr
		a.mu.Unlock()
		switch {
		case dead != nil:
			return "", 0, dead.Msg
		case addr != "" && (addr != deadAddr || newGen > gen):
			return addr, newGen, ""
		case time.Now().After(deadline) || ctx.Err() != nil:
			// Still there as far as the creator knows, or "" while it is
			// being restarted (the asker asks again).
			return addr, newGen, ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}
