package gcs

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
)

// errCorrupt reports an encoded row or command that cannot be decoded.
var errCorrupt = errors.New("gcs: corrupt encoding")

// The codec below is the package's wire format for rows, commands and
// snapshots: uvarints for lengths and unsigned numbers, zig-zag varints for
// signed numbers, IEEE-754 bits for floats, and length-prefixed bytes for
// strings. Maps are written in sorted key order so that the same value always
// encodes to the same bytes on every replica.

// encoder appends values to a byte slice.
type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) byte1(b byte)     { e.buf = append(e.buf, b) }

func (e *encoder) bool(b bool) {
	if b {
		e.byte1(1)
		return
	}
	e.byte1(0)
}

func (e *encoder) float(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) strings(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.string(s)
	}
}

func (e *encoder) floatMap(m map[string]float64) {
	e.uvarint(uint64(len(m)))
	for _, k := range sortedKeys(m) {
		e.string(k)
		e.float(m[k])
	}
}

func (e *encoder) stringMap(m map[string]string) {
	e.uvarint(uint64(len(m)))
	for _, k := range sortedKeys(m) {
		e.string(k)
		e.string(m[k])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decoder reads values written by encoder. The first failure is sticky:
// later reads return zero values and err reports errCorrupt, so callers
// check once at the end instead of after every field.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail() { d.err = errCorrupt; d.buf = nil }

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil || len(d.buf) < 1 {
		d.fail()
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) bool() bool { return d.byte1() == 1 }

func (d *decoder) float() float64 {
	if d.err != nil || len(d.buf) < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return math.Float64frombits(v)
}

// length reads a count and rejects one larger than the bytes left, so a
// corrupt count cannot make the decoder allocate without bound.
func (d *decoder) length() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.buf)) {
		d.fail()
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// bytes returns a copy, so decoded values never alias the input.
func (d *decoder) bytes() []byte {
	n := d.length()
	if d.err != nil || n == 0 {
		return nil
	}
	b := make([]byte, n)
	copy(b, d.buf[:n])
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) string() string {
	n := d.length()
	if d.err != nil || n == 0 {
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) strings() []string {
	n := d.length()
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ss = append(ss, d.string())
	}
	return ss
}

func (d *decoder) floatMap() map[string]float64 {
	n := d.length()
	if n == 0 {
		return nil
	}
	m := make(map[string]float64, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.string()
		m[k] = d.float()
	}
	return m
}

func (d *decoder) stringMap() map[string]string {
	n := d.length()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

// finish reports the sticky error, or errCorrupt if bytes are left over.
func (d *decoder) finish() error {
	if d.err == nil && len(d.buf) != 0 {
		return errCorrupt
	}
	return d.err
}
