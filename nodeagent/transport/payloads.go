package transport

import (
	"errors"
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
	// Nonce and Proof authenticate the sender when it has a cluster
	// token (auth.go); empty otherwise.
	Nonce []byte
	Proof []byte
}

// Encode returns the payload of a Hello frame.
func (h *HelloInfo) Encode() []byte {
	var e codec.Encoder
	e.Uvarint(Version)
	e.String(h.NodeID)
	e.Uvarint(h.Epoch)
	e.Blob(h.Meta)
	if len(h.Nonce) > 0 || len(h.Proof) > 0 { // added fields: absent without a token
		e.Blob(h.Nonce)
		e.Blob(h.Proof)
	}
	return e.Bytes()
}

// DecodeHello parses the payload of a Hello frame.
func DecodeHello(p []byte) (HelloInfo, error) {
	d := codec.NewDecoder(p)
	v := d.Uvarint()
	var h HelloInfo
	h.NodeID = d.String()
	h.Epoch = d.Uvarint()
	h.Meta = d.BlobCopy()
	if d.Remaining() > 0 {
		h.Nonce = d.BlobCopy()
		h.Proof = d.BlobCopy()
	}
	if err := d.Err(); err != nil {
		return HelloInfo{}, fmt.Errorf("bad Hello: %w", err)
	}
	if v != Version {
		return HelloInfo{}, fmt.Errorf("bad Hello: peer speaks protocol version %d, this side %d", v, Version)
	}
	return h, nil
}

// Error codes carried by Error frames. Codes 1 to 6 are the transport's
// own. The others say why a handler failed in the terms callers decide on
// (fail over, register again, give up), so that no caller reads a message:
// a handler chooses one with WithCode, a caller reads it with Code.
const (
	CodeInternal    uint64 = 1 // the handler failed (its error message follows)
	CodeUnknownType uint64 = 2 // the message type is not known to the receiver
	CodeProtocol    uint64 = 3 // the frame broke the protocol; the connection closes
	CodeRefused     uint64 = 4 // the peer was refused at Hello
	CodeCanceled    uint64 = 5 // the request was canceled or the server is closing
	CodeStream      uint64 = 6 // a stream reply failed part way

	CodeNotLeader   uint64 = 7  // the receiver does not lead what was asked (a GCS shard); another replica may
	CodeNotHead     uint64 = 8  // the receiver is not a head; another process may be
	CodeStaleEpoch  uint64 = 9  // the caller's registration is from an earlier life: register again
	CodeUnknownNode uint64 = 10 // the caller is not registered (or was forgotten): register again
	CodeNotFound    uint64 = 11 // what was asked for does not exist
	CodeClosed      uint64 = 12 // the receiver's service is shutting down
	CodeTimeout     uint64 = 13 // the receiver ran out of time; another attempt may succeed
	CodeCannotRun   uint64 = 14 // the receiver can never do this (it lacks what the request needs): do not retry
)

// RemoteError is the error a caller gets for an Error frame. A handler may
// return one to choose the code (or wrap its error with WithCode, which
// keeps the message).
type RemoteError struct {
	Code    uint64
	Message string
}

func (e *RemoteError) Error() string { return "remote: " + e.Message }

func (e *RemoteError) errorCode() uint64 { return e.Code }

// Plain returns a remote error as its message alone, without the
// "remote: " prefix (for messages that already say where it happened),
// and any other error as it is.
func Plain(err error) error {
	if re, ok := err.(*RemoteError); ok {
		return errors.New(re.Message)
	}
	return err
}

// coded is an error that says which code its Error frame carries.
type coded interface{ errorCode() uint64 }

// codedError is an error a handler gave a code with WithCode.
type codedError struct {
	code uint64
	err  error
}

func (e *codedError) Error() string     { return e.err.Error() }
func (e *codedError) Unwrap() error     { return e.err }
func (e *codedError) errorCode() uint64 { return e.code }

// WithCode returns err with a code: a handler that returns it answers
// with an Error frame carrying code and err's message. WithCode(c, nil)
// is nil.
func WithCode(code uint64, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// Code returns the code err carries: the code of the Error frame it came
// from, or the one WithCode gave it (the outermost wins); 0 for none.
func Code(err error) uint64 {
	var c coded
	if errors.As(err, &c) {
		return c.errorCode()
	}
	return 0
}

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
