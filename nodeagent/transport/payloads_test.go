package transport

import (
	"testing"

	"github.com/rayflow/rayflow/internal/codec"
)

func TestHelloRoundTrip(t *testing.T) {
	h := HelloInfo{NodeID: "node-1", Epoch: 12, Meta: []byte("x")}
	got, err := DecodeHello(h.Encode())
	if err != nil || got.NodeID != "node-1" || got.Epoch != 12 || string(got.Meta) != "x" {
		t.Fatalf("%+v %v", got, err)
	}
	var e codec.Encoder
	e.Uvarint(Version + 1)
	if _, err := DecodeHello(e.Bytes()); err == nil {
		t.Fatal("future version accepted")
	}
}
