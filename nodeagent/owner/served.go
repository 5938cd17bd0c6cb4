package owner

import (
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The calls to served actors (@serve: the requests of `rayflow serve`'s
// ingresses) go through a coalesce.Sender: the calls that concurrent
// requests make to replicas on one node travel in one SubmitTask frame
// (which the receiver reads as a list of Submits, as it does a batch of
// tasks), not one frame each. A served actor keeps no order across its
// callers (its requests are concurrent), and the calls of one request
// goroutine are sent in the order it made them.

// servedCall is one call to a served actor waiting for its frame: the
// encoded Submit, the actor, and the object its answer completes.
type servedCall struct {
	msg   []byte
	actor *Actor
	obj   *objstore.Object
}

// maxServedFrame bounds the bytes of calls gathered in one frame, far
// below the transport's largest frame: more go in several.
const maxServedFrame = 4 << 20

// sendServed sends calls to the node at addr in one frame (several past
// maxServedFrame bytes); the calls of a frame that cannot be sent are
// handled as calls that could not be sent.
func (ow *Owner) sendServed(addr string, calls []servedCall) {
	for len(calls) > 0 {
		n, size := 0, 0
		for n < len(calls) && (n == 0 || size+len(calls[n].msg) <= maxServedFrame) {
			size += len(calls[n].msg)
			n++
		}
		ow.sendServedFrame(addr, calls[:n])
		calls = calls[n:]
	}
}

// sendServedFrame sends calls to the node at addr in one frame.
func (ow *Owner) sendServedFrame(addr string, calls []servedCall) {
	msgs := make([][]byte, len(calls))
	for i, c := range calls {
		msgs[i] = c.msg
	}
	ow.servedFrames.Add(1)
	ow.servedCalls.Add(int64(len(calls)))
	if err := ow.net.Send(addr, transport.SubmitTask, wire.EncodeSubmits(msgs)); err != nil {
		for _, c := range calls {
			ow.unreachableActor(c.actor, c.obj, addr, err)
		}
	}
}

// ServedSends counts the frames of calls to served actors this process
// sent, and the calls they carried.
func (ow *Owner) ServedSends() (frames, calls int64) {
	return ow.servedFrames.Load(), ow.servedCalls.Load()
}
