package nodeagent

import (
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Spread calls placed on the local view. A call of a `spread` site
// (hintplace.go) that leaves a process of a networked cluster is placed
// here, on the process's view of the cluster (view.go), as the head's
// global scheduler would place it: on the first node after the one the
// site's last call went to, in node ID order, that has its demand free;
// when no node has it free, as a call without the hint is placed on the
// view (where this process has the least in flight per CPU). So a spread
// site costs no Place round trip to the head, which matters most in the
// first iteration of a `rollouts` loop: the later ones go where the
// first one's calls went (template.go). When the view has no node for
// the call (empty, or no node could ever hold it), the head places it
// as before.
//
// The record of where each site's last call went is Cluster.spread (an
// embedded cluster keeps the same record by node ID; a networked process
// keeps it by address). Threading: the spiller goroutine calls
// spreadOnView; the record and the view have their own locks.

// spreadOnView places the spread calls of a batch on the local view,
// sorting them into byAddr (or queueing them here), and returns the
// items left for the next steps.
func (nw *network) spreadOnView(batch []spillItem, byAddr dispatches) []spillItem {
	rest := batch[:0:0]
	for _, it := range batch {
		key := spreadKeyOnView(it)
		if key == "" {
			rest = append(rest, it)
			continue
		}
		t := it.t
		origin := t.placeHint().origin(it.origin.ID) // "" when it left by its hint, with room at home
		addr := nw.c.spread.pickOnView(&nw.view, key, t.demand, origin, nw.isDead)
		if addr == "" {
			rest = append(rest, it)
			continue
		}
		nw.releaseWhenDone(it, addr, t.demand)
		nw.c.templates.remember(t.call, addr)
		if addr == nw.addr {
			it.enqueue()
			continue
		}
		byAddr.add(addr, it)
	}
	return rest
}

// spreadKeyOnView is the spread key of an item the view may place: a
// lone call with a spread hint, never given back or failed once (those
// the head places, as it sees every node); "" for others.
func spreadKeyOnView(it spillItem) string {
	if it.t == nil || it.t.viaHead || it.t.hint == nil || it.t.hint.prefer != "" {
		return ""
	}
	return it.t.hint.spread
}

// pickOnView chooses on view the node for a call of spread key key,
// demanding demand, spilled from the node origin ("" when its own node
// may take it), leaving out the addresses dead says are dead; "" when
// the head must decide. The demand counts as in flight there until the
// view's release.
func (r *spreadRecord) pickOnView(v *localView, key string, demand resources.Resources, origin string, dead func(string) bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := v.pickNext(demand, origin, r.last[key], dead)
	if addr == "" {
		// No node has room: placed as without the hint.
		return v.pick(demand, origin, dead)
	}
	if r.last == nil || len(r.last) >= maxSpreadKeys {
		r.last = map[string]string{}
	}
	r.last[key] = addr
	return addr
}

// pickNext is the first node with demand free whose ID comes after the
// node at address after, in ID order, wrapping around to the smallest;
// "" when no node has it free. The demand counts as in flight there.
func (v *localView) pickNext(demand resources.Resources, origin, after string, dead func(string) bool) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	afterID := ""
	for _, n := range v.nodes {
		if n.addr == after {
			afterID = n.id
		}
	}
	first, next := -1, -1
	for i := range v.nodes {
		n := &v.nodes[i]
		if n.id == origin || !demand.Fits(n.total) || dead(n.addr) || !demand.Fits(n.base.Sub(v.inflight[n.addr])) {
			continue
		}
		if first < 0 || n.id < v.nodes[first].id {
			first = i
		}
		if n.id > afterID && (next < 0 || n.id < v.nodes[next].id) {
			next = i
		}
	}
	if next < 0 {
		next = first
	}
	if next < 0 {
		return ""
	}
	return v.takeLocked(next, demand)
}
