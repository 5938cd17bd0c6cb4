package nodeagent

import (
	"bytes"
	"fmt"
	"io"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Objects that hold an error travel as that error. A fetch of a failed
// object (a future of a task that failed, passed inside a list to another
// node) answers with the object's error, kind, message, task, node, stack
// and causes, and the reader's get raises it as it would where the task
// ran: a failed object is not a lost one, and nothing rebuilds it.
//
// The reply is the stream a value's would be, starting with
// failedObjectMark instead of the encoding's version byte, then the
// error as wire.EncodeError writes it.
const failedObjectMark byte = 0xfe

// failedObjectReply is the fetch reply of an object that failed with err.
func failedObjectReply(err *exec.Error) *transport.Message {
	body := append([]byte{failedObjectMark}, wire.EncodeError(err)...)
	return transport.NewStreamReply(bytes.NewReader(body), int64(len(body)))
}

// fetchSink takes a fetch reply as it streams in: a value goes to the
// stream decoder, a failed object's error is kept whole.
type fetchSink struct {
	dec     *exec.StreamDecoder
	started bool
	failed  []byte // the reply of a failed object, mark included; nil for a value
}

// newFetchSink returns a sink for a reply from an authenticated peer of
// the cluster; a tensor of up to ahead bytes (what the object store may
// hold) is allocated whole when its header arrives, from the memory of
// tensors that died (objstore.Buffers) when there is some. With ahead 0
// (no cluster token) the decoder's default bound holds and the pool is
// not used.
func newFetchSink(refs exec.RefCodec, ahead int64) *fetchSink {
	dec := exec.NewTrustedStreamDecoder(refs, ahead)
	if ahead > 0 {
		dec.UseAllocator(pooledTensor)
	}
	return &fetchSink{dec: dec}
}

// pooledTensor is the memory of a fetched tensor of n floats.
func pooledTensor(n int) []float64 {
	buf, _ := objstore.Buffers.Get(n)
	return buf
}

var _ transport.ChunkReader = (*fetchSink)(nil)

// ReadChunk takes the next n bytes of the reply straight from r: a
// tensor's data lands in the tensor's memory without a copy.
func (s *fetchSink) ReadChunk(r io.Reader, n int) error {
	if !s.started && n > 0 {
		var first [1]byte
		if _, err := io.ReadFull(r, first[:]); err != nil {
			return err
		}
		if _, err := s.Write(first[:]); err != nil {
			return err
		}
		n--
	}
	if s.failed != nil {
		buf := bytes.NewBuffer(s.failed)
		_, err := io.CopyN(buf, r, int64(n))
		s.failed = buf.Bytes()
		return err
	}
	return s.dec.ReadChunk(r, n)
}

// Write takes the next bytes of the reply.
func (s *fetchSink) Write(p []byte) (int, error) {
	if !s.started && len(p) > 0 {
		s.started = true
		if p[0] == failedObjectMark {
			s.failed = []byte{}
		}
	}
	if s.failed != nil {
		s.failed = append(s.failed, p...)
		return len(p), nil
	}
	return s.dec.Write(p)
}

// result is what the reply carried: the value, or the object's own
// error (objErr), or why the reply cannot be read (err).
func (s *fetchSink) result() (v exec.Value, objErr *exec.Error, err error) {
	if s.failed == nil {
		v, err = s.dec.Value()
		return v, nil, err
	}
	e, derr := wire.DecodeError(s.failed[1:])
	if derr != nil {
		return exec.None, nil, fmt.Errorf("its error: %w", derr)
	}
	return exec.None, e, nil
}
