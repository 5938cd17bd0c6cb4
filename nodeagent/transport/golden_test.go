package transport

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// TestGoldenPayloads pins the bytes of the payloads the transport itself
// writes (Hello and Error frames): the fixtures were produced before the
// payload codec moved to internal/codec. Each is also decoded back.
func TestGoldenPayloads(t *testing.T) {
	hellos := []struct {
		h   HelloInfo
		hex string
	}{
		{HelloInfo{NodeID: "node-1", Epoch: 1 << 40, Meta: []byte{0, 0xff}}, "01066e6f64652d318080808080200200ff"},
		{HelloInfo{}, "01000000"},
		{HelloInfo{NodeID: "n", Nonce: []byte{1, 2}, Proof: []byte{3}}, "01016e00000201020103"},
	}
	for _, g := range hellos {
		if got := hex.EncodeToString(g.h.Encode()); got != g.hex {
			t.Errorf("hello %+v: encoding changed:\n got %s\nwant %s", g.h, got, g.hex)
		}
		p, _ := hex.DecodeString(g.hex)
		got, err := DecodeHello(p)
		if err != nil || !reflect.DeepEqual(got, g.h) {
			t.Errorf("hello fixture %s decodes to %+v, %v", g.hex, got, err)
		}
	}
	errs := []struct {
		e   RemoteError
		hex string
	}{
		{RemoteError{Code: CodeInternal, Message: "no such method"}, "010e6e6f2073756368206d6574686f64"},
		{RemoteError{Code: CodeStream, Message: ""}, "0600"},
		{RemoteError{Code: 300, Message: "é"}, "ac0202c3a9"},
	}
	for _, g := range errs {
		if got := hex.EncodeToString(encodeError(g.e.Code, g.e.Message)); got != g.hex {
			t.Errorf("error %+v: encoding changed:\n got %s\nwant %s", g.e, got, g.hex)
		}
		p, _ := hex.DecodeString(g.hex)
		if got := decodeError(p); *got != g.e {
			t.Errorf("error fixture %s decodes to %+v", g.hex, got)
		}
	}
}
