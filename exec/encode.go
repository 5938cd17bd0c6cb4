package exec

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Value encoding: a compact binary form of plain values (none, bool, int,
// float, string, list, map, tensor) used to spill objects to disk and to
// send them between processes. Futures, actor handles and function values
// travel as references that the runtime's RefCodec writes and reads; a host
// object only if it is Portable (a random generator); other host objects
// have no encoding: they only make sense inside one process.
//
// Format: one tag byte, then
//
//	int      8-byte little-endian two's complement
//	float    8-byte IEEE 754 bits, little-endian
//	string   uvarint length, bytes
//	list     uvarint count, elements
//	map      uvarint count, key value pairs
//	tensor   uvarint rank, uvarint dims, float64 data (8 bytes each,
//	         little-endian IEEE 754: on a little-endian machine, the
//	         tensor's memory as it lies, which EncodeStream sends and
//	         StreamDecoder receives in place; elsewhere each float is
//	         converted, so the encoding is the same everywhere)
const (
	tagNone byte = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagList
	tagMap
	tagTensor
	tagRef  // a future, an actor handle or a function, written by a RefCodec
	tagHost // a Portable host object (encode_host.go)
)

// RefCodec writes and reads the values that only a runtime can move
// between processes: futures, actor handles and function values (see
// FuncRefOf). The node agent provides one; without it such values cannot
// be encoded.
type RefCodec interface {
	// EncodeRef returns a runtime-defined form of a future, handle or
	// function.
	EncodeRef(v Value) ([]byte, error)
	// DecodeRef turns that form back into a value.
	DecodeRef(data []byte) (Value, error)
}

// encodeVersion is the first byte of every encoded value, so that a
// reader can refuse data from an incompatible writer.
const encodeVersion byte = 1

// maxDecodeDepth bounds nesting so that malformed input cannot exhaust
// the stack.
const maxDecodeDepth = 1000

// Encode appends the encoding of v to buf.
func Encode(buf []byte, v Value) ([]byte, error) {
	return EncodeWith(buf, v, nil)
}

// EncodeWith is Encode with a codec for futures and actor handles.
func EncodeWith(buf []byte, v Value, refs RefCodec) ([]byte, error) {
	buf = append(buf, encodeVersion)
	e := encoder{refs: refs}
	return e.value(buf, v, 0)
}

type encoder struct{ refs RefCodec }

func (enc encoder) value(buf []byte, v Value, depth int) ([]byte, error) {
	if depth > maxDecodeDepth {
		return nil, Errorf(KindValue, "value is nested too deeply to encode")
	}
	switch v.kind {
	case NoneKind:
		return append(buf, tagNone), nil
	case BoolKind:
		if v.AsBool() {
			return append(buf, tagTrue), nil
		}
		return append(buf, tagFalse), nil
	case IntKind:
		return binary.LittleEndian.AppendUint64(append(buf, tagInt), v.num), nil
	case FloatKind:
		return binary.LittleEndian.AppendUint64(append(buf, tagFloat), v.num), nil
	case StringKind:
		s := v.AsString()
		buf = binary.AppendUvarint(append(buf, tagString), uint64(len(s)))
		return append(buf, s...), nil
	case ListKind:
		elems := v.AsList().Elems
		buf = binary.AppendUvarint(append(buf, tagList), uint64(len(elems)))
		var err error
		for _, e := range elems {
			if buf, err = enc.value(buf, e, depth+1); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case MapKind:
		m := v.AsMap()
		buf = binary.AppendUvarint(append(buf, tagMap), uint64(m.Len()))
		var err error
		for i, k := range m.keys {
			if buf, err = enc.value(buf, k, depth+1); err != nil {
				return nil, err
			}
			if buf, err = enc.value(buf, m.vals[i], depth+1); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case TensorKind:
		t := v.AsTensor()
		buf = binary.AppendUvarint(append(buf, tagTensor), uint64(len(t.Shape)))
		for _, d := range t.Shape {
			buf = binary.AppendUvarint(buf, uint64(d))
		}
		for _, x := range t.Data {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
		return buf, nil
	case ObjectKind:
		if p, ok := v.ref.(Portable); ok {
			return encodeHost(buf, p)
		}
	case FutureKind, ActorKind, FunctionKind:
		if enc.refs != nil {
			data, err := enc.refs.EncodeRef(v)
			if err != nil {
				return nil, err
			}
			buf = binary.AppendUvarint(append(buf, tagRef), uint64(len(data)))
			return append(buf, data...), nil
		}
	}
	return nil, Errorf(KindType, "a %s cannot leave the process that made it", v.TypeName())
}

// EncodedSize estimates the bytes a value occupies, without encoding it.
func EncodedSize(v Value) int64 {
	switch v.kind {
	case StringKind:
		return int64(len(v.AsString())) + 9
	case ListKind:
		n := int64(9)
		for _, e := range v.AsList().Elems {
			n += EncodedSize(e)
		}
		return n
	case MapKind:
		m := v.AsMap()
		n := int64(9)
		for i, k := range m.keys {
			n += EncodedSize(k) + EncodedSize(m.vals[i])
		}
		return n
	case TensorKind:
		t := v.AsTensor()
		return int64(8*len(t.Data) + 9*len(t.Shape) + 9)
	}
	return 9
}

// Decode reads a value written by Encode. Malformed input gives an error,
// never a panic.
func Decode(data []byte) (Value, error) {
	return DecodeWith(data, nil)
}

// DecodeWith is Decode with a codec for futures and actor handles.
func DecodeWith(data []byte, refs RefCodec) (Value, error) {
	if len(data) == 0 || data[0] != encodeVersion {
		return None, Errorf(KindValue, "encoded value has an unknown version")
	}
	d := decoder{data: data[1:], refs: refs}
	v, err := d.value(0)
	if err != nil {
		return None, err
	}
	if len(d.data) != 0 {
		return None, Errorf(KindValue, "encoded value has %d trailing bytes", len(d.data))
	}
	return v, nil
}

type decoder struct {
	data []byte
	refs RefCodec
	// elems counts the list elements and map keys and values made so
	// far: each takes a Value (valueSize bytes) however few bytes it was
	// encoded in, so the count is held to MaxValueBytes/valueSize, or a
	// 64 MiB frame of one-byte elements would become 2 GiB.
	elems int64
}

// take charges n more elements to the value being decoded.
func (d *decoder) take(n uint64) error {
	if n > uint64(MaxValueBytes) {
		n = uint64(MaxValueBytes) // any count this large is refused below
	}
	d.elems += int64(n)
	if err := checkSize("the decoded value", d.elems, valueSize); err != nil {
		return err
	}
	return nil
}

func (d *decoder) fail(what string) error {
	return Errorf(KindValue, "malformed encoded value: %s", what)
}

func (d *decoder) uvarint(limit uint64) (uint64, error) {
	n, size := binary.Uvarint(d.data)
	if size <= 0 || n > limit {
		return 0, d.fail("bad length")
	}
	d.data = d.data[size:]
	return n, nil
}

func (d *decoder) u64() (uint64, error) {
	if len(d.data) < 8 {
		return 0, d.fail("truncated number")
	}
	n := binary.LittleEndian.Uint64(d.data)
	d.data = d.data[8:]
	return n, nil
}

func (d *decoder) value(depth int) (Value, error) {
	if depth > maxDecodeDepth {
		return None, d.fail("nested too deeply")
	}
	if len(d.data) == 0 {
		return None, d.fail("truncated")
	}
	tag := d.data[0]
	d.data = d.data[1:]
	switch tag {
	case tagNone:
		return None, nil
	case tagFalse:
		return False, nil
	case tagTrue:
		return True, nil
	case tagInt, tagFloat:
		n, err := d.u64()
		kind := IntKind
		if tag == tagFloat {
			kind = FloatKind
		}
		return Value{kind: kind, num: n}, err
	case tagString:
		s, err := d.chunk("string")
		if err != nil {
			return None, err
		}
		return Str(string(s)), nil
	case tagList:
		return d.list(depth)
	case tagMap:
		return d.mapValue(depth)
	case tagTensor:
		return d.tensor()
	case tagRef:
		n, err := d.uvarint(uint64(len(d.data)))
		if err != nil || n > uint64(len(d.data)) || d.refs == nil {
			return None, d.fail("a reference this process cannot read")
		}
		ref := d.data[:n]
		d.data = d.data[n:]
		return d.refs.DecodeRef(ref)
	case tagHost:
		return d.hostObject()
	}
	return None, d.fail(fmt.Sprintf("unknown tag %d", tag))
}

func (d *decoder) list(depth int) (Value, error) {
	n, err := d.uvarint(uint64(len(d.data)))
	if err != nil {
		return None, err
	}
	if err := d.take(n); err != nil {
		return None, err
	}
	elems := make([]Value, n)
	for i := range elems {
		if elems[i], err = d.value(depth + 1); err != nil {
			return None, err
		}
	}
	return ListOf(elems), nil
}

func (d *decoder) mapValue(depth int) (Value, error) {
	n, err := d.uvarint(uint64(len(d.data)) / 2)
	if err != nil {
		return None, err
	}
	if err := d.take(2 * n); err != nil {
		return None, err
	}
	m := NewMap(int(n))
	for i := uint64(0); i < n; i++ {
		k, err := d.value(depth + 1)
		if err != nil {
			return None, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return None, err
		}
		if err := m.Set(k, v); err != nil {
			return None, d.fail("bad map key")
		}
	}
	return MapValue(m), nil
}

func (d *decoder) tensor() (Value, error) {
	rank, err := d.uvarint(32)
	if err != nil {
		return None, err
	}
	shape := make([]int, rank)
	size := uint64(1)
	for i := range shape {
		dim, err := d.uvarint(1 << 40)
		if err != nil {
			return None, err
		}
		shape[i] = int(dim)
		if dim > 0 && size > (1<<40)/dim {
			return None, d.fail("tensor too large")
		}
		size *= dim
	}
	if size > uint64(len(d.data))/8 {
		return None, d.fail("tensor data truncated")
	}
	data := make([]float64, size)
	for i := range data {
		data[i] = math.Float64frombits(binary.LittleEndian.Uint64(d.data[8*i:]))
	}
	d.data = d.data[8*size:]
	return TensorValue(&Tensor{Shape: shape, Data: data}), nil
}
