package owner

import (
	"context"
	"fmt"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// Recovery from dead nodes, on the owner's side.
//
// The process that called a task (its owner) keeps the task's
// specification while the task runs elsewhere and while its value lives
// elsewhere. The heads push every membership change to the processes
// connected to them; on each push (and every 2 s, in case a push was
// lost) a watcher asks the heads which nodes are dead. Then:
//
//   - a task that was running or queued on a dead node is sent again
//     (to wherever the global scheduler now places it), up to its
//     @retries count (3 by default);
//   - a value that lived on a dead node is rebuilt when it is next
//     read, by running its task again; the task's own arguments are
//     rebuilt first if they were lost too, so re-execution goes back
//     only as far as needed. Task IDs are deterministic, so the rebuilt
//     task makes the same child IDs;
//   - an actor declared @restarts(n) is created again on another node and
//     its state restored by replaying, in order, the method calls this
//     process made on it; calls still waiting are then sent to the new
//     actor, so callers see a delay, not an error.
//
// Without lineage (--lineage=off) nothing is kept and such failures are
// errors that name the node, the task and the reason.

// defaultSystemRetries is how often a task is re-run when its node dies,
// unless @retries says otherwise.
const defaultSystemRetries = 3

// lineageEntry is what the owner keeps of a task it sent away.
type lineageEntry struct {
	t        Task
	attempts int
}

// Remember keeps a task's specification while it, or its value, lives
// elsewhere.
func (ow *Owner) Remember(t Task) {
	ow.mu.Lock()
	ow.lineage.put(t)
	ow.mu.Unlock()
}

// lineageOf is id's lineage entry and its task (nil, nil when none is
// kept), read under mu. A group's entry is cleared in place when its
// call is dropped (tables.go), so the task is read here, once, and not
// through the entry after mu is let go.
func (ow *Owner) lineageOf(id string) (*lineageEntry, Task) {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	entry := ow.lineage.get(id)
	if entry == nil {
		return nil, nil
	}
	return entry, entry.t
}

// forget drops a task's lineage once its value is held here, and
// returns the task whose lineage it was (nil when none was kept).
func (ow *Owner) forget(id string) Task {
	ow.mu.Lock()
	t := ow.lineage.drop(id)
	ow.mu.Unlock()
	return t
}

// NodeDied re-runs what was running on the node at addr and restarts its
// actors.
func (ow *Owner) NodeDied(addr string) {
	ow.awaitMu.Lock()
	var orphans []string
	ow.awaited.each(func(id string, r awaitedResult) {
		if r.sentTo == addr {
			orphans = append(orphans, id)
		}
	})
	ow.awaitMu.Unlock()
	for _, id := range orphans {
		go ow.retryInFlight(id, addr) // it may gather the task's outcomes: off the watcher
	}
	ow.mu.Lock()
	var actors []*Actor
	for _, a := range ow.actors {
		if a.currentAddr() == addr {
			actors = append(actors, a)
		}
	}
	ow.mu.Unlock()
	for _, a := range actors {
		go ow.restartActor(a, addr)
	}
	for _, a := range ow.borrowedAt(addr) {
		go ow.relocate(a, addr)
	}
}

// retryInFlight sends a task that was running on a dead node again.
func (ow *Owner) retryInFlight(id, deadAddr string) {
	ow.awaitMu.Lock()
	r := ow.awaited.get(id)
	obj := r.obj
	if r.sentTo != deadAddr {
		ow.awaitMu.Unlock()
		return
	}
	ow.awaitMu.Unlock()
	if obj == nil {
		return
	}
	entry, t := ow.lineageOf(id)
	if entry == nil || t.Object() != obj {
		if !ow.restartable(id) && ow.borrowedOfCall(id) == nil {
			ow.failOwned(obj, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost: the node at %s died while it ran", obj.Name(), deadAddr)})
		}
		return // a method call of an actor with restarts: the restart (or the relocation) resends it
	}
	if err := ow.allowRetry(entry, t, deadAddr); err != nil {
		ow.failOwned(obj, err)
		return
	}
	ow.awaitMu.Lock()
	ow.takeAwaitedLocked(id)
	ow.awaitMu.Unlock()
	ow.loadReplay(t)
	ow.net.Spill(t)
}

// allowRetry counts one more attempt of t, the task of entry, or says
// why there is none.
func (ow *Owner) allowRetry(entry *lineageEntry, t Task, deadAddr string) *exec.Error {
	limit := defaultSystemRetries
	if info := t.Call().Info(); info != nil && info.Retries >= 0 {
		limit = info.Retries
	}
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if !ow.net.KeepsLineage() {
		return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost with the node at %s, and lineage is off (--lineage=off), so it cannot be run again", t.Object().Name(), deadAddr)}
	}
	if entry.attempts >= limit {
		return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost with the node at %s after %d retries (@retries(%d))", t.Object().Name(), deadAddr, entry.attempts, limit)}
	}
	entry.attempts++
	return nil
}

func (ow *Owner) failOwned(obj *objstore.Object, err *exec.Error) {
	ow.awaitMu.Lock()
	ow.takeAwaitedLocked(obj.ID())
	ow.awaitMu.Unlock()
	obj.Complete(exec.None, err, "")
}

// rebuild runs again the task that made a value lost with its node, and
// returns the value. Arguments lost too are rebuilt first.
func (ow *Owner) rebuild(o *objstore.Object, deadAddr string, cause *exec.Error) (exec.Value, *exec.Error) {
	entry, t := ow.lineageOf(o.ID())
	if entry == nil {
		return ow.fetchFromOwner(o, deadAddr, cause)
	}
	if err := ow.allowRetry(entry, t, deadAddr); err != nil {
		return exec.None, err
	}
	for _, a := range t.Call().Args {
		if a.Kind() == exec.FutureKind {
			if dep := objstore.ObjectOf(a.AsFuture()); dep != nil {
				if _, err := dep.Result(); err != nil {
					return exec.None, err
				}
			}
		}
	}
	again := t.Again()
	ow.loadReplay(again)
	ow.mu.Lock()
	if ow.lineage.get(o.ID()) == entry { // not dropped meanwhile: a group's cleared entry stays cleared
		entry.t = again
	}
	ow.mu.Unlock()
	ow.net.Spill(again)
	<-again.Object().Done()
	return again.Object().Result()
}

// fetchFromOwner asks the owner of a value passed here inside another
// value for it, when the process that held it is gone: the owner keeps
// its lineage and rebuilds it.
func (ow *Owner) fetchFromOwner(o *objstore.Object, deadAddr string, cause *exec.Error) (exec.Value, *exec.Error) {
	if o.Owner() == "" || o.Owner() == deadAddr || o.Owner() == ow.net.Addr() {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s; no lineage of it is kept here, so it cannot be rebuilt", cause.Msg)}
	}
	v, err := ow.net.Fetch(o.ID(), o.Owner())
	if err != nil && err.Kind != exec.KindLost {
		return exec.None, err // the object failed: its own error
	}
	if err != nil {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s; its owner at %s could not rebuild it either: %s", cause.Msg, o.Owner(), err.Msg)}
	}
	return v, nil
}

// currentAddr is where the actor lives now.
func (a *Actor) currentAddr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// restartActor recreates an actor whose node died and replays its calls.
func (ow *Owner) restartActor(a *Actor, deadAddr string) {
	a.mu.Lock()
	if deadAddr == "" || a.addr != deadAddr {
		a.mu.Unlock()
		return // being restarted already, or restarted since
	}
	if a.restartsLeft <= 0 || !ow.net.KeepsLineage() {
		why := fmt.Sprintf("actor %s died with the node at %s and has no restarts left (declare it @restarts(n) to have it recreated)", a.class.Name(), deadAddr)
		if !ow.net.KeepsLineage() {
			why = fmt.Sprintf("actor %s died with the node at %s, and lineage is off (--lineage=off), so it cannot be restarted", a.class.Name(), deadAddr)
		}
		a.deadErr = &exec.Error{Kind: exec.KindLost, Msg: why}
		a.mu.Unlock()
		a.failPending(ow, a.deadErr)
		return
	}
	a.restartsLeft--
	a.addr = "" // calls made meanwhile wait in pending
	oldKey := actorhost.Key(a.id, a.gen)
	a.mu.Unlock()
	for attempt := 0; ; attempt++ {
		addr, err := ow.createActorAt(a)
		if err == nil {
			err = ow.replay(a, addr)
		}
		if err == nil {
			a.mu.Lock()
			gen := a.gen + 1
			a.mu.Unlock()
			ow.publish(a, addr, gen, nil) // a failure shows as the new host's death
			// The earlier incarnation may still run, on a node declared
			// dead while alive (cut off from the heads): stop it, so that
			// it gives its resources back. Its node may be gone: best
			// effort, off this path.
			go ow.net.Send(deadAddr, transport.SubmitTask, wire.One(&wire.Submit{Kind: wire.SubmitStop, ActorID: oldKey}))
			return
		}
		if attempt >= 20 {
			a.failPending(ow, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("actor %s could not be restarted: %v", a.class.Name(), err)})
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// createActorAt places and creates the actor anew; it returns its address.
func (ow *Owner) createActorAt(a *Actor) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	defer cancel()
	nodeID, addr, err := ow.net.Place(ctx, "actor "+a.class.Name(), a.demand, ow.net.NodeID(), "")
	if err != nil {
		return "", transport.Plain(err)
	}
	_ = nodeID
	a.mu.Lock()
	state, key := a.checkpoint, actorhost.Key(a.id, a.gen+1) // the next incarnation
	a.mu.Unlock()
	msg := &wire.Submit{Kind: wire.SubmitActor, ID: key, Owner: ow.net.Addr(), Function: a.class.Ref(),
		Resources: a.create.Resources(), Output: a.output, State: state}
	if err := ow.net.FillCall(msg, a.class.Program(), a.create.Args); err != nil {
		return "", err
	}
	ow.net.KnowLife(addr)
	if _, err := ow.net.Call(ctx, addr, transport.SubmitTask, wire.One(msg)); err != nil {
		return "", transport.Plain(err)
	}
	return addr, nil
}

// replay sends the new incarnation at addr the calls the actor had run,
// whoever made them, in the order it ran them (see replayPlan), with the
// creator's unanswered calls among them; the host keeps the results of
// the others for their callers, which send them again when they learn
// the new address. The replay goes in one request, answered once the host
// has queued every call, so that nothing sent later can overtake it; if
// it fails the restart tries again.
func (ow *Owner) replay(a *Actor, addr string) error {
	a.mu.Lock()
	own := append([]loggedCall(nil), a.log...)
	key := actorhost.Key(a.id, a.gen+1) // the incarnation createActorAt made
	base := a.ckptOrder
	a.mu.Unlock()
	var msgs [][]byte
	for _, rc := range ow.replayPlan(a, own, base) {
		awaited := rc.obj != nil && !rc.obj.IsReady()
		owner := ""
		if awaited {
			owner = ow.net.Addr()
		}
		msg, err := ow.methodMsg(rc.call, key, owner)
		if err != nil {
			if awaited {
				ow.failOwned(rc.obj, err)
			}
			continue
		}
		if awaited {
			ow.Await(rc.obj, addr)
		}
		msgs = append(msgs, msg.Encode())
	}
	payload := wire.EncodeSubmits(msgs)
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	defer cancel()
	_, err := ow.net.Call(ctx, addr, transport.SubmitTask, payload)
	return err
}

// publish sends calls to the incarnation gen of the actor at addr, then
// the calls made meanwhile (queued in pending), until none are left, and
// only then makes addr the actor's address: new calls cannot overtake
// them. (Publishing the address first let a new call overtake pending
// ones, so they ran, and were logged, out of order; found by the chaos
// test.) The calls join the actor's log. It returns the first send error.
func (ow *Owner) publish(a *Actor, addr string, gen int, calls []loggedCall) error {
	key := actorhost.Key(a.id, gen)
	var firstErr error
	for {
		for _, lc := range calls {
			if lc.obj.IsReady() {
				continue
			}
			if err := ow.sendMethod(addr, key, lc.call, lc.obj); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		a.mu.Lock()
		a.log = append(a.log, calls...)
		calls, a.pending = a.pending, nil
		if len(calls) == 0 {
			a.addr, a.gen, a.relocating = addr, gen, false
			a.mu.Unlock()
			return firstErr
		}
		a.mu.Unlock()
	}
}

func (a *Actor) failPending(ow *Owner, err *exec.Error) {
	a.mu.Lock()
	log, pending := a.log, a.pending
	a.pending = nil
	if a.deadErr == nil {
		a.deadErr = err
	}
	a.mu.Unlock()
	for _, lc := range append(log, pending...) {
		if !lc.obj.IsReady() {
			ow.failOwned(lc.obj, err)
		}
	}
}

// actorGone handles the answer that a method call's actor no longer
// lives where the call went (its node was restarted, or a newer
// incarnation replaced it there). The actor's creator restarts it, if it
// can, and the replay sends the call again; a process handed the actor
// asks where it went and sends the call there. Otherwise the call fails.
func (ow *Owner) actorGone(id, key string, obj *objstore.Object, cause *exec.Error) {
	keep := func() {
		ow.awaitMu.Lock()
		if ow.awaited.get(id).obj == nil { // a replay may have sent it meanwhile
			ow.awaited.put(id, awaitedResult{obj: obj}) // sent nowhere until the actor is back
		}
		ow.awaitMu.Unlock()
	}
	if ow.net.KeepsLineage() {
		if a := ow.actorOfCall(id); a != nil {
			a.mu.Lock()
			left, addr := a.restartsLeft, a.addr
			// Only an answer from the current incarnation means the
			// actor is gone now; one from an earlier incarnation is
			// stale, and the restart since then sent the call again.
			current := addr != "" && actorhost.KeyGen(key) == a.gen
			a.mu.Unlock()
			if left > 0 {
				keep()
				if current {
					go ow.restartActor(a, addr)
				}
				return
			}
		} else if b := ow.borrowedOfCall(id); b != nil {
			keep()
			go ow.relocate(b, b.currentAddr())
			return
		}
	}
	obj.Complete(exec.None, cause, cause.Node)
}

// restartable reports whether id is a call on an actor this process
// created with restarts left, which its restart will send again.
func (ow *Owner) restartable(id string) bool {
	a := ow.actorOfCall(id)
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.restartsLeft > 0
}

// actorOfCall finds the actor this process created that a logged call
// went to.
func (ow *Owner) actorOfCall(id string) *Actor {
	ow.mu.Lock()
	actors := make([]*Actor, 0, len(ow.actors))
	for _, a := range ow.actors {
		actors = append(actors, a)
	}
	ow.mu.Unlock()
	return withLoggedCall(actors, id)
}

// withLoggedCall finds, among actors, the one whose log holds call id.
func withLoggedCall(actors []*Actor, id string) *Actor {
	for _, a := range actors {
		a.mu.Lock()
		for _, lc := range a.log {
			if lc.call.ID == id {
				a.mu.Unlock()
				return a
			}
		}
		a.mu.Unlock()
	}
	return nil
}

// hasLineage reports whether this process keeps the lineage of a task.
func (ow *Owner) hasLineage(id string) bool {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	return ow.lineage.get(id) != nil
}

// retryWithArguments runs a task again whose executor could not fetch an
// argument: the arguments are first brought here (rebuilt from lineage
// where their node died), so the next attempt gets them from this process.
func (ow *Owner) retryWithArguments(obj *objstore.Object, cause *exec.Error) {
	entry, t := ow.lineageOf(obj.ID())
	if entry == nil {
		obj.Complete(exec.None, cause, cause.Node)
		return
	}
	if err := ow.allowRetry(entry, t, cause.Node); err != nil {
		err.Msg += " (last failure: " + cause.Msg + ")"
		obj.Complete(exec.None, err, "")
		return
	}
	for _, a := range t.Call().Args {
		if a.Kind() != exec.FutureKind {
			continue
		}
		if dep := objstore.ObjectOf(a.AsFuture()); dep != nil {
			if _, err := dep.Result(); err != nil {
				obj.Complete(exec.None, err, "")
				return
			}
		}
	}
	ow.loadReplay(t)
	ow.net.Spill(t)
}

// loadReplay gathers, before a task runs again, the outcomes its earlier
// run logged (wait results, clock and file reads, random seeds), from the
// stashes of the live nodes or the GCS, so that the run again sees the
// same values and takes the same path. A deterministic task has none.
func (ow *Owner) loadReplay(t Task) {
	store := ow.net.LineageStore()
	if store == nil || deterministic(t.Call()) {
		return
	}
	id := t.Call().ID
	have := map[uint64]stash.Outcome{}
	for _, oe := range ow.net.AskStashes([]string{id}).Outcomes {
		if oe.Outcome.TaskID == id {
			have[oe.Outcome.Seq] = oe.Outcome
		}
	}
	outcomes, _ := stash.LookupOutcomes(store, id, have) // on a GCS error, what the stashes held
	if len(outcomes) == 0 {
		return
	}
	replay := make(map[uint64]stash.Outcome, len(outcomes))
	for _, o := range outcomes {
		replay[o.Seq] = o
	}
	t.SetReplay(replay)
}

// deterministic reports whether a call always takes the same path, as
// the compiler annotated it.
func deterministic(call *exec.TaskCall) bool {
	if call.Site != nil {
		return call.Site.Deterministic
	}
	if info := call.Info(); info != nil {
		return info.Deterministic
	}
	return true
}
