package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this package writes and accepts.
const Version = 1

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 15

// DefaultMaxFrameSize is the largest payload accepted unless Options says
// otherwise.
const DefaultMaxFrameSize = 64 << 20

// DefaultChunkSize is the payload size of the chunks of a stream.
const DefaultChunkSize = 1 << 20

// preallocLimit is the most a reader allocates before the bytes arrive.
const preallocLimit = 1 << 20

// MsgType is the type of a message. The values are part of the protocol:
// never renumber one, only add.
type MsgType uint8

// The message types. Hello, Ack, Error and ObjectChunk have a meaning in the
// transport itself; the others are reserved for the runtime, which defines
// their payloads.
const (
	Hello       MsgType = 1  // connection handshake (payload: Hello)
	Heartbeat   MsgType = 2  // node liveness and resources
	SubmitTask  MsgType = 3  // a task for a node
	TaskDone    MsgType = 4  // a task's completion
	CreateActor MsgType = 5  // create an actor
	CallMethod  MsgType = 6  // call an actor's method
	FetchObject MsgType = 7  // ask for an object (usually answered by a stream)
	ObjectChunk MsgType = 8  // a chunk of a stream reply
	Place       MsgType = 9  // global scheduler placement
	GCSRequest  MsgType = 10 // a GCS read or write
	Cancel      MsgType = 11 // cancel (with FlagCancel: transport-level cancel)
	Error       MsgType = 12 // an error reply (payload: code, message)
	Ack         MsgType = 13 // an empty success reply
	Output      MsgType = 14 // program output for the driver that started the job
	Query       MsgType = 15 // a question one process asks another (actor location, stashed lineage)
	// TaskDoneList is the completions of the calls of a group, in one
	// message: a list of TaskDone payloads.
	TaskDoneList MsgType = 16
	maxMsgType   MsgType = TaskDoneList
)

var msgTypeNames = [...]string{
	Hello: "Hello", Heartbeat: "Heartbeat", SubmitTask: "SubmitTask",
	TaskDone: "TaskDone", CreateActor: "CreateActor", CallMethod: "CallMethod",
	FetchObject: "FetchObject", ObjectChunk: "ObjectChunk", Place: "Place",
	GCSRequest: "GCSRequest", Cancel: "Cancel", Error: "Error", Ack: "Ack", Output: "Output",
	Query: "Query", TaskDoneList: "TaskDoneList",
}

// Known reports whether t is a message type of this protocol version.
func (t MsgType) Known() bool { return t >= 1 && t <= maxMsgType }

func (t MsgType) String() string {
	if t.Known() {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Frame flags.
const (
	FlagChunk  uint8 = 1 << 0 // the frame is a chunk of a stream reply
	FlagEnd    uint8 = 1 << 1 // the last chunk of a stream
	FlagCancel uint8 = 1 << 2 // cancel the request with this ID
	knownFlags       = FlagChunk | FlagEnd | FlagCancel
)

// Message is a decoded frame, or a reply a handler returns.
type Message struct {
	Type    MsgType
	Flags   uint8
	ID      uint64 // request ID; 0 for one-way messages
	Payload []byte

	// Stream, set by a handler on its reply, makes the server send the
	// reader's bytes as a stream of ObjectChunk frames instead of Payload.
	Stream *StreamReply
}

// Reply is a handler's answer carrying payload.
func Reply(payload []byte) *Message { return &Message{Type: Ack, Payload: payload} }

// StreamReply is a large reply a handler returns: the server reads R and
// sends it in chunks. When Size is not negative the stream must hold exactly
// Size bytes, or the caller gets an error. If R is an io.Closer the server
// closes it when done.
type StreamReply struct {
	R    io.Reader
	Size int64 // -1 if unknown
}

// NewStreamReply returns a reply message that streams size bytes of r.
func NewStreamReply(r io.Reader, size int64) *Message {
	return &Message{Type: ObjectChunk, Stream: &StreamReply{R: r, Size: size}}
}

// ProtocolError reports a frame that breaks the protocol. The connection it
// came on is closed.
type ProtocolError struct{ Reason string }

func (e *ProtocolError) Error() string { return "transport: protocol error: " + e.Reason }

func protoErrorf(format string, args ...any) error {
	return &ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// header is a decoded frame header.
type header struct {
	n     uint32
	typ   MsgType
	flags uint8
	id    uint64
}

func putHeader(b []byte, h header) {
	binary.BigEndian.PutUint32(b[0:4], h.n)
	b[4] = Version
	b[5] = byte(h.typ)
	b[6] = h.flags
	binary.BigEndian.PutUint64(b[7:15], h.id)
}

// AppendFrame appends the encoding of one frame to dst.
func AppendFrame(dst []byte, typ MsgType, flags uint8, id uint64, payload []byte) []byte {
	var hb [HeaderSize]byte
	putHeader(hb[:], header{n: uint32(len(payload)), typ: typ, flags: flags, id: id})
	dst = append(dst, hb[:]...)
	return append(dst, payload...)
}

// parseHeader checks a header. Unknown message types are not an error here:
// the frame is well formed, and the caller decides.
func parseHeader(b []byte, max int) (header, error) {
	h := header{
		n:     binary.BigEndian.Uint32(b[0:4]),
		typ:   MsgType(b[5]),
		flags: b[6],
		id:    binary.BigEndian.Uint64(b[7:15]),
	}
	if b[4] != Version {
		return h, protoErrorf("unsupported protocol version %d (this side speaks %d)", b[4], Version)
	}
	if uint64(h.n) > uint64(max) {
		return h, protoErrorf("frame of %d bytes exceeds the limit of %d", h.n, max)
	}
	if h.flags&^knownFlags != 0 {
		return h, protoErrorf("unknown frame flags %#x", h.flags)
	}
	return h, nil
}

// readHeader reads and checks one header. A clean EOF before the first byte
// is returned as io.EOF; anything shorter than a header is a truncated frame.
func readHeader(r io.Reader, buf *[HeaderSize]byte, max int) (header, error) {
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return header{}, protoErrorf("truncated frame header")
		}
		return header{}, err
	}
	return parseHeader(buf[:], max)
}

// readPayload reads n bytes, allocating no more than preallocLimit ahead of
// the bytes that have arrived.
func readPayload(r io.Reader, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	first := min(n, preallocLimit)
	buf := make([]byte, first, first)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, truncated(err)
	}
	for len(buf) < n {
		next := min(n, 2*len(buf))
		grown := make([]byte, next)
		copy(grown, buf)
		if _, err := io.ReadFull(r, grown[len(buf):]); err != nil {
			return nil, truncated(err)
		}
		buf = grown
	}
	return buf, nil
}

// discard skips n bytes.
func discard(r *bufio.Reader, n int) error {
	if _, err := r.Discard(n); err != nil {
		return truncated(err)
	}
	return nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return protoErrorf("truncated frame")
	}
	return err
}

// ReadFrame reads one frame from r, rejecting frames larger than maxSize
// bytes of payload (DefaultMaxFrameSize when maxSize <= 0). It is the frame
// reader the connections use, exported for tools and tests.
func ReadFrame(r io.Reader, maxSize int) (*Message, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxFrameSize
	}
	var hb [HeaderSize]byte
	h, err := readHeader(r, &hb, maxSize)
	if err != nil {
		return nil, err
	}
	p, err := readPayload(r, int(h.n))
	if err != nil {
		return nil, err
	}
	return &Message{Type: h.typ, Flags: h.flags, ID: h.id, Payload: p}, nil
}
