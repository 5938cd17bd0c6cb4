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
	byID map[string]hosted // by actor ID
}

type hosted struct {
	a   *Actor
	gen int
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byID: map[string]hosted{}} }

// Host makes a the incarnation gen of actor id that lives here and
// returns the earlier incarnation it supersedes, if another one was here
// (its node restarted on this port, or was declared dead while it
// lived), for the caller to stop.
func (r *Registry) Host(id string, gen int, a *Actor) (superseded *Actor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byID[id]; ok && old.a != a {
		superseded = old.a
	}
	r.byID[id] = hosted{a: a, gen: gen}
	return superseded
}

// Offer hosts a as incarnation gen of actor id unless another actor
// already lives here under id (a newer incarnation that a handle of an
// older one must not displace).
func (r *Registry) Offer(id string, gen int, a *Actor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byID[id]; ok && old.a != a {
		return
	}
	r.byID[id] = hosted{a: a, gen: gen}
}

// Lookup returns the actor a key names: a bare ID names whichever
// incarnation lives here, "ID~GEN" only that incarnation. newer reports
// that a later incarnation than the key's lives here instead.
func (r *Registry) Lookup(key string) (a *Actor, newer bool) {
	id, gen := SplitKey(key)
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.byID[id]
	switch {
	case !ok:
		return nil, false
	case !strings.Contains(key, "~") || h.gen == gen:
		return h.a, false
	}
	return nil, h.gen > gen
}

// HostedFor reports whether the actor a key names is absent here, this
// process's own, or was created here by the process at owner: whether
// owner is the one that restarts it.
func (r *Registry) HostedFor(key, owner string) bool {
	id, _ := SplitKey(key)
	r.mu.Lock()
	h, ok := r.byID[id]
	r.mu.Unlock()
	return !ok || h.a.HostedFor(owner)
}

// Remove takes out the actor a key names (as Lookup finds it) and
// returns it, or nil.
func (r *Registry) Remove(key string) *Actor {
	a, _ := r.Lookup(key)
	if a == nil {
		return nil
	}
	id, _ := SplitKey(key)
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.byID[id]; ok && h.a == a {
		delete(r.byID, id)
	}
	return a
}

// RemoveIf takes out every actor whose ID pick chooses and returns them.
func (r *Registry) RemoveIf(pick func(id string) bool) []*Actor {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Actor
	for id, h := range r.byID {
		if pick(id) {
			delete(r.byID, id)
			out = append(out, h.a)
		}
	}
	return out
}
