package nodeagent

import (
	"fmt"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Futures and actor handles inside values that travel between processes.
// A future becomes its object ID, the address of the process that holds
// (or will hold) its value and the address of its owner; an actor handle becomes the actor's ID,
// class, program, the address of the process that hosts it, the address
// of the process that created it (which restarts it) and its incarnation;
// a function value becomes a name (refs_func.go). The network implements
// exec.RefCodec with these forms.

const (
	refFuture byte = 'f'
	refActor  byte = 'a'
)

// EncodeRef writes a future or an actor handle for another process.
func (nw *network) EncodeRef(v exec.Value) ([]byte, error) {
	w := &codec.Encoder{}
	switch v.Kind() {
	case exec.FutureKind:
		f := v.AsFuture()
		o := objstore.ObjectOf(f)
		if o == nil {
			return nil, fmt.Errorf("unknown future %s", f.ID())
		}
		// Served from here when it lives here, and when it is owned here:
		// a reader that cannot fetch it from where it lives then asks its
		// owner, which rebuilds it.
		nw.escaping(f.ID()) // a future borrowed here goes further (borrow.go)
		loc, owner := o.SharedLocation(), o.Owner()
		if loc == "" || owner == "" {
			nw.serveObject(o)
		}
		if loc == "" {
			loc = nw.addr
		}
		if owner == "" {
			owner = nw.addr
		}
		w.Byte(refFuture)
		w.String(f.ID())
		w.String(f.Name())
		w.String(loc)
		w.String(owner)
	case exec.ActorKind:
		h := v.AsActor()
		addr, creator, gen := nw.addr, nw.addr, 0
		switch a := h.Handle.(type) {
		case *owner.Actor:
			addr, creator, gen = a.Whereabouts(nw.addr)
		case *actorhost.Actor:
			creator, gen = a.CreatorAddr(nw.addr), a.Gen()
			nw.hosted.Offer(a) // never displaces a newer incarnation living here
		}
		w.Byte(refActor)
		w.String(h.ID)
		w.String(h.Class.Ref())
		w.String(h.Class.Program().Hash)
		w.String(addr)
		w.String(creator)
		w.Uvarint(uint64(gen))
	case exec.FunctionKind:
		if err := nw.encodeFunc(w, v); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("a %s is not a reference", v.TypeName())
	}
	return w.Bytes(), nil
}

// DecodeRef reads a future or an actor handle written by EncodeRef.
func (nw *network) DecodeRef(data []byte) (exec.Value, error) {
	if len(data) == 0 {
		return exec.None, wire.ErrMalformed
	}
	r := codec.NewDecoder(data[1:])
	switch data[0] {
	case refFuture:
		id, name, loc, owner := r.String(), r.String(), r.String(), r.String()
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		if loc == nw.addr || owner == nw.addr {
			if o := nw.localObject(id); o != nil {
				return exec.FutureValue(&exec.Future{Handle: o}), nil
			}
		}
		o := nw.remoteObject(id, name, loc)
		if owner != nw.addr {
			o.SetOwner(owner)
		}
		return exec.FutureValue(&exec.Future{Handle: o}), nil
	case refActor:
		id, class, hash, addr, creator, gen := r.String(), r.String(), r.String(), r.String(), r.String(), int(r.Uvarint())
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		prog, err := nw.program(hash)
		if err != nil {
			return exec.None, err
		}
		c, ok := prog.ClassByName(class)
		if !ok {
			return exec.None, fmt.Errorf("program has no actor %s", class)
		}
		if addr == nw.addr {
			if a, _ := nw.hosted.Lookup(id); a != nil {
				return exec.ActorValue(&exec.ActorHandle{ID: id, Class: c, Handle: a}), nil
			}
		}
		if creator == nw.addr {
			if a := nw.ow.CreatedActor(id); a != nil {
				return exec.ActorValue(&exec.ActorHandle{ID: id, Class: c, Handle: a}), nil
			}
		}
		return exec.ActorValue(&exec.ActorHandle{ID: id, Class: c, Handle: nw.ow.Borrow(id, c, addr, creator, gen)}), nil
	case refFunc:
		return nw.decodeFunc(data[1:])
	}
	return exec.None, wire.ErrMalformed
}

// localObject is an object held here: one this process serves, or a
// result it awaits (a future passed on before its task finished).
func (nw *network) localObject(id string) *objstore.Object {
	nw.mu.Lock()
	o := nw.served[id]
	nw.mu.Unlock()
	if o != nil {
		return o
	}
	return nw.ow.Awaited(id)
}
