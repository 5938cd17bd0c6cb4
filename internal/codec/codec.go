package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrMalformed is wrapped by every error a Decoder reports.
var ErrMalformed = errors.New("codec: malformed input")

// Encoder appends values to a byte slice. The zero value is ready to use.
type Encoder struct{ buf []byte }

// NewEncoder returns an encoder that appends to dst, after what dst holds.
func NewEncoder(dst []byte) *Encoder { return &Encoder{buf: dst} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of encoded bytes.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder, keeping its buffer.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Byte appends one byte.
func (e *Encoder) Byte(b byte) { e.buf = append(e.buf, b) }

// Raw appends bytes another Encoder wrote, as they are.
func (e *Encoder) Raw(b []byte) { e.buf = append(e.buf, b...) }

// Bool appends one byte, 1 for true and 0 for false.
func (e *Encoder) Bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Uvarint appends an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// Varint appends a zig-zag signed varint.
func (e *Encoder) Varint(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

// Float64 appends the IEEE-754 bits of f, little-endian.
func (e *Encoder) Float64(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// String appends a length-prefixed string.
func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Blob appends a length-prefixed byte string.
func (e *Encoder) Blob(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// BlobFunc appends a length-prefixed byte string that fill appends to
// the buffer it is given (it must only append); when fill reports false,
// an empty one. It spares the caller a buffer of its own for bytes it
// encodes: their length is written in front of them afterwards (one
// byte is kept for it, the bytes moved only when the length needs more).
func (e *Encoder) BlobFunc(fill func(dst []byte) ([]byte, bool)) {
	at := len(e.buf)
	out, ok := fill(append(e.buf, 0))
	if !ok {
		e.buf = append(e.buf[:at], 0)
		return
	}
	n := len(out) - at - 1
	if n < 0x80 {
		out[at] = byte(n)
		e.buf = out
		return
	}
	var lb [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lb[:], uint64(n))
	out = append(out, lb[:k-1]...) // room for the longer length
	copy(out[at+k:], out[at+1:at+1+n])
	copy(out[at:], lb[:k])
	e.buf = out
}

// Strings appends a count and each string.
func (e *Encoder) Strings(ss []string) {
	e.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.String(s)
	}
}

// FloatMap appends a count and each key and value, in sorted key order.
func (e *Encoder) FloatMap(m map[string]float64) {
	e.Uvarint(uint64(len(m)))
	switch len(m) {
	case 0:
		return
	case 1: // a task's resources, most often: no sort, no lookup
		for k, v := range m {
			e.String(k)
			e.Float64(v)
		}
		return
	}
	var small [8]string
	for _, k := range sortedKeys(m, small[:0]) {
		e.String(k)
		e.Float64(m[k])
	}
}

// StringMap appends a count and each key and value, in sorted key order.
func (e *Encoder) StringMap(m map[string]string) {
	e.Uvarint(uint64(len(m)))
	if len(m) == 0 {
		return
	}
	var small [8]string
	for _, k := range sortedKeys(m, small[:0]) {
		e.String(k)
		e.String(m[k])
	}
}

// sortedKeys appends m's keys to keys, sorted.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Decoder reads values from an input, checking every read against what
// is left. The first error sticks: later reads return zero values and Err
// reports it, so a caller may read a whole record and check once.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, if any; it wraps ErrMalformed.
func (d *Decoder) Err() error { return d.err }

// Finish returns Err, or an error if input is left over.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.buf) {
		d.Fail("trailing bytes")
	}
	return d.err
}

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// Span returns the input read since offset from (an earlier Offset). It
// aliases the input.
func (d *Decoder) Span(from int) []byte { return d.buf[from:d.off:d.off] }

// Fail records why the input is malformed, unless an error is already
// recorded: a record's own checks (a version, a range) stick like the
// decoder's.
func (d *Decoder) Fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d of %d", ErrMalformed, why, d.off, len(d.buf))
	}
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.Fail("short byte")
		return 0
	}
	b := d.buf[d.off]
	d.off++
	return b
}

// Bool reads a bool; a byte other than 0 or 1 is malformed.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) || d.buf[d.off] > 1 {
		d.Fail("bad bool")
		return false
	}
	b := d.buf[d.off] == 1
	d.off++
	return b
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.Fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

// Varint reads a zig-zag signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// Float64 reads 8 bytes of IEEE-754 bits, little-endian.
func (d *Decoder) Float64() float64 {
	if d.err != nil {
		return 0
	}
	if d.Remaining() < 8 {
		d.Fail("short float64")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return math.Float64frombits(v)
}

// Blob reads a length-prefixed byte string. The result aliases the input
// (and is empty, not nil, for a zero length); see BlobCopy.
func (d *Decoder) Blob() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Remaining()) {
		d.Fail("length beyond the input")
		return nil
	}
	end := d.off + int(n)
	b := d.buf[d.off:end:end]
	d.off = end
	return b
}

// BlobCopy reads a length-prefixed byte string into a new slice; nil for
// a zero length.
func (d *Decoder) BlobCopy() []byte {
	b := d.Blob()
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Blob()) }

// Count reads a number of elements that each take at least min bytes,
// and rejects one that could not fit in what is left: a caller may
// allocate Count elements.
func (d *Decoder) Count(min int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(d.Remaining()/max(min, 1)) {
		d.Fail("count beyond the input")
		return 0
	}
	return int(n)
}

// Strings reads what Encoder.Strings wrote; nil for none.
func (d *Decoder) Strings() []string {
	n := d.Count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ss = append(ss, d.String())
	}
	return ss
}

// FloatMap reads what Encoder.FloatMap wrote; nil for none.
func (d *Decoder) FloatMap() map[string]float64 {
	n := d.Count(1 + 8)
	if n == 0 {
		return nil
	}
	m := make(map[string]float64, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.String()
		m[k] = d.Float64()
	}
	return m
}

// StringMap reads what Encoder.StringMap wrote; nil for none.
func (d *Decoder) StringMap() map[string]string {
	n := d.Count(1 + 1)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.String()
		m[k] = d.String()
	}
	return m
}
