package nodeagent

import (
	"context"
	"fmt"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"sync"
	"time"
	"weak"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
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
	t        *task
	attempts int
}

// recovery is the owner-side state of one networked process.
type recovery struct {
	mu      sync.Mutex
	lineage map[string]*lineageEntry // by task/object ID
	actors  map[string]*remoteActor  // handles this process created
	// borrowed are the handles this process was given on actors created
	// elsewhere, one per actor (weak: dropped with the last handle).
	borrowed map[string]weak.Pointer[remoteActor]
}

func newRecovery() *recovery {
	return &recovery{lineage: map[string]*lineageEntry{}, actors: map[string]*remoteActor{},
		borrowed: map[string]weak.Pointer[remoteActor]{}}
}

// remember keeps a task's specification while it, or its value, lives
// elsewhere.
func (ow *ownership) remember(t *task) {
	ow.rec.mu.Lock()
	if _, ok := ow.rec.lineage[t.call.ID]; !ok {
		ow.rec.lineage[t.call.ID] = &lineageEntry{t: t}
	}
	ow.rec.mu.Unlock()
}

// forget drops a task's lineage once its value is held here.
func (ow *ownership) forget(id string) {
	ow.rec.mu.Lock()
	delete(ow.rec.lineage, id)
	ow.rec.mu.Unlock()
}

// watchLoop looks for dead nodes until the network stops.
func (nw *network) watchLoop() {
	defer safe.Survive("the dead-node watcher", nw.stop, nw.watchLoop, nw.watchDone)
	// The heads push membership changes; the ticker is a fallback for a
	// push that was lost (a connection that broke at that moment).
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-nw.stop:
			return
		case <-nw.poke:
		case <-tick.C:
		}
		for _, addr := range nw.newlyDead() {
			nw.ow.nodeDied(addr)
		}
	}
}

// newlyDead returns the addresses of nodes the heads declared dead since
// the last look.
func (nw *network) newlyDead() []string {
	if nw.injectPanic.Load() {
		panic("injected fault")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return nw.live.Look(ctx, nw.readMembership)
}

// readMembership reads the heads' membership table for the liveness
// tracker.
func (nw *network) readMembership(ctx context.Context) (string, []headclient.NodeState, error) {
	states, err := nw.nodeStates(ctx)
	if err != nil {
		return "", nil, err
	}
	return nw.hc.Order()[0], states, nil // the head that answered
}

// knowLife makes sure the watcher knows which life (epoch) of the node at
// addr is alive before work is first sent there. The watcher tells a node
// restarted on the same port by its new epoch; without the epoch of the
// life that got the work (a node that joined, or a job that started,
// since the last look) a restart within the dead timeout went unnoticed
// and the job waited for ever for its tasks (found by the restart test).
func (nw *network) knowLife(addr string) {
	if nw.live.Known(addr) {
		return
	}
	for _, dead := range nw.newlyDead() {
		go nw.ow.nodeDied(dead)
	}
}

// isDead reports whether the node at addr was declared dead.
func (nw *network) isDead(addr string) bool { return nw.live.IsDead(addr) }

// nodeDied re-runs what was running on the node at addr and restarts its
// actors.
func (ow *ownership) nodeDied(addr string) {
	ow.nw.mu.Lock()
	var orphans []string
	for id, r := range ow.nw.awaited {
		if r.sentTo == addr {
			orphans = append(orphans, id)
		}
	}
	ow.nw.mu.Unlock()
	for _, id := range orphans {
		go ow.retryInFlight(id, addr) // it may gather the task's outcomes: off the watcher
	}
	ow.rec.mu.Lock()
	var actors []*remoteActor
	for _, a := range ow.rec.actors {
		if a.currentAddr() == addr {
			actors = append(actors, a)
		}
	}
	ow.rec.mu.Unlock()
	for _, a := range actors {
		go ow.restartActor(a, addr)
	}
	for _, a := range ow.borrowedAt(addr) {
		go ow.relocate(a, addr)
	}
}

// retryInFlight sends a task that was running on a dead node again.
func (ow *ownership) retryInFlight(id, deadAddr string) {
	ow.nw.mu.Lock()
	r := ow.nw.awaited[id]
	obj := r.obj
	if r.sentTo != deadAddr {
		ow.nw.mu.Unlock()
		return
	}
	ow.nw.mu.Unlock()
	if obj == nil {
		return
	}
	ow.rec.mu.Lock()
	entry := ow.rec.lineage[id]
	ow.rec.mu.Unlock()
	if entry == nil || entry.t.obj != obj {
		if !ow.restartable(id) && ow.borrowedOfCall(id) == nil {
			ow.failOwned(obj, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost: the node at %s died while it ran", obj.Name(), deadAddr)})
		}
		return // a method call of an actor with restarts: the restart (or the relocation) resends it
	}
	if err := ow.allowRetry(entry, deadAddr); err != nil {
		ow.failOwned(obj, err)
		return
	}
	ow.nw.mu.Lock()
	ow.nw.takeAwaitedLocked(id)
	ow.nw.mu.Unlock()
	ow.loadReplay(entry.t)
	ow.nw.spill(entry.t, ow.nw.c.Head())
}

// allowRetry counts one more attempt of a task, or says why there is none.
func (ow *ownership) allowRetry(entry *lineageEntry, deadAddr string) *exec.Error {
	limit := defaultSystemRetries
	if info := entry.t.call.Info(); info != nil && info.Retries >= 0 {
		limit = info.Retries
	}
	ow.rec.mu.Lock()
	defer ow.rec.mu.Unlock()
	if !ow.nw.c.keepsLineage() {
		return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost with the node at %s, and lineage is off (--lineage=off), so it cannot be run again", entry.t.obj.Name(), deadAddr)}
	}
	if entry.attempts >= limit {
		return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s was lost with the node at %s after %d retries (@retries(%d))", entry.t.obj.Name(), deadAddr, entry.attempts, limit)}
	}
	entry.attempts++
	return nil
}

func (ow *ownership) failOwned(obj *objstore.Object, err *exec.Error) {
	ow.nw.mu.Lock()
	ow.nw.takeAwaitedLocked(obj.ID())
	ow.nw.mu.Unlock()
	obj.Complete(exec.None, err, "")
}

// rebuild runs again the task that made a value lost with its node, and
// returns the value. Arguments lost too are rebuilt first.
func (ow *ownership) rebuild(o *objstore.Object, deadAddr string, cause *exec.Error) (exec.Value, *exec.Error) {
	ow.rec.mu.Lock()
	entry := ow.rec.lineage[o.ID()]
	ow.rec.mu.Unlock()
	if entry == nil {
		return ow.fetchFromOwner(o, deadAddr, cause)
	}
	if err := ow.allowRetry(entry, deadAddr); err != nil {
		return exec.None, err
	}
	for _, a := range entry.t.call.Args {
		if a.Kind() == exec.FutureKind {
			if dep := objstore.ObjectOf(a.AsFuture()); dep != nil {
				if _, err := dep.Result(); err != nil {
					return exec.None, err
				}
			}
		}
	}
	again := &task{call: entry.t.call, obj: objstore.NewObject(o.ID(), o.Name()), demand: entry.t.demand, output: entry.t.output}
	again.obj.SetProducer(again)
	ow.loadReplay(again)
	ow.rec.mu.Lock()
	entry.t = again
	ow.rec.mu.Unlock()
	ow.nw.spill(again, ow.nw.c.Head())
	<-again.obj.Done()
	return again.obj.Result()
}

// fetchFromOwner asks the owner of a value passed here inside another
// value for it, when the process that held it is gone: the owner keeps
// its lineage and rebuilds it.
func (ow *ownership) fetchFromOwner(o *objstore.Object, deadAddr string, cause *exec.Error) (exec.Value, *exec.Error) {
	if o.Owner() == "" || o.Owner() == deadAddr || o.Owner() == ow.nw.addr {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s; no lineage of it is kept here, so it cannot be rebuilt", cause.Msg)}
	}
	v, err := ow.nw.fetch(o.ID(), o.Owner())
	if err != nil {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("%s; its owner at %s could not rebuild it either: %s", cause.Msg, o.Owner(), err.Msg)}
	}
	return v, nil
}

// currentAddr is where the actor lives now.
func (a *remoteActor) currentAddr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// restartActor recreates an actor whose node died and replays its calls.
func (ow *ownership) restartActor(a *remoteActor, deadAddr string) {
	a.mu.Lock()
	if deadAddr == "" || a.addr != deadAddr {
		a.mu.Unlock()
		return // being restarted already, or restarted since
	}
	if a.restartsLeft <= 0 || !ow.nw.c.keepsLineage() {
		why := fmt.Sprintf("actor %s died with the node at %s and has no restarts left (declare it @restarts(n) to have it recreated)", a.class.Name(), deadAddr)
		if !ow.nw.c.keepsLineage() {
			why = fmt.Sprintf("actor %s died with the node at %s, and lineage is off (--lineage=off), so it cannot be restarted", a.class.Name(), deadAddr)
		}
		a.deadErr = &exec.Error{Kind: exec.KindLost, Msg: why}
		a.mu.Unlock()
		a.failPending(ow.nw, a.deadErr)
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
			go ow.nw.pool.Send(deadAddr, transport.SubmitTask, wire.One(&wire.Submit{Kind: wire.SubmitStop, ActorID: oldKey}))
			return
		}
		if attempt >= 20 {
			a.failPending(ow.nw, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("actor %s could not be restarted: %v", a.class.Name(), err)})
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// createActorAt places and creates the actor anew; it returns its address.
func (ow *ownership) createActorAt(a *remoteActor) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	nodeID, addr, err := ow.nw.place(ctx, "actor "+a.class.Name(), a.demand, ow.nw.c.Head().ID)
	if err != nil {
		return "", transport.Plain(err)
	}
	_ = nodeID
	a.mu.Lock()
	state, key := a.checkpoint, actorhost.Key(a.id, a.gen+1) // the next incarnation
	a.mu.Unlock()
	msg := &wire.Submit{Kind: wire.SubmitActor, ID: key, Owner: ow.nw.addr, Function: a.class.Name(),
		Resources: a.create.Resources(), Output: a.output, State: state}
	if err := ow.nw.fillCall(msg, a.class.Program(), a.create.Args); err != nil {
		return "", err
	}
	ow.nw.knowLife(addr)
	if _, err := ow.nw.pool.Call(ctx, addr, transport.SubmitTask, wire.One(msg)); err != nil {
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
func (ow *ownership) replay(a *remoteActor, addr string) error {
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
			owner = ow.nw.addr
		}
		msg, err := ow.methodMsg(rc.call, key, owner)
		if err != nil {
			if awaited {
				ow.failOwned(rc.obj, err)
			}
			continue
		}
		if awaited {
			ow.nw.await(rc.obj, addr)
		}
		msgs = append(msgs, msg.Encode())
	}
	payload := wire.EncodeSubmits(msgs)
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	_, err := ow.nw.pool.Call(ctx, addr, transport.SubmitTask, payload)
	return err
}

// publish sends calls to the incarnation gen of the actor at addr, then
// the calls made meanwhile (queued in pending), until none are left, and
// only then makes addr the actor's address: new calls cannot overtake
// them. (Publishing the address first let a new call overtake pending
// ones, so they ran, and were logged, out of order; found by the chaos
// test.) The calls join the actor's log. It returns the first send error.
func (ow *ownership) publish(a *remoteActor, addr string, gen int, calls []loggedCall) error {
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

func (a *remoteActor) failPending(nw *network, err *exec.Error) {
	a.mu.Lock()
	log, pending := a.log, a.pending
	a.pending = nil
	if a.deadErr == nil {
		a.deadErr = err
	}
	a.mu.Unlock()
	for _, lc := range append(log, pending...) {
		if !lc.obj.IsReady() {
			nw.ow.failOwned(lc.obj, err)
		}
	}
}

// actorGone handles the answer that a method call's actor no longer
// lives where the call went (its node was restarted, or a newer
// incarnation replaced it there). The actor's creator restarts it, if it
// can, and the replay sends the call again; a process handed the actor
// asks where it went and sends the call there. Otherwise the call fails.
func (ow *ownership) actorGone(id, key string, obj *objstore.Object, cause *exec.Error) {
	keep := func() {
		ow.nw.mu.Lock()
		if _, ok := ow.nw.awaited[id]; !ok { // a replay may have sent it meanwhile
			ow.nw.awaited[id] = awaitedResult{obj: obj} // sent nowhere until the actor is back
		}
		ow.nw.mu.Unlock()
	}
	if ow.nw.c.keepsLineage() {
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
func (ow *ownership) restartable(id string) bool {
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
func (ow *ownership) actorOfCall(id string) *remoteActor {
	ow.rec.mu.Lock()
	actors := make([]*remoteActor, 0, len(ow.rec.actors))
	for _, a := range ow.rec.actors {
		actors = append(actors, a)
	}
	ow.rec.mu.Unlock()
	return withLoggedCall(actors, id)
}

// withLoggedCall finds, among actors, the one whose log holds call id.
func withLoggedCall(actors []*remoteActor, id string) *remoteActor {
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
func (ow *ownership) hasLineage(id string) bool {
	ow.rec.mu.Lock()
	defer ow.rec.mu.Unlock()
	return ow.rec.lineage[id] != nil
}

// retryWithArguments runs a task again whose executor could not fetch an
// argument: the arguments are first brought here (rebuilt from lineage
// where their node died), so the next attempt gets them from this process.
func (ow *ownership) retryWithArguments(obj *objstore.Object, cause *exec.Error) {
	ow.rec.mu.Lock()
	entry := ow.rec.lineage[obj.ID()]
	ow.rec.mu.Unlock()
	if entry == nil {
		obj.Complete(exec.None, cause, cause.Node)
		return
	}
	if err := ow.allowRetry(entry, cause.Node); err != nil {
		err.Msg += " (last failure: " + cause.Msg + ")"
		obj.Complete(exec.None, err, "")
		return
	}
	for _, a := range entry.t.call.Args {
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
	ow.loadReplay(entry.t)
	ow.nw.spill(entry.t, ow.nw.c.Head())
}

// loadReplay gathers, before a task runs again, the outcomes its earlier
// run logged (wait results, clock and file reads, random seeds), from the
// stashes of the live nodes or the GCS, so that the run again sees the
// same values and takes the same path. A deterministic task has none.
func (ow *ownership) loadReplay(t *task) {
	if ow.nw.c.lineage == nil || !ow.nw.c.keepsLineage() || deterministic(t.call) {
		return
	}
	id := t.call.ID
	have := map[uint64]stash.Outcome{}
	for _, oe := range ow.nw.askStashes([]string{id}).Outcomes {
		if oe.Outcome.TaskID == id {
			have[oe.Outcome.Seq] = oe.Outcome
		}
	}
	outcomes, _ := stash.LookupOutcomes(ow.nw.c.lineage.store, id, have) // on a GCS error, what the stashes held
	if len(outcomes) == 0 {
		return
	}
	t.replay = make(map[uint64]stash.Outcome, len(outcomes))
	for _, o := range outcomes {
		t.replay[o.Seq] = o
	}
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
