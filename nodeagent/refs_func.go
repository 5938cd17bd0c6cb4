package nodeagent

import (
	"fmt"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Function values inside values that travel between processes (see
// exec.FuncRefOf). Every node runs the same program, loaded by its hash,
// so a function travels as a name there:
//
//	refFunc 'd' HASH NAME    a declaration of the program with that hash
//	refFunc 'b' NAME         a built-in or module function
//	refFunc 'm' ACTOR NAME   an actor's method taken as a value, the actor
//	                         handle in EncodeRef's own form
//	refFunc 'o' OBJECT NAME  a method of a Portable host object (a random
//	                         generator), the object encoded by value
const refFunc byte = 'F'

const (
	funcDeclared byte = 'd'
	funcBuiltin  byte = 'b'
	funcMethod   byte = 'm'
	funcObject   byte = 'o'
)

// encodeFunc writes a function value.
func (nw *network) encodeFunc(w *codec.Encoder, v exec.Value) error {
	ref, err := exec.FuncRefOf(v)
	if err != nil {
		return err
	}
	w.Byte(refFunc)
	switch {
	case ref.Program != nil:
		if ref.Program.Hash == "" {
			return fmt.Errorf("the function %s belongs to a program the cluster does not know", ref.Name)
		}
		w.Byte(funcDeclared)
		w.String(ref.Program.Hash)
		w.String(ref.Name)
	case ref.Receiver.Kind() == exec.ObjectKind:
		recv, err := exec.EncodeWith(nil, ref.Receiver, nil)
		if err != nil {
			return err
		}
		w.Byte(funcObject)
		w.Blob(recv)
		w.String(ref.Name)
	case ref.Actor.Kind() == exec.ActorKind:
		actor, err := nw.EncodeRef(ref.Actor)
		if err != nil {
			return err
		}
		w.Byte(funcMethod)
		w.Blob(actor)
		w.String(ref.Name)
	default:
		w.Byte(funcBuiltin)
		w.String(ref.Name)
	}
	return nil
}

// decodeFunc reads a function value written by encodeFunc (data after
// its refFunc byte).
func (nw *network) decodeFunc(data []byte) (exec.Value, error) {
	r := codec.NewDecoder(data)
	switch r.Byte() {
	case funcDeclared:
		hash, name := r.String(), r.String()
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		prog, err := nw.program(hash)
		if err != nil {
			return exec.None, err
		}
		if v, ok := prog.DeclaredFunc(name); ok {
			return v, nil
		}
		return exec.None, fmt.Errorf("program %s has no function %s", prog.File, name)
	case funcMethod:
		actorData, name := r.Blob(), r.String()
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		actor, err := nw.DecodeRef(actorData)
		if err != nil {
			return exec.None, err
		}
		return exec.BindMethod(actor, name)
	case funcObject:
		recvData, name := r.Blob(), r.String()
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		recv, err := exec.DecodeWith(recvData, nil)
		if err != nil {
			return exec.None, err
		}
		return exec.MethodOf(recv, name)
	case funcBuiltin:
		name := r.String()
		if r.Err() != nil {
			return exec.None, wire.Err(r)
		}
		if v, ok := nw.universeFunc(name); ok {
			return v, nil
		}
		return exec.None, fmt.Errorf("the function %s cannot leave the process that made it: it is bound to state that lives there", name)
	}
	return exec.None, wire.ErrMalformed
}

// universeFunc finds a built-in or module function by name: a built-in
// of the language, or a member of a module of a program this process has
// loaded (each program's modules are its own instances).
func (nw *network) universeFunc(name string) (exec.Value, bool) {
	if v, ok := exec.BuiltinByName(name); ok {
		return v, true
	}
	for _, p := range nw.programs.all() {
		if v, ok := p.UniverseFunc(name); ok {
			return v, true
		}
	}
	if nt := nw.nativeTask(name); nt != nil {
		return exec.FuncValue(nt), true
	}
	return exec.None, false
}
