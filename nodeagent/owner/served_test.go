package owner

import (
	"bytes"
	"testing"

	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// framesSent stands in for the transport side: it records the
// SubmitTask frames the owner sends, as the Submits each carries.
type framesSent struct {
	Network // nil: any method not defined below panics
	frames  [][][]byte
}

func (n *framesSent) Send(_ string, typ transport.MsgType, p []byte) error {
	if typ != transport.SubmitTask {
		return nil
	}
	var msgs [][]byte
	if err := wire.EachSubmit(p, func(m []byte) error {
		msgs = append(msgs, bytes.Clone(m))
		return nil
	}); err != nil {
		panic(err)
	}
	n.frames = append(n.frames, msgs)
	return nil
}

// Calls gathered for one node go in one frame, in order, unless their
// bytes pass maxServedFrame: then in as many frames as needed.
func TestServedCallsShareFramesUpToABound(t *testing.T) {
	n := &framesSent{}
	ow := New(n)
	small := []servedCall{{msg: []byte("a")}, {msg: []byte("b")}, {msg: []byte("c")}}
	ow.sendServed("node:1", small)
	if len(n.frames) != 1 || len(n.frames[0]) != 3 || string(n.frames[0][2]) != "c" {
		t.Fatalf("three small calls went in frames %q, want one frame with the three in order", n.frames)
	}

	n.frames = nil
	big := make([]servedCall, 5)
	for i := range big {
		big[i].msg = bytes.Repeat([]byte{byte('0' + i)}, maxServedFrame/2)
	}
	ow.sendServed("node:1", big)
	var counts []int
	for _, f := range n.frames {
		counts = append(counts, len(f))
	}
	if len(counts) != 3 || counts[0] != 2 || counts[1] != 2 || counts[2] != 1 {
		t.Fatalf("five calls of half the bound went in frames of %v calls, want [2 2 1]", counts)
	}
	if frames, calls := ow.ServedSends(); frames != 4 || calls != 8 {
		t.Fatalf("ServedSends = %d frames, %d calls; want 4, 8", frames, calls)
	}
}
