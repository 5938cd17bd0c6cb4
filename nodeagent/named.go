package nodeagent

import (
	"fmt"
	"strings"
	"sync"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/owner"
)

// Named actors (@name, @lifetime("detached")), actors.get and kill
// (spec/declarations.md#named-and-detached-actors).
//
// An embedded cluster keeps its names here, in namedActors. On a cluster
// the heads keep them (named_net.go): a process registers the named
// actors it creates with a head, and asks a head for the actor a name
// stands for.

// namedActors is an embedded cluster's names: by "NAMESPACE/NAME", the
// live named actor's handle. A name holds its actor: a named actor is
// not stopped when its creator drops its handles, only by kill or the
// end of its job (of the run, embedded). Its own lock; any goroutine.
type namedActors struct {
	mu     sync.Mutex
	byName map[string]*exec.ActorHandle
}

// nameKey is how a name is kept: namespace and name.
func nameKey(namespace, name string) string { return namespace + "/" + name }

// reserve takes a name for the actor being made; it fails when a live
// actor has it. bind then gives it its handle, or release frees it.
func (na *namedActors) reserve(namespace, name string) error {
	na.mu.Lock()
	defer na.mu.Unlock()
	key := nameKey(namespace, name)
	if _, taken := na.byName[key]; taken {
		return takenError(namespace, name)
	}
	if na.byName == nil {
		na.byName = map[string]*exec.ActorHandle{}
	}
	na.byName[key] = nil // reserved
	return nil
}

// takenError is the error for a second live actor of the same name.
func takenError(namespace, name string) error {
	get := fmt.Sprintf("actors.get(%q)", name)
	if namespace != compiler.DefaultNamespace {
		get = fmt.Sprintf("actors.get(%q, namespace=%q)", name, namespace)
	}
	return exec.Errorf(exec.KindValue, "an actor named %q already lives in namespace %q: use %s to call it, or kill it first", name, namespace, get)
}

func (na *namedActors) bind(namespace, name string, h *exec.ActorHandle) {
	na.mu.Lock()
	defer na.mu.Unlock()
	na.byName[nameKey(namespace, name)] = h
}

func (na *namedActors) release(namespace, name string) {
	na.mu.Lock()
	defer na.mu.Unlock()
	delete(na.byName, nameKey(namespace, name))
}

// lookup returns the live actor of a name, or nil.
func (na *namedActors) lookup(namespace, name string) *exec.ActorHandle {
	na.mu.Lock()
	defer na.mu.Unlock()
	return na.byName[nameKey(namespace, name)]
}

// forget frees the names of the actors pick chooses by ID and returns
// their handles.
func (na *namedActors) forget(pick func(id string) bool) []*exec.ActorHandle {
	na.mu.Lock()
	defer na.mu.Unlock()
	var out []*exec.ActorHandle
	for key, h := range na.byName {
		if h != nil && pick(h.ID) {
			delete(na.byName, key)
			out = append(out, h)
		}
	}
	return out
}

// notFoundError is what actors.get raises for a name no live actor has.
func notFoundError(namespace, name string) error {
	return exec.Errorf(exec.KindKey, "no live actor is named %q in namespace %q (it was never made, was stopped, or its job ended)", name, namespace)
}

// newNamedActor makes an actor whose class has @name: the name is
// reserved first, so a second live actor of the same name fails
// before it is made.
func (c *Cluster) newNamedActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	info := call.Class.Info
	if c.net != nil {
		return c.net.newNamedActor(th, call)
	}
	if err := c.names.reserve(info.Namespace, info.ActorName); err != nil {
		return nil, err
	}
	h, err := c.newActor(th, call)
	if err != nil {
		c.names.release(info.Namespace, info.ActorName)
		return nil, err
	}
	c.names.bind(info.Namespace, info.ActorName, h)
	return h, nil
}

// LookupActor returns a handle to the live actor named name in
// namespace (actors.get).
func (c *Cluster) LookupActor(th *exec.Thread, namespace, name string) (*exec.ActorHandle, error) {
	if c.net != nil {
		return c.net.lookupNamed(namespace, name)
	}
	h := c.names.lookup(namespace, name)
	if h == nil {
		return nil, notFoundError(namespace, name)
	}
	if a, ok := h.Handle.(*actorhost.Actor); ok && a.Stopped() {
		c.names.release(namespace, name)
		return nil, notFoundError(namespace, name)
	}
	return h, nil
}

// KillActor stops an actor (kill): its queued and running calls fail
// with "cancelled", later calls with "lost"; its name is free again.
func (c *Cluster) KillActor(th *exec.Thread, h *exec.ActorHandle) error {
	switch a := h.Handle.(type) {
	case *actorhost.Actor:
		c.names.forget(func(id string) bool { return id == h.ID })
		if c.net != nil && named(h) {
			c.net.forgetNamed(h.ID)
		}
		a.Kill(killedReason(h))
		return nil
	case *owner.Actor:
		return c.net.killRemote(h, a)
	}
	return exec.Errorf(exec.KindInternal, "internal error: actor handle from another runtime")
}

// named reports whether the actor has a name: @name, or, for a detached
// actor a head made under a name its class does not give (a served
// actor's replica), its ID.
func named(h *exec.ActorHandle) bool {
	return h.Class.Info != nil && h.Class.Info.ActorName != "" || strings.HasPrefix(h.ID, detachedJobPrefix)
}

// killedReason is the message of the calls a kill fails.
func killedReason(h *exec.ActorHandle) string {
	return fmt.Sprintf("actor %s was killed", h.Class.Name())
}

// endNamedJob frees, at the end of an embedded job (a REPL input), the
// names of the job's actors that are not detached, and stops those
// actors.
func (c *Cluster) endNamedJob(jobID string) {
	prefix := jobID + "."
	for _, h := range c.names.forget(func(id string) bool {
		return strings.HasPrefix(id, prefix)
	}) {
		if h.Class.Info.Detached {
			c.names.bind(h.Class.Info.Namespace, h.Class.Info.ActorName, h)
			continue
		}
		if a, ok := h.Handle.(*actorhost.Actor); ok {
			a.Stop(fmt.Sprintf("actor %s stopped: the job that created it has finished", h.Class.Name()))
		}
	}
}

// ActorAddress is where the actor behind h lives, as far as this process
// knows: a node's address on a cluster, "" for an actor of this process
// (rayflow serve status shows it).
func ActorAddress(h *exec.ActorHandle) string {
	if a, ok := h.Handle.(*owner.Actor); ok {
		addr, _, _ := a.Whereabouts("")
		return addr
	}
	return ""
}
