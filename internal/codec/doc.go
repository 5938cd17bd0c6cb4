// Package codec is rayflow's one binary encoding for the records and
// message bodies its packages write: GCS rows, raft log entries and
// snapshots (gcs), lineage bundles (stash), the bodies node agents, drivers
// and heads exchange (nodeagent), and the transport's own Hello and Error
// payloads.
//
// # What it owns
//
// The primitives and their bytes, nothing else:
//
//	Uvarint    unsigned LEB128 varint (encoding/binary)
//	Varint     zig-zag signed varint (encoding/binary)
//	Byte       one byte
//	Bool       one byte, 0 or 1 (any other byte is malformed)
//	Float64    the IEEE-754 bits, 8 bytes little-endian
//	String     Uvarint length, then the bytes
//	Blob       Uvarint length, then the bytes
//	Strings    Uvarint count, then each String
//	FloatMap   Uvarint count, then (String key, Float64) in sorted key order
//	StringMap  Uvarint count, then (String key, String) in sorted key order
//
// Maps are written in sorted key order so that one value always encodes to
// the same bytes (raft replicas compare nothing, but golden tests and
// caches keyed by encodings do). The layout of each record or message —
// which fields, in which order, behind which version byte — belongs to the
// package that defines the record, next to its type.
//
// # Decoding untrusted input
//
// A Decoder checks every read against what is left of its input. The first
// failure sticks: later reads return zero values, so a caller reads a whole
// record and checks Err (or Finish, which also rejects trailing bytes) once.
// A length or count is checked against the bytes that remain before
// anything is allocated (Count takes the least size of one element), so a
// malformed or hostile input can neither panic nor make the decoder
// allocate more than a small multiple of its own size. Every error wraps
// ErrMalformed; packages translate it into their own sentinel at their
// boundary.
//
// # Threading
//
// An Encoder or a Decoder belongs to one goroutine at a time; the package
// has no other state.
package codec
