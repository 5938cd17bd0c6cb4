package transport

import (
	"fmt"

	"github.com/rayflow/rayflow/internal/codec"
)

// The payloads the transport itself writes: Hello and Error frames, with
// internal/codec.

// HelloInfo is the payload of a Hello frame: who is at the other end.
type HelloInfo struct {
	NodeID string
	Epoch  uint64
	Meta   []byte // opaque, for the runtime
}

// Encode returns the payload of a Hello frame.
func (h *HelloInfo) Encode() []byte {
	var e codec.Encoder
	e.Uvarint(Version)
	e.String(h.NodeID)
	e.Uvarint(h.Epoch)
	e.Blob(h.Meta)
	return e.Bytes()
}

// DecodeHello parses the payload of a Hello frame.
func DecodeHello(p []byte) (HelloInfo, error) {
	d := codec.NewDecoder(p)
	v := d.Uvarint()
	var h HelloInfo
	h.NodeID = d.String()
	h.Epoch = d.Uvarint()
	meta := d.Blob()
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
	var e codec.Encoder
	e.Uvarint(code)
	e.String(msg)
	return e.Bytes()
}

func decodeError(p []byte) *RemoteError {
	d := codec.NewDecoder(p)
	code, msg := d.Uvarint(), d.String()
	if d.Err() != nil {
		return &RemoteError{Code: CodeProtocol, Message: "malformed error reply"}
	}
	return &RemoteError{Code: code, Message: msg}
}
