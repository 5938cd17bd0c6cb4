package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A handler's error keeps its code and its message across a connection,
// and the caller reads the code without reading the message.
func TestErrorCodeCrossesTheConnection(t *testing.T) {
	notLeader := errors.New("gcs: not the leader of shard 2 (no leader known)")
	s := startServer(t, HandlerFunc(func(ctx context.Context, _ *Peer, req *Message) (*Message, error) {
		switch string(req.Payload) {
		case "coded":
			return nil, fmt.Errorf("put: %w", WithCode(CodeNotLeader, notLeader))
		case "outer wins":
			return nil, WithCode(CodeTimeout, &RemoteError{Code: CodeNotFound, Message: "inner"})
		}
		return nil, errors.New("plain")
	}), Options{})
	c := dial(t, s.Addr(), Options{})
	for _, tc := range []struct {
		payload string
		code    uint64
		text    string
	}{
		{"coded", CodeNotLeader, "remote: put: gcs: not the leader of shard 2 (no leader known)"},
		{"outer wins", CodeTimeout, "remote: remote: inner"},
		{"plain", CodeInternal, "remote: plain"},
	} {
		_, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, []byte(tc.payload))
		if Code(err) != tc.code || err == nil || err.Error() != tc.text {
			t.Errorf("%s: code %d, error %v; want code %d, %q", tc.payload, Code(err), err, tc.code, tc.text)
		}
		if wrapped := fmt.Errorf("head x: %w", err); Code(wrapped) != tc.code {
			t.Errorf("%s: a wrapped remote error lost its code", tc.payload)
		}
	}
	if WithCode(CodeNotFound, nil) != nil || Code(nil) != 0 || Code(errors.New("local")) != 0 {
		t.Fatal("nil and uncoded errors carry no code")
	}
}
