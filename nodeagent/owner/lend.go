package owner

import (
	"maps"
	"sync"

	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// Lending results to the tasks they are passed to (issue 15: a result is
// freed on every node once no future refers to it anywhere; Ray's
// ownership, an owner and its borrowers).
//
// A future passed as a task's argument to another process is lent: the
// sender counts one lend of the object's ID per argument it sends
// (Lend), and the process that runs the task holds the future it decoded
// until the runtime collects it, then gives the lend back (Unborrow,
// batched; nodeagent's borrow.go). While an object it owns is lent, a
// fetch of its value here releases nothing: the release waits for the
// last lend to come back. A borrower that lets the future go further (to
// another process, inside a value, as a result) says so first, at once
// (Escaped): the object then keeps its holder's copy until the job ends,
// as every shared object did before. A lend never given back (its message
// lost, its borrower dead) keeps the object until the job ends too: the
// counts err only on the side of keeping.

// lends are the objects lent out, by ID. They are guarded by mu, never
// held with another lock.
type lends struct {
	mu sync.Mutex
	m  map[string]*lent
}

// lent is one object's outstanding lends.
type lent struct {
	n   int
	obj *objstore.Object // the object as this process holds it
	// release is set when its value was fetched here while lent: the
	// holder to tell once the last lend comes back ("" for none).
	release string
}

// Lend counts one more lend of o, which is about to leave as a task's
// argument.
func (ow *Owner) Lend(o *objstore.Object) {
	l := &ow.lends
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*lent{}
	}
	e := l.m[o.ID()]
	if e == nil {
		e = &lent{obj: o}
		l.m[o.ID()] = e
	}
	e.n++
	l.mu.Unlock()
}

// Unborrow takes back one lend of each ID (an ID not lent is ignored) and
// returns those whose last lend came back. A value fetched here while
// lent is released at its holder now.
func (ow *Owner) Unborrow(ids []string) (returned []string) {
	type pending struct {
		o    *objstore.Object
		addr string
	}
	var release []pending
	l := &ow.lends
	l.mu.Lock()
	for _, id := range ids {
		e := l.m[id]
		if e == nil {
			continue
		}
		if e.n--; e.n > 0 {
			continue
		}
		delete(l.m, id)
		returned = append(returned, id)
		if e.release != "" {
			release = append(release, pending{e.obj, e.release})
		}
	}
	l.mu.Unlock()
	for _, p := range release {
		// Its lineage stays (rows false): a borrower's lineage may name it.
		ow.release(p.o, p.addr, false)
	}
	return returned
}

// Escaped records that a borrower let the future of a lent object go
// further than the task it was lent to: the object is shared for good
// (it keeps its holder's copy until the job ends).
func (ow *Owner) Escaped(ids []string) {
	l := &ow.lends
	l.mu.Lock()
	var shared []*objstore.Object
	for _, id := range ids {
		if e := l.m[id]; e != nil {
			e.release = ""
			shared = append(shared, e.obj)
		}
	}
	l.mu.Unlock()
	for _, o := range shared {
		o.MarkShared()
	}
}

// deferRelease keeps, for a lent object, the release of its copy at addr
// until its last lend comes back. It reports whether o is lent.
func (ow *Owner) deferRelease(o *objstore.Object, addr string) bool {
	l := &ow.lends
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[o.ID()]
	if e == nil || e.obj != o {
		return false
	}
	e.release = addr
	return true
}

// Lent counts the objects lent out.
func (ow *Owner) Lent() int {
	l := &ow.lends
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// forgetLends drops the lends of the objects ofJobs picks (their jobs are
// over).
func (ow *Owner) forgetLends(ofJobs func(id string) bool) {
	l := &ow.lends
	l.mu.Lock()
	maps.DeleteFunc(l.m, func(id string, _ *lent) bool { return ofJobs(id) })
	l.mu.Unlock()
}
