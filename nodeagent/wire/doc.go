// Package wire holds the bodies of the messages that node agents,
// drivers and heads exchange over the transport: tasks sent to a node
// (Submit, framed in batches; GroupSubmit, a group of calls or a loose
// frame of tasks in one message), their results (Done), the head's
// requests (the GCS operations, Place and its results, Register and
// Heartbeat) and the questions processes ask each other (the Query
// operations). Each is written with internal/codec, fields in a fixed
// order, versioned by the transport's frame; decoding checks every
// length, so a malformed body is ErrMalformed, never a panic. The golden
// tests pin every byte.
//
// # Ownership and threading
//
// The package holds no state: message values belong to whoever built or
// decoded them, and every function is safe to call from any goroutine.
// It knows nothing of what the messages do; package nodeagent sends and
// handles them.
package wire
