package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShortPayload is returned by a Decoder that runs out of bytes or meets
// a malformed number.
var ErrShortPayload = errors.New("transport: payload too short or malformed")

// Encoder appends values to a byte slice. The zero value is ready to use.
type Encoder struct{ buf []byte }

// NewEncoder returns an encoder that appends to buf[:0].
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf[:0]} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of encoded bytes.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder, keeping its buffer.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Uvarint appends an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// Varint appends a zig-zag signed varint.
func (e *Encoder) Varint(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

// Fixed64 appends 8 bytes, big-endian.
func (e *Encoder) Fixed64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// Float64 appends the IEEE-754 bits of f, big-endian.
func (e *Encoder) Float64(f float64) { e.Fixed64(math.Float64bits(f)) }

// Bool appends one byte, 0 or 1.
func (e *Encoder) Bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Byte appends one byte.
func (e *Encoder) Byte(b byte) { e.buf = append(e.buf, b) }

// String appends a length-prefixed string.
func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// BytesField appends a length-prefixed byte slice.
func (e *Encoder) BytesField(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// Decoder reads values from a payload. Every method checks bounds and returns
// an error; the first error also sticks, so a caller may read a whole message
// and check Err once at the end (values read after an error are zero).
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

func (d *Decoder) fail(what string) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w: reading %s at offset %d of %d", ErrShortPayload, what, d.off, len(d.buf))
	}
	return d.err
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() (uint64, error) {
	if d.err != nil {
		return 0, d.err
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		return 0, d.fail("uvarint")
	}
	d.off += n
	return v, nil
}

// Varint reads a zig-zag signed varint.
func (d *Decoder) Varint() (int64, error) {
	if d.err != nil {
		return 0, d.err
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		return 0, d.fail("varint")
	}
	d.off += n
	return v, nil
}

// Fixed64 reads 8 bytes, big-endian.
func (d *Decoder) Fixed64() (uint64, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.Remaining() < 8 {
		return 0, d.fail("fixed64")
	}
	v := binary.BigEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return v, nil
}

// Float64 reads a float64.
func (d *Decoder) Float64() (float64, error) {
	v, err := d.Fixed64()
	return math.Float64frombits(v), err
}

// Byte reads one byte.
func (d *Decoder) Byte() (byte, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.Remaining() < 1 {
		return 0, d.fail("byte")
	}
	b := d.buf[d.off]
	d.off++
	return b, nil
}

// Bool reads a bool; any byte other than 0 or 1 is an error.
func (d *Decoder) Bool() (bool, error) {
	b, err := d.Byte()
	if err != nil {
		return false, err
	}
	if b > 1 {
		d.off--
		return false, d.fail("bool")
	}
	return b == 1, nil
}

// BytesField reads a length-prefixed byte slice. The result aliases the
// payload; copy it to keep it beyond the payload's life.
func (d *Decoder) BytesField() ([]byte, error) {
	n, err := d.Uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(d.Remaining()) {
		return nil, d.fail("bytes")
	}
	b := d.buf[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

// String reads a length-prefixed string.
func (d *Decoder) String() (string, error) {
	b, err := d.BytesField()
	return string(b), err
}

// HelloInfo is the payload of a Hello frame: who is at the other end.
type HelloInfo struct {
	NodeID string
	Epoch  uint64
	Meta   []byte // opaque, for the runtime
}

// Encode returns the payload of a Hello frame.
func (h *HelloInfo) Encode() []byte {
	var e Encoder
	e.Uvarint(Version)
	e.String(h.NodeID)
	e.Uvarint(h.Epoch)
	e.BytesField(h.Meta)
	return e.Bytes()
}

// DecodeHello parses the payload of a Hello frame.
func DecodeHello(p []byte) (HelloInfo, error) {
	d := NewDecoder(p)
	v, _ := d.Uvarint()
	var h HelloInfo
	h.NodeID, _ = d.String()
	h.Epoch, _ = d.Uvarint()
	meta, _ := d.BytesField()
	if err := d.Err(); err != nil {
		return HelloInfo{}, fmt.Errorf("bad Hello: %w", err)
	}
	if v != Version {
		return HelloInfo{}, fmt.Errorf("bad Hello: peer speaks protocol version %d, this side %d", v, Version)
	}
	h.Meta = append([]byte(nil), meta...)
	return h, nil
}

// Error codes carried by Error frames.
const (
	CodeInternal    uint64 = 1 // the handler failed (its error message follows)
	CodeUnknownType uint64 = 2 // the message type is not known to the receiver
	CodeProtocol    uint64 = 3 // the frame broke the protocol; the connection closes
	CodeRefused     uint64 = 4 // the peer was refused at Hello
	CodeCanceled    uint64 = 5 // the request was canceled or the server is closing
	CodeStream      uint64 = 6 // a stream reply failed part way
)

// RemoteError is the error a caller gets for an Error frame. A handler may
// return one to choose the code.
type RemoteError struct {
	Code    uint64
	Message string
}

func (e *RemoteError) Error() string { return "remote: " + e.Message }

func encodeError(code uint64, msg string) []byte {
	var e Encoder
	e.Uvarint(code)
	e.String(msg)
	return e.Bytes()
}

func decodeError(p []byte) *RemoteError {
	d := NewDecoder(p)
	code, _ := d.Uvarint()
	msg, _ := d.String()
	if d.Err() != nil {
		return &RemoteError{Code: CodeProtocol, Message: "malformed error reply"}
	}
	return &RemoteError{Code: code, Message: msg}
}
