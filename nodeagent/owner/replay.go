package owner

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// Reading an actor's call log back for its restart.
//
// The host of an actor logs, as a nondeterministic outcome of the actor,
// the ID of each call it runs, in the order it runs them (actor.run); the
// callers' and the host's stashes hold each call's specification. The
// stashes write both to the GCS in the background, and the host forwards
// the actor's uncommitted outcomes with the answers it sends. So when the
// host dies, the order and the calls are in the GCS or in the stash of a
// live process, and the creator reads them back from there to replay every
// call the actor ran, whoever made it, in the order it ran them.

// replayCall is one call a restart sends to the new incarnation. obj is
// the creator's own future for it, or nil for another caller's call.
type replayCall struct {
	call *exec.TaskCall
	obj  *objstore.Object
}

// replayPlan orders the calls to replay on a recreated actor: the logged
// order from call number base (the checkpoint's) on, with each call's
// specification from the creator's own log or from the lineage; then the
// creator's calls the log does not order (sent but not run when the host
// died), in the order they were made.
func (ow *Owner) replayPlan(a *Actor, own []loggedCall, base uint64) []replayCall {
	if !a.class.Info.ReplaysCalls() {
		return unanswered(own) // a served actor restarts fresh
	}
	order := ow.ActorOrder(a.id, base)
	byID := make(map[string]loggedCall, len(own))
	for _, lc := range own {
		byID[lc.call.ID] = lc
	}
	var missing []string
	for _, id := range order {
		if _, ok := byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	records := ow.CallRecords(missing)
	plan := make([]replayCall, 0, len(order)+len(own))
	ordered := make(map[string]bool, len(order))
	for _, id := range order {
		ordered[id] = true
		if lc, ok := byID[id]; ok {
			plan = append(plan, replayCall{call: lc.call, obj: lc.obj})
			continue
		}
		call, err := ow.callFromRecord(a, records[id])
		if err != nil {
			ow.warnf("actor %s: call %s cannot be replayed: %v", a.class.Name(), id, err)
			continue
		}
		plan = append(plan, replayCall{call: call})
	}
	for _, lc := range own {
		if !ordered[lc.call.ID] {
			plan = append(plan, replayCall{call: lc.call, obj: lc.obj})
		}
	}
	return plan
}

// ActorOrder returns the IDs of the calls the actor ran, in the order it
// ran them, from call number base up to the first one no stash and not
// the GCS knows.
func (ow *Owner) ActorOrder(actorID string, base uint64) []string {
	store := ow.net.LineageStore()
	if store == nil {
		return nil
	}
	bySeq := map[uint64]string{}
	for _, oe := range ow.net.AskStashes([]string{actorID}).Outcomes {
		if o := oe.Outcome; o.TaskID == actorID && o.Kind == stash.KindActorOrder {
			bySeq[o.Seq] = string(o.Data)
		}
	}
	var order []string
	for seq := base; ; seq++ {
		id, ok := bySeq[seq]
		if !ok {
			id, ok = committedOutcome(store, actorID, seq)
		}
		if !ok {
			return order
		}
		order = append(order, id)
	}
}

// committedOutcome reads one logged actor-order outcome from the GCS.
func committedOutcome(store stash.Store, actorID string, seq uint64) (string, bool) {
	rec, err := store.GetTask(stash.OutcomeKey(actorID, seq))
	if err != nil {
		return "", false
	}
	o, ok := stash.OutcomeFromRecord(rec)
	return string(o.Data), ok && o.Kind == stash.KindActorOrder
}

// CallRecords finds the specifications of some calls: in the stashes of
// the live processes (and what callers keep of their calls), then in the
// GCS.
func (ow *Owner) CallRecords(ids []string) map[string]gcs.TaskRecord {
	out := make(map[string]gcs.TaskRecord, len(ids))
	for _, re := range ow.net.AskStashes(ids).Records {
		out[re.Record.TaskID] = re.Record
	}
	store := ow.net.LineageStore()
	for _, id := range ids {
		if _, ok := out[id]; ok || store == nil {
			continue
		}
		if rec, err := store.GetTask(id); err == nil {
			out[id] = rec
		}
	}
	return out
}

// callFromRecord rebuilds a method call from its lineage record.
func (ow *Owner) callFromRecord(a *Actor, rec gcs.TaskRecord) (*exec.TaskCall, error) {
	if rec.TaskID == "" {
		return nil, errors.New("its specification is in no stash and not in the GCS")
	}
	name := rec.Function
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	method, ok := a.class.Method(name)
	if !ok {
		return nil, fmt.Errorf("actor %s has no method '%s'", a.class.Name(), name)
	}
	args := make([]exec.Value, len(rec.Args))
	for i, arg := range rec.Args {
		switch {
		case arg.ObjectID != "" && arg.Location == "":
			return nil, fmt.Errorf("argument %d (object %s) has no known location", i+1, arg.ObjectID)
		case arg.ObjectID == "" && arg.Inline == nil:
			return nil, fmt.Errorf("argument %d was not kept in the lineage (over 4 KiB)", i+1)
		}
		v, err := ow.net.ArgValue(wire.Arg{Inline: arg.Inline, ObjectID: arg.ObjectID, Location: arg.Location})
		if err != nil {
			return nil, fmt.Errorf("argument %d: %v", i+1, err)
		}
		args[i] = v
	}
	return &exec.TaskCall{ID: rec.TaskID, Func: method, Args: args}, nil
}

// warnf reports, on the process's standard error, a problem recovery
// works around.
func (ow *Owner) warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "rayflow: warning: "+format+"\n", args...)
}

// unanswered is the plan of a restart that replays nothing: the
// creator's calls not yet answered, sent to the new incarnation in the
// order they were made.
func unanswered(own []loggedCall) []replayCall {
	var plan []replayCall
	for _, lc := range own {
		if lc.obj != nil && !lc.obj.IsReady() {
			plan = append(plan, replayCall{call: lc.call, obj: lc.obj})
		}
	}
	return plan
}
