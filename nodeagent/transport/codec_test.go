package transport

import (
	"errors"
	"math"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	var e Encoder
	e.Uvarint(0)
	e.Uvarint(math.MaxUint64)
	e.Varint(-1 << 40)
	e.Fixed64(0xdeadbeefcafef00d)
	e.Float64(math.Pi)
	e.Bool(true)
	e.Bool(false)
	e.String("héllo")
	e.BytesField([]byte{1, 2, 3})
	e.Byte(7)
	d := NewDecoder(e.Bytes())
	u0, _ := d.Uvarint()
	u1, _ := d.Uvarint()
	v, _ := d.Varint()
	f64, _ := d.Fixed64()
	fl, _ := d.Float64()
	b1, _ := d.Bool()
	b2, _ := d.Bool()
	s, _ := d.String()
	bs, _ := d.BytesField()
	by, _ := d.Byte()
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if u0 != 0 || u1 != math.MaxUint64 || v != -1<<40 || f64 != 0xdeadbeefcafef00d || fl != math.Pi ||
		!b1 || b2 || s != "héllo" || string(bs) != "\x01\x02\x03" || by != 7 || d.Remaining() != 0 {
		t.Fatal("round trip mismatch")
	}
}

func TestDecoderBounds(t *testing.T) {
	var e Encoder
	e.Uvarint(1 << 40) // a length far beyond the payload
	for name, read := range map[string]func(d *Decoder) error{
		"bytes":   func(d *Decoder) error { _, err := d.BytesField(); return err },
		"string":  func(d *Decoder) error { _, err := d.String(); return err },
		"fixed64": func(d *Decoder) error { _, err := d.Fixed64(); return err },
	} {
		if err := read(NewDecoder(e.Bytes())); !errors.Is(err, ErrShortPayload) {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := NewDecoder([]byte{0x80}) // unterminated varint
	if _, err := d.Uvarint(); !errors.Is(err, ErrShortPayload) {
		t.Fatal(err)
	}
	if _, err := d.Byte(); err == nil || d.Err() == nil {
		t.Fatal("error did not stick")
	}
	if _, err := NewDecoder([]byte{2}).Bool(); err == nil {
		t.Fatal("bool 2 accepted")
	}
	if _, err := NewDecoder(nil).Varint(); err == nil {
		t.Fatal("empty varint accepted")
	}
}

func TestHelloRoundTrip(t *testing.T) {
	h := HelloInfo{NodeID: "node-1", Epoch: 12, Meta: []byte("x")}
	got, err := DecodeHello(h.Encode())
	if err != nil || got.NodeID != "node-1" || got.Epoch != 12 || string(got.Meta) != "x" {
		t.Fatalf("%+v %v", got, err)
	}
	var e Encoder
	e.Uvarint(Version + 1)
	if _, err := DecodeHello(e.Bytes()); err == nil {
		t.Fatal("future version accepted")
	}
}
