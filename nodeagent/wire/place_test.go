package wire

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/resources"
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

// The bytes of a Place message are pinned, a placement hint's fields
// included, and decode back.
func TestWireGoldenPlaceRequests(t *testing.T) {
	readDemand := func(r *codec.Decoder) (resources.Resources, error) {
		return resources.FromMap(ReadResources(r))
	}
	reqs := []PlaceRequest{
		{Name: "task 'f'", Demand: resources.MustParseSpec("cpu=1"), Origin: "n1",
			ArgBytes: []ArgBytesAt{{Addr: "10.0.0.1:7000", Bytes: 300}}, Prefer: "10.0.0.1:7000", Spread: "h@a.rf:3:5"},
		{Name: "task 'g'", Demand: resources.MustParseSpec("cpu=1")},
	}
	const golden = "02087461736b202766270303637075000000000000f03f036770750000000000000000066d656d6f72790000000000000000026e31010d31302e302e302e313a37303030ac02" +
		"0d31302e302e302e313a37303030" + "0a6840612e72663a333a35" + // Prefer, Spread
		"087461736b202767270303637075000000000000f03f036770750000000000000000066d656d6f7279000000000000000000000000"
	got := hex.EncodeToString(EncodePlaceRequests(reqs))
	if got != golden {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, golden)
	}
	b, _ := hex.DecodeString(golden)
	back, err := DecodePlaceRequests(b, readDemand)
	if err != nil || len(back) != 2 || back[0].Prefer != reqs[0].Prefer || back[0].Spread != reqs[0].Spread ||
		back[1].Prefer != "" || back[1].Spread != "" || !reflect.DeepEqual(back[0].ArgBytes, reqs[0].ArgBytes) {
		t.Errorf("decoded %+v, %v; want %+v", back, err, reqs)
	}
}
