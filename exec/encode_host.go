package exec

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// Portable is a host object that can leave the process that made it (a
// seeded random generator): it encodes its state, and the decoder
// registered under its type name makes an equal object from it on the
// other side. Host objects that are not Portable (an rl environment, a
// module) stay in their process.
type Portable interface {
	Object
	// EncodeState returns the object's state.
	EncodeState() ([]byte, error)
}

// portables maps a Portable's type name to its decoder. Written by
// RegisterPortable at package initialisation, read by every decoder.
var portables sync.Map // string → func([]byte) (Object, error)

// RegisterPortable registers the decoder of a Portable type; a package
// that defines one calls it in its init.
func RegisterPortable(typeName string, decode func(state []byte) (Object, error)) {
	portables.Store(typeName, decode)
}

// encodeHost appends a Portable: tag, type name, state.
func encodeHost(buf []byte, p Portable) ([]byte, error) {
	state, err := p.EncodeState()
	if err != nil {
		return nil, err
	}
	name := p.TypeName()
	buf = binary.AppendUvarint(append(buf, tagHost), uint64(len(name)))
	buf = append(buf, name...)
	buf = binary.AppendUvarint(buf, uint64(len(state)))
	return append(buf, state...), nil
}

// hostObject reads what encodeHost wrote (after the tag).
func (d *decoder) hostObject() (Value, error) {
	name, err := d.chunk("host object")
	if err != nil {
		return None, err
	}
	state, err := d.chunk("host object")
	if err != nil {
		return None, err
	}
	decode, ok := portables.Load(string(name))
	if !ok {
		return None, d.fail(fmt.Sprintf("a %s, which this process cannot make", name))
	}
	o, err := decode.(func([]byte) (Object, error))(state)
	if err != nil {
		return None, d.fail(fmt.Sprintf("a %s: %v", name, err))
	}
	return ObjectValue(o), nil
}

// chunk reads a uvarint length and that many bytes (of a what, to name
// in the error when they are not all there).
func (d *decoder) chunk(what string) ([]byte, error) {
	n, err := d.uvarint(uint64(len(d.data)))
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.data)) {
		return nil, d.fail(what + " truncated")
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b, nil
}
