package actorhost

import (
	"strconv"
	"strings"
	"sync"
)

// An actor that is recreated after its node died is a new incarnation of
// the same actor: calls name the incarnation they are for with a key,
// "ID~GEN" (Key), so that a node that hosts a newer incarnation can tell
// a late call for an older one.

// Key names incarnation gen of actor id.
func Key(id string, gen int) string { return id + "~" + strconv.Itoa(gen) }

// SplitKey returns the actor and the incarnation a key names; a bare
// actor ID names incarnation 0.
func SplitKey(key string) (id string, gen int) {
	id, g, ok := strings.Cut(key, "~")
	if !ok {
		return id, 0
	}
	gen, _ = strconv.Atoi(g)
	return id, gen
}

// KeyID and KeyGen are the actor and the incarnation a key names.
func KeyID(key string) string { id, _ := SplitKey(key); return id }
func KeyGen(key string) int   { _, gen := SplitKey(key); return gen }

// Registry is the actors a node hosts that other processes call: one
// incarnation per actor, the latest.
type Registry struct {
	mu   sync.Mutex
	byID map[string]*Actor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byID: map[string]*Actor{}} }

// Host makes a the incarnation of its actor that lives here and returns
// the earlier incarnation it supersedes, if another one was here (its
// node restarted on this port, or was declared dead while it lived), for
// the caller to stop.
func (r *Registry) Host(a *Actor) (superseded *Actor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.byID[a.id]; old != a {
		superseded = old
	}
	r.byID[a.id] = a
	return superseded
}

// Offer hosts a unless another incarnation of its actor already lives
// here (a newer one, which a handle of an older one must not displace).
func (r *Registry) Offer(a *Actor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byID[a.id]; !ok || old == a {
		r.byID[a.id] = a
	}
}

// Lookup returns the actor a key names: a bare ID names whichever
// incarnation lives here, "ID~GEN" only that incarnation. newer reports
// that a later incarnation than the key's lives here instead.
func (r *Registry) Lookup(key string) (a *Actor, newer bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookupLocked(key)
}

func (r *Registry) lookupLocked(key string) (a *Actor, newer bool) {
	id, gen := SplitKey(key)
	h := r.byID[id]
	switch {
	case h == nil:
		return nil, false
	case !strings.Contains(key, "~") || h.gen == gen:
		return h, false
	}
	return nil, h.gen > gen
}

// HostedFor reports whether the actor a key names is absent here, this
// process's own, or was created here by the process at owner: whether
// owner is the one that restarts it.
func (r *Registry) HostedFor(key, owner string) bool {
	r.mu.Lock()
	a := r.byID[KeyID(key)]
	r.mu.Unlock()
	return a == nil || a.HostedFor(owner)
}

// Remove takes out the actor a key names (as Lookup finds it) and
// returns it, or nil.
func (r *Registry) Remove(key string) *Actor {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, _ := r.lookupLocked(key)
	if a != nil {
		delete(r.byID, a.id)
	}
	return a
}

// RemoveIf takes out every actor whose ID pick chooses and returns them.
func (r *Registry) RemoveIf(pick func(id string) bool) []*Actor {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Actor
	for id, a := range r.byID {
		if pick(id) {
			delete(r.byID, id)
			out = append(out, a)
		}
	}
	return out
}
