package nodeagent

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Named actors on a cluster.
//
// The heads keep the names: a head answers wire.QueryNamedActor with its
// table (netNames.table), which it also writes to the GCS actors table
// (a row per named actor, with its name, namespace, lifetime and encoded
// handle), so that `rayflow list actors` shows them and a head that did
// not register a name finds it there. A process that makes a named actor
// reserves its name with a head first, then binds it to the actor's
// handle; actors.get asks a head for the handle and decodes it (a
// handle borrowed from the actor's creator, as a handle passed to a task
// is). A process keeps the handles of the named actors it made
// (netNames.held): the name holds the actor, until kill or its job's end.
//
// A detached actor is made by a head for the driver (namedCreate): the
// head is its creator and owner, so it outlives the driver's job, and the
// head restarts it after its node dies as @restarts says. Its ID is not
// of any job (detachedJobPrefix), so no job's end stops it. At each job
// end the head takes a checkpoint of its detached actors, so that a
// restart does not need the ended job's calls (their lineage is deleted
// with the job); and while it owns them, it tells every head at each
// heartbeat that their programs are in use (head.ProgramRetention).
//
// A name is taken in the GCS (gcs.ClaimActorName, a conditional write)
// before its actor is made: of two heads registering one name at the
// same moment, the GCS lets one claim through and the other head answers
// the taken error; forgetting a name releases its claim. The claim is
// what a lookup answers from (namedRowOf): a head's table row whose actor
// no longer holds the claim (freed, or taken again, through another head)
// is dropped when a lookup meets it.

// Sub-operations of wire.QueryNamedActor.
const (
	namedReserve byte = 1 // ns, name, actor ID -> "" or the taken error
	namedBind    byte = 2 // ns, name, row -> ""
	namedLookup  byte = 3 // ns, name -> the row, or empty
	namedForget  byte = 4 // actor ID -> "" (its name is free again)
	namedCreate  byte = 5 // ns, name, Submit -> the row (a head makes a detached actor)
	namedKill    byte = 6 // actor key, reason -> "" (the host kills it; its owner too)
	namedStop    byte = 7 // ns, name -> "" or an error (rayflow actor stop: kill by name)
)

// detachedJobPrefix starts the ID of a detached actor: a pseudo-job no
// driver runs, so that no job's end matches it.
const detachedJobPrefix = "detached-"

// netNames is what a process keeps of named actors.
//
// Ownership: its lock guards both maps; connection goroutines (a head's
// queries), calling threads (make, get, kill) and job release touch it.
type netNames struct {
	// claiming serialises this head's reservations (reserveName), so
	// that a name it claimed is in table before another claim of it
	// here is judged.
	claiming sync.Mutex
	mu       sync.Mutex
	// table is a head's names: by "NAMESPACE/NAME", the actor's row
	// (Handle empty while reserved).
	table map[string]gcs.ActorInfo
	// held are the handles of the named actors this process made or
	// (a head) owns, by actor ID: the name holds the actor.
	held map[string]*exec.ActorHandle
}

func (nn *netNames) hold(h *exec.ActorHandle) {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	if nn.held == nil {
		nn.held = map[string]*exec.ActorHandle{}
	}
	nn.held[h.ID] = h
}

func (nn *netNames) heldHandle(id string) *exec.ActorHandle {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	return nn.held[id]
}

func (nn *netNames) drop(id string) *exec.ActorHandle {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	h := nn.held[id]
	delete(nn.held, id)
	return h
}

// newNamedActor makes a named actor on a cluster: the name is reserved
// with a head, the actor made (by this process, or, detached, by the
// head), then the name bound to its handle.
func (nw *network) newNamedActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	info := call.Class.Info
	if info.Detached {
		return nw.newDetachedActor(call)
	}
	if err := nw.askNamed(namedReserve, nil, info.Namespace, info.ActorName, call.ID); err != nil {
		return nil, err
	}
	h, err := nw.c.newActor(th, call)
	if err != nil {
		nw.askNamed(namedForget, nil, call.ID)
		return nil, err
	}
	ref, eerr := nw.EncodeRef(exec.ActorValue(h))
	if eerr != nil {
		nw.askNamed(namedForget, nil, call.ID)
		return nil, eerr
	}
	nw.names.hold(h)
	row := namedRow(h.ID, call, ref)
	if err := nw.askNamed(namedBind, rowBytes(row), info.Namespace, info.ActorName); err != nil {
		return nil, err
	}
	return h, nil
}

// namedRow is the actors-table row of a named actor.
func namedRow(id string, call *exec.TaskCall, ref []byte) gcs.ActorInfo {
	info := call.Class.Info
	job, _, _ := strings.Cut(id, ".")
	life := "job"
	if info.Detached || strings.HasPrefix(id, detachedJobPrefix) {
		life = "detached"
	}
	return gcs.ActorInfo{ID: id, JobID: job, Class: call.Class.Name(), State: "alive", MaxRestarts: info.Restarts,
		Name: info.ActorName, Namespace: info.Namespace, Lifetime: life, Handle: ref}
}

// newDetachedActor asks a head to make a detached actor, which the head
// owns; the handle returned is borrowed from the head.
func (nw *network) newDetachedActor(call *exec.TaskCall) (*exec.ActorHandle, error) {
	if err := owner.FailedDependency("actor "+call.Class.Name(), call.Args); err != nil {
		return nil, err
	}
	msg := &wire.Submit{Kind: wire.SubmitActor, ID: call.ID, Function: call.Class.Ref(), Resources: call.Resources()}
	if err := nw.fillCall(msg, call.Class.Program(), call.Args); err != nil {
		return nil, err
	}
	info := call.Class.Info
	reply, err := nw.queryHead(append(namedPayload(namedCreate, info.Namespace, info.ActorName), blob(msg.Encode())...))
	if err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, wire.ErrMalformed
	}
	if reply[0] == 1 {
		e, derr := wire.DecodeError(reply[1:])
		if derr != nil {
			return nil, derr
		}
		return nil, e
	}
	return nw.handleFromRow(reply[1:])
}

// lookupNamed asks a head for the live actor of a name (actors.get).
func (nw *network) lookupNamed(namespace, name string) (*exec.ActorHandle, error) {
	reply, err := nw.queryHead(namedPayload(namedLookup, namespace, name))
	if err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, notFoundError(namespace, name)
	}
	return nw.handleFromRow(reply)
}

// handleFromRow decodes the handle in an actors-table row: this process's
// own when it holds it, otherwise borrowed from the actor's creator.
func (nw *network) handleFromRow(b []byte) (*exec.ActorHandle, error) {
	var row gcs.ActorInfo
	if err := decodeRow(b, &row); err != nil {
		return nil, err
	}
	if h := nw.names.heldHandle(row.ID); h != nil {
		return h, nil
	}
	v, err := nw.DecodeRef(row.Handle)
	if err != nil {
		return nil, exec.Errorf(exec.KindLost, "actor %q cannot be reached: %v", row.Name, err)
	}
	return v.AsActor(), nil
}

// forgetNamed frees the name of an actor this process killed.
func (nw *network) forgetNamed(id string) {
	nw.names.drop(id)
	nw.askNamed(namedForget, nil, id)
}

// killRemote kills an actor living in another process: its host kills
// it, its creator stops restarting it, and its name is freed.
func (nw *network) killRemote(h *exec.ActorHandle, a *owner.Actor) error {
	reason := killedReason(h)
	nw.ow.Kill(a, &exec.Error{Kind: exec.KindCancelled, Msg: reason})
	addr, creator, gen := a.Whereabouts(nw.addr)
	key := actorhost.Key(h.ID, gen)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	payload := namedPayload(namedKill, key, reason)
	if creator != "" && creator != nw.addr {
		nw.pool.Call(ctx, creator, transport.Query, payload) // it stops restarting it
	}
	if addr != "" {
		nw.pool.Call(ctx, addr, transport.Query, payload)
	}
	if named(h) {
		nw.forgetNamed(h.ID)
	}
	return nil
}

// askNamed asks a head a question about names that answers nothing or an
// error; row, when given, is sent after the strings.
func (nw *network) askNamed(op byte, row []byte, args ...string) error {
	payload := namedPayload(op, args...)
	if row != nil {
		payload = append(payload, blob(row)...)
	}
	reply, err := nw.queryHead(payload)
	if err != nil {
		return err
	}
	if len(reply) > 0 {
		e, derr := wire.DecodeError(reply)
		if derr != nil {
			return derr
		}
		return e
	}
	return nil
}

// queryHead sends a QueryNamedActor to a head.
func (nw *network) queryHead(payload []byte) ([]byte, error) {
	if nw.svc != nil { // a head answers itself
		msg, err := nw.handleNamed(payload[1:])
		if err != nil {
			return nil, exec.Errorf(exec.KindValue, "%v", err)
		}
		return msg.Payload, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := nw.hc.Call(ctx, transport.Query, payload)
	if err != nil {
		var re *transport.RemoteError
		if errors.As(err, &re) {
			return nil, exec.Errorf(exec.KindValue, "%s", transport.Plain(err))
		}
		return nil, exec.Errorf(exec.KindLost, "the heads cannot be reached about named actors: %v", transport.Plain(err))
	}
	return reply, nil
}

func namedPayload(op byte, args ...string) []byte {
	w := &codec.Encoder{}
	w.Byte(wire.QueryNamedActor)
	w.Byte(op)
	for _, a := range args {
		w.String(a)
	}
	return w.Bytes()
}

func blob(b []byte) []byte {
	w := &codec.Encoder{}
	w.Blob(b)
	return w.Bytes()
}

func rowBytes(row gcs.ActorInfo) []byte { return encodeRow(row) }

// handleNamed serves wire.QueryNamedActor.
func (nw *network) handleNamed(body []byte) (*transport.Message, error) {
	if len(body) == 0 {
		return nil, wire.ErrMalformed
	}
	r := codec.NewDecoder(body[1:])
	op := body[0]
	if op == namedKill {
		key, reason := r.String(), r.String()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		nw.killHere(key, reason)
		return transport.Reply(nil), nil
	}
	if nw.svc == nil {
		return nil, errNotHead
	}
	var answer []byte
	var err error
	switch op {
	case namedReserve:
		ns, name, id := r.String(), r.String(), r.String()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		err = nw.reserveName(gcs.ActorInfo{ID: id, Name: name, Namespace: ns})
	case namedBind:
		ns, name, b := r.String(), r.String(), r.Blob()
		var row gcs.ActorInfo
		if r.Err() != nil || decodeRow(b, &row) != nil || row.Name != name || row.Namespace != ns {
			return nil, wire.ErrMalformed
		}
		nw.bindName(row)
	case namedLookup:
		ns, name := r.String(), r.String()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		if row, ok := nw.namedRowOf(ns, name); ok {
			return transport.Reply(rowBytes(row)), nil
		}
		return transport.Reply(nil), nil
	case namedForget:
		id := r.String()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		nw.forgetName(func(row gcs.ActorInfo) bool { return row.ID == id })
	case namedCreate:
		ns, name, b := r.String(), r.String(), r.Blob()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		// The answer is 0 and the row, or 1 and the error.
		row, err := nw.createDetached(ns, name, b)
		if err == nil {
			return transport.Reply(append([]byte{0}, rowBytes(row)...)), nil
		}
		var e *exec.Error
		if !errors.As(err, &e) {
			e = exec.Errorf(exec.KindValue, "%v", err)
		}
		return transport.Reply(append([]byte{1}, wire.EncodeError(e)...)), nil
	case namedStop:
		ns, name := r.String(), r.String()
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		err = nw.stopByName(ns, name)
	default:
		return nil, wire.ErrMalformed
	}
	if err != nil {
		var e *exec.Error
		if !errors.As(err, &e) {
			e = exec.Errorf(exec.KindValue, "%v", err)
		}
		answer = wire.EncodeError(e)
	}
	return transport.Reply(answer), nil
}

// reserveName takes a name on this head for the actor row.ID. With a
// GCS, the GCS decides (claimName): of two heads reserving one name at
// once for two actors, one fails. Without one, this head's table does.
func (nw *network) reserveName(row gcs.ActorInfo) error {
	if st := nw.cfg.Store; st != nil {
		nw.names.claiming.Lock() // a claim made here is in the table before the next is judged
		defer nw.names.claiming.Unlock()
		if err := nw.claimName(st, row); err != nil {
			return err
		}
		nw.names.mu.Lock()
		defer nw.names.mu.Unlock()
		if nw.names.table == nil {
			nw.names.table = map[string]gcs.ActorInfo{}
		}
		nw.names.table[nameKey(row.Namespace, row.Name)] = row
		return nil
	}
	nn := &nw.names
	nn.mu.Lock()
	defer nn.mu.Unlock()
	key := nameKey(row.Namespace, row.Name)
	if _, taken := nn.table[key]; taken {
		return takenError(row.Namespace, row.Name)
	}
	if nn.table == nil {
		nn.table = map[string]gcs.ActorInfo{}
	}
	nn.table[key] = row
	return nil
}

// abandonedClaimLife is how long a name claimed by a live head for an
// actor it never bound to the name (nor released) stays taken.
const abandonedClaimLife = 10 * time.Minute

// claimName claims the name for the actor row.ID in the GCS, with a
// conditional write (gcs.ClaimActorName): it fails with the taken error
// when another actor holds the name, unless that holder is stale (see
// staleHolder), whose claim it then replaces, conditionally too.
func (nw *network) claimName(st *gcs.Store, row gcs.ActorInfo) error {
	claim := gcs.ActorName{Namespace: row.Namespace, Name: row.Name, ActorID: row.ID, Head: nw.c.Head().ID, Claimed: time.Now().UnixNano()}
	stale := ""
	for attempt := 0; attempt < 3; attempt++ {
		err := st.ClaimActorName(claim, stale).ErrorTimeout(5 * time.Second)
		if err == nil {
			return nil
		}
		if !gcs.IsConflict(err) {
			return exec.Errorf(exec.KindLost, "the name %q in namespace %q cannot be taken: %v", row.Name, row.Namespace, err)
		}
		holder, err := st.GetActorName(row.Namespace, row.Name, gcs.Linearizable)
		switch {
		case errors.Is(err, gcs.ErrNotFound):
			stale = "" // freed since: claim it again
		case err != nil:
			return exec.Errorf(exec.KindLost, "the name %q in namespace %q cannot be taken: %v", row.Name, row.Namespace, err)
		case nw.staleHolder(st, holder):
			stale = holder.ActorID
		default:
			return takenError(row.Namespace, row.Name)
		}
	}
	return takenError(row.Namespace, row.Name)
}

// staleHolder reports whether the actor a name's row names holds it no
// more: no actor is bound to the name (its actors row is gone), and the
// head that claimed it is not making it: that head is this one (which
// keeps what it is making in its table, judged under names.claiming),
// is dead or gone, or claimed it longer ago than abandonedClaimLife.
func (nw *network) staleHolder(st *gcs.Store, holder gcs.ActorName) bool {
	if _, err := st.GetActor(holder.ActorID, gcs.Linearizable); !errors.Is(err, gcs.ErrNotFound) {
		return false
	}
	nw.names.mu.Lock()
	row, here := nw.names.table[nameKey(holder.Namespace, holder.Name)]
	nw.names.mu.Unlock()
	if here && row.ID == holder.ActorID {
		return false
	}
	if holder.Head == nw.c.Head().ID {
		return true
	}
	if n, err := st.GetNode(holder.Head); err != nil || n.State != gcs.NodeAlive {
		return true
	}
	return time.Since(time.Unix(0, holder.Claimed)) > abandonedClaimLife
}

// bindName records a named actor's row here and in the GCS.
func (nw *network) bindName(row gcs.ActorInfo) {
	nw.names.mu.Lock()
	if nw.names.table == nil {
		nw.names.table = map[string]gcs.ActorInfo{}
	}
	nw.names.table[nameKey(row.Namespace, row.Name)] = row
	nw.names.mu.Unlock()
	if st := nw.cfg.Store; st != nil {
		st.PutActor(row).ErrorTimeout(5 * time.Second)
	}
}

// namedRowOf is the bound row of a name, as its claim in the GCS says
// (with opts, how it is read; none: this replica's applied state). This
// head's table answers when its row is the claim's actor; a row whose
// actor holds the name no more (freed or taken again through another
// head, which does not tell this one) is dropped, and the claim's actor
// is found in the GCS actors table.
func (nw *network) namedRowOf(ns, name string, opts ...gcs.ReadOption) (gcs.ActorInfo, bool) {
	key := nameKey(ns, name)
	nw.names.mu.Lock()
	row, here := nw.names.table[key]
	nw.names.mu.Unlock()
	st := nw.cfg.Store
	if st == nil {
		return row, here && len(row.Handle) > 0
	}
	holder, err := st.GetActorName(ns, name, opts...)
	if here && !(err == nil && holder.ActorID == row.ID) && len(opts) == 0 {
		// This replica may not have applied this head's own claim yet:
		// a disagreement is confirmed with the leader (a rare read, and
		// a stale row is dropped after it).
		holder, err = st.GetActorName(ns, name, gcs.Linearizable)
	}
	switch {
	case err == nil && here && holder.ActorID == row.ID:
		return row, len(row.Handle) > 0
	case err != nil && !errors.Is(err, gcs.ErrNotFound):
		return row, here && len(row.Handle) > 0 // the GCS cannot tell: this head's table answers
	}
	if here {
		nw.names.dropRow(key, row.ID)
	}
	if err != nil {
		return gcs.ActorInfo{}, false
	}
	return storedRow(st, holder, opts)
}

// dropRow deletes the table row key if it is still the actor id's.
func (nn *netNames) dropRow(key, id string) {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	if row, ok := nn.table[key]; ok && row.ID == id {
		delete(nn.table, key)
	}
}

// storedRow is the actors-table row of the actor holding a name, once
// it is bound to it (made and alive).
func storedRow(st *gcs.Store, holder gcs.ActorName, opts []gcs.ReadOption) (gcs.ActorInfo, bool) {
	row, err := st.GetActor(holder.ActorID, opts...)
	if err != nil || row.Name != holder.Name || row.Namespace != holder.Namespace || row.State != "alive" || len(row.Handle) == 0 {
		return gcs.ActorInfo{}, false
	}
	return row, true
}

// forgetName frees the names whose rows pick chooses, here and in the
// GCS, and drops the handles this head owned of them.
func (nw *network) forgetName(pick func(gcs.ActorInfo) bool) {
	nn := &nw.names
	nn.mu.Lock()
	var gone []gcs.ActorInfo
	for key, row := range nn.table {
		if pick(row) {
			delete(nn.table, key)
			gone = append(gone, row)
		}
	}
	nn.mu.Unlock()
	if st := nw.cfg.Store; st != nil {
		if rows, err := st.ListActors(); err == nil {
			for _, row := range rows {
				if row.Name != "" && pick(row) {
					gone = append(gone, row)
				}
			}
		}
		for _, row := range gone {
			st.Delete(gcs.TableActors, row.ID).ErrorTimeout(5 * time.Second)
			if row.Name != "" {
				st.ReleaseActorName(row.Namespace, row.Name, row.ID).ErrorTimeout(5 * time.Second)
			}
		}
	}
	for _, row := range gone {
		nn.drop(row.ID)
	}
}

// createDetached makes, on a head, the detached actor a driver asked
// for: this head creates and owns it.
func (nw *network) createDetached(ns, name string, msgBytes []byte) (gcs.ActorInfo, error) {
	m, err := wire.DecodeSubmit(msgBytes)
	if err != nil {
		return gcs.ActorInfo{}, wire.ErrMalformed
	}
	prog, args, _, err := nw.prepare(m, nil)
	if err != nil {
		return gcs.ActorInfo{}, err
	}
	class, ok := prog.ClassByName(m.Function)
	if !ok || !(class.Info.Detached || class.Info.Serve != nil) { // a served actor's replicas are detached (spec/serving.md)
		return gcs.ActorInfo{}, fmt.Errorf("program has no detached actor %s", m.Function)
	}
	id := detachedJobPrefix + randomHex() + ".0"
	if err := nw.reserveName(gcs.ActorInfo{ID: id, Name: name, Namespace: ns}); err != nil {
		return gcs.ActorInfo{}, err
	}
	call := &exec.TaskCall{ID: id, Class: class, Args: args}
	th := nw.c.Head().newThread("detached actor "+name, id)
	h, err := nw.c.newActor(th, call)
	if err == nil && h == nil {
		err = fmt.Errorf("actor %s was not made", class.Name())
	}
	var ref []byte
	if err == nil {
		ref, err = nw.EncodeRef(exec.ActorValue(h))
	}
	if err != nil {
		nw.forgetName(func(row gcs.ActorInfo) bool { return row.ID == id })
		return gcs.ActorInfo{}, err
	}
	nw.names.hold(h)
	row := namedRow(id, call, ref)
	row.Name, row.Namespace = name, ns // a served actor's replica is named by the deploy, not its class
	nw.bindName(row)
	return row, nil
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// stopByName kills the named actor (rayflow actor stop).
func (nw *network) stopByName(ns, name string) error {
	// Read linearizably: a stop may follow at once the making of the
	// actor through another head (a rare request; a lookup reads this
	// replica's applied state).
	row, ok := nw.namedRowOf(ns, name, gcs.Linearizable)
	if !ok {
		return notFoundError(ns, name)
	}
	h := nw.names.heldHandle(row.ID)
	if h == nil {
		v, err := nw.DecodeRef(row.Handle)
		if err != nil {
			nw.forgetName(func(r gcs.ActorInfo) bool { return r.ID == row.ID })
			return nil
		}
		h = v.AsActor()
	}
	return nw.c.KillActor(nil, h)
}

// killHere kills the actor a key names if it lives here, and stops
// restarting it if this process created it.
func (nw *network) killHere(key, reason string) {
	id := actorhost.KeyID(key)
	if a := nw.ow.CreatedActor(id); a != nil {
		nw.ow.Kill(a, &exec.Error{Kind: exec.KindCancelled, Msg: reason})
	}
	if a, _ := nw.hosted.Lookup(key); a != nil {
		a.Kill(reason)
	}
	for _, n := range nw.c.nodes {
		n.mu.Lock()
		actors := append([]*actorhost.Actor(nil), n.actors...)
		n.mu.Unlock()
		for _, a := range actors {
			if a.ID() == id {
				a.Kill(reason)
			}
		}
	}
	if h := nw.names.drop(id); h != nil && nw.svc != nil {
		nw.forgetName(func(row gcs.ActorInfo) bool { return row.ID == id })
	}
}

// releaseNames frees, at the end of jobs, the names of their actors that
// are not detached; a head then checkpoints its detached actors, whose
// restart must not need the ended jobs' calls.
func (nw *network) releaseNames(ofJobs func(id string) bool) {
	nn := &nw.names
	nn.mu.Lock()
	for id := range nn.held {
		if ofJobs(id) {
			delete(nn.held, id)
		}
	}
	nn.mu.Unlock()
	if nw.svc == nil {
		return
	}
	nw.forgetName(func(row gcs.ActorInfo) bool { return row.Lifetime != "detached" && ofJobs(row.ID) })
	for _, h := range nw.ownedDetached() {
		if a, ok := h.Handle.(*owner.Actor); ok {
			nw.ow.CheckpointNow(a)
		}
	}
}

// ownedDetached lists the detached actors this process (a head) owns.
func (nw *network) ownedDetached() []*exec.ActorHandle {
	nn := &nw.names
	nn.mu.Lock()
	defer nn.mu.Unlock()
	var out []*exec.ActorHandle
	for _, h := range nn.held {
		if h.Class.Info.Detached || strings.HasPrefix(h.ID, detachedJobPrefix) {
			out = append(out, h)
		}
	}
	return out
}

// useDetachedPrograms tells every head that the programs of the
// detached actors this head owns are in use, so that a restart elsewhere
// finds them in the GCS.
func (nw *network) useDetachedPrograms() {
	owned := nw.ownedDetached()
	if len(owned) == 0 {
		return
	}
	hashes := []string{""}
	for _, h := range owned {
		hashes = append(hashes, h.Class.Program().Hash)
	}
	body := wire.EncodeStrings(hashes...)
	msg := append([]byte{wire.QueryJobAlive}, body...)
	ctx, cancel := context.WithTimeout(context.Background(), nw.cfg.HeartbeatEvery)
	defer cancel()
	for _, addr := range nw.hc.Order() {
		if addr == nw.addr {
			nw.handleJobAlive(body)
			continue
		}
		nw.pool.Call(ctx, addr, transport.Query, msg)
	}
}

// encodeRow and decodeRow carry a named actor's row between processes.
func encodeRow(row gcs.ActorInfo) []byte {
	w := &codec.Encoder{}
	w.String(row.ID)
	w.String(row.JobID)
	w.String(row.Class)
	w.String(row.State)
	w.Varint(int64(row.MaxRestarts))
	w.String(row.Name)
	w.String(row.Namespace)
	w.String(row.Lifetime)
	w.Blob(row.Handle)
	return w.Bytes()
}

func decodeRow(b []byte, row *gcs.ActorInfo) error {
	r := codec.NewDecoder(b)
	row.ID, row.JobID, row.Class, row.State = r.String(), r.String(), r.String(), r.String()
	row.MaxRestarts = int(r.Varint())
	row.Name, row.Namespace, row.Lifetime = r.String(), r.String(), r.String()
	row.Handle = r.BlobCopy()
	if r.Err() != nil {
		return wire.Err(r)
	}
	return nil
}

// StopNamedActor kills the named actor of a cluster from outside it
// (rayflow actor stop): it asks the head at addr, with the cluster's
// token, to kill the actor named name in namespace.
func StopNamedActor(ctx context.Context, addr string, token []byte, tlsCfg *tls.Config, namespace, name string) error {
	pool := transport.NewPool(transport.Options{NodeID: "actor-stop", Token: token, TLS: tlsCfg})
	defer pool.Close()
	msg, err := pool.Call(ctx, addr, transport.Query, namedPayload(namedStop, namespace, name))
	if err != nil {
		return err
	}
	if len(msg.Payload) > 0 {
		e, derr := wire.DecodeError(msg.Payload)
		if derr != nil {
			return derr
		}
		return e
	}
	return nil
}
