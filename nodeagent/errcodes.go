package nodeagent

import (
	"context"
	"errors"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/stash"
)

// Remote errors carry codes. A handler's error is given the code of the
// condition it reports (remoteCodes) before it goes on the wire, and a
// caller decides on the code (transport.Code), never on the message, which
// stays what it was for the people who read it.

// errNotHead answers a head's request sent to a process that is not one.
var errNotHead = errors.New("this node is not the head")

// remoteCodes are the conditions callers decide on and their codes; the
// first that an error matches (errors.Is) gives its code.
var remoteCodes = []struct {
	err  error
	code uint64
}{
	{gcs.ErrNotLeader, transport.CodeNotLeader},
	{errNotHead, transport.CodeNotHead},
	{errCannotRun, transport.CodeCannotRun},
	{head.ErrStaleEpoch, transport.CodeStaleEpoch},
	{head.ErrUnknownNode, transport.CodeUnknownNode},
	{gcs.ErrNotFound, transport.CodeNotFound},
	{gcs.ErrClosed, transport.CodeClosed},
	{stash.ErrClosed, transport.CodeClosed},
	{transport.ErrClosed, transport.CodeClosed},
	{gcs.ErrTimeout, transport.CodeTimeout},
	{stash.ErrFlushTimeout, transport.CodeTimeout},
}

// withRemoteCode gives err the code of the first condition it matches.
func withRemoteCode(err error) error {
	if err == nil || transport.Code(err) != 0 {
		return err
	}
	for _, rc := range remoteCodes {
		if errors.Is(err, rc.err) {
			return transport.WithCode(rc.code, err)
		}
	}
	return err
}

// serveCoded serves one incoming message (serve) and gives its error its
// code.
func (nw *network) serveCoded(ctx context.Context, peer *transport.Peer, req *transport.Message) (*transport.Message, error) {
	msg, err := nw.serve(ctx, peer, req)
	return msg, withRemoteCode(err)
}
