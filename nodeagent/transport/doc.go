// Package transport is the one binary protocol that every cross-process call
// of rayflow uses: drivers, node agents and the head talk to each other over
// persistent TCP connections carrying length-prefixed frames.
//
// # Frames
//
// Every frame is a 15-byte header followed by the payload:
//
//	| offset | size | field                                               |
//	| ------ | ---- | --------------------------------------------------- |
//	| 0      | 4    | payload length N, big-endian uint32                 |
//	| 4      | 1    | protocol version (Version, currently 1)             |
//	| 5      | 1    | message type (MsgType)                              |
//	| 6      | 1    | flags (FlagChunk, FlagEnd, FlagCancel; others zero) |
//	| 7      | 8    | request ID, big-endian uint64 (0 = one-way)         |
//	| 15     | N    | payload                                             |
//
// This is the layout of the brief with one extra byte, the flags, which lets
// a stream mark its chunks and its last chunk and lets a caller cancel a
// request without spending a message type on it. The length counts the
// payload only, so the largest frame on the wire is HeaderSize+MaxFrameSize.
//
// A receiver rejects a frame whose length exceeds its MaxFrameSize (64 MiB
// by default), whose version it does not speak, whose flags it does not know,
// or which ends before its length says (truncated): it sends an Error frame
// with request ID 0 when it still can, closes that connection and keeps
// serving all others. Payloads are read as their bytes arrive (at most 1 MiB
// is allocated ahead of the data), so a lying length costs no memory. A
// well-formed request of an unknown message type is answered with an Error
// frame (CodeUnknownType) and the connection stays open.
//
// # Conversation
//
//  0. With Options.TLS (tls.go), on both sides, a TLS handshake runs first
//     and everything below runs inside it; the client checks that the
//     server's certificate names the host it dialled. A client that does
//     not speak TLS gets, in plain, an Error frame (CodeRefused) saying
//     that the port needs TLS, and nothing else.
//  1. The client sends Hello (request ID 0; payload: Hello.Encode) and the
//     server answers with its own Hello, or with an Error frame and a close
//     when Options.OnHello refuses the peer (a stale epoch, say). The first
//     frame on a connection must be Hello.
//     With a cluster token (Options.Token, on both sides) the handshake
//     authenticates both ends without sending the token (auth.go): each
//     Hello carries a random nonce, the server's also an HMAC proof over
//     both nonces; the client checks it, answers with a second Hello
//     holding its own proof, and the server accepts with Ack or refuses
//     with Error (CodeRefused). Nothing of an unproven peer reaches
//     OnHello or a handler.
//  2. A request carries a non-zero request ID chosen by the caller; the reply
//     carries the same ID: any message type chosen by the handler (Ack when
//     the handler returns nil), or Error (payload: uvarint code, string
//     message; see RemoteError). Many requests are in flight on one
//     connection at once and are answered in any order.
//  3. A one-way message has request ID 0 and gets no reply. The one-way
//     messages of a connection are handled one at a time, in the order they
//     were sent; requests are handled concurrently, at most
//     Options.MaxConcurrent at a time per connection.
//  4. A stream reply is a run of ObjectChunk frames with the request's ID and
//     FlagChunk, the last one also with FlagEnd (it may be empty). An Error
//     frame with that ID ends a stream early.
//  5. A frame with FlagCancel (type Cancel, empty payload) cancels the context
//     of the request with its ID; Call sends one when its context ends.
//  6. The server may push one-way messages to a client (Peer.Send); the
//     client hands them, in order, to Options.OnPush.
//
// # Payloads
//
// Payloads are written and read with internal/codec, rayflow's one binary
// encoding: uvarints, zig-zag varints, float64s, bools, and length-prefixed
// strings and bytes, each read with a bounds check. By convention a decoder
// ignores bytes after the fields it knows, so a message can grow new fields
// at its end without a new protocol version; a change that is not additive
// bumps Version.
//
// # Errors
//
// An Error frame carries a code and a message. The message is for people;
// callers decide on the code alone (Code(err)): the transport's own codes
// (CodeProtocol, CodeCanceled, ...) and the codes a handler gives its error
// with WithCode (CodeNotLeader, CodeStaleEpoch, CodeNotFound, ...).
//
// # Writing
//
// Each connection has one writer goroutine. Senders queue frames; the writer
// copies as many queued frames as are waiting into a 64 KiB buffer and
// flushes it when the queue is empty, so a burst of small messages costs one
// write system call. Large payloads bypass the buffer: they are written to
// the socket from where they lie. A stream reply whose reader is a
// ByteSource (a tensor's encoding) is sent from the source's own memory,
// and a CallStream writer that is a ChunkReader reads each chunk straight
// from the connection into its final place, so a large object crosses
// each process without a copy.
//
// # Ownership
//
// A payload passed to Call, Send, or returned by a handler belongs to the
// transport until the call returns (Call) or until it is written (Send,
// handler replies): the caller must not modify it afterwards. A payload
// delivered to a handler or returned by Call belongs to the receiver.
package transport
