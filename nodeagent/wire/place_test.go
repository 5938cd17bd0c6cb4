package wire

import (
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/internal/codec"
)

// The argument locations of a place request survive the wire, and a
// damaged or oversized list is refused, not trusted.
func TestPlaceRequestArgBytesOnTheWire(t *testing.T) {
	held := []ArgBytesAt{{Addr: "10.0.0.1:7000", Bytes: 100 << 20}, {Addr: "10.0.0.2:7000", Bytes: 5000}}
	w := &codec.Encoder{}
	writeArgBytes(w, held)
	writeArgBytes(w, nil)
	r := codec.NewDecoder(w.Bytes())
	if got := readArgBytes(r); r.Err() != nil || !reflect.DeepEqual(got, held) {
		t.Fatalf("read %+v, %v; want %+v", got, r.Err(), held)
	}
	if got := readArgBytes(r); r.Err() != nil || got != nil || r.Remaining() != 0 {
		t.Fatalf("empty list read as %+v, %v (%d bytes left)", got, r.Err(), r.Remaining())
	}

	for name, b := range map[string][]byte{
		"truncated":   w.Bytes()[:w.Len()/2],
		"oversized":   append([]byte{1, 1, 'a'}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
		"bogus count": {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 'a', 1},
	} {
		r := codec.NewDecoder(b)
		if got := readArgBytes(r); r.Err() == nil {
			t.Errorf("%s: read %+v without an error", name, got)
		}
	}
}
