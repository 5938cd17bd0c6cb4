package wire

import (
	"encoding/binary"
	"errors"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/lang"
)

// The bodies of the messages node agents, drivers and the head exchange,
// written with internal/codec: fields in a fixed order, versioned by the
// transport's frame. Decoding checks every length, so a malformed body is
// an error (ErrMalformed), never a panic. The golden tests
// (golden_test.go) pin the bytes.

// ErrMalformed reports a message body that does not decode.
var ErrMalformed = errors.New("malformed message body")

// Err is ErrMalformed if d failed.
func Err(d *codec.Decoder) error {
	if d.Err() != nil {
		return ErrMalformed
	}
	return nil
}

// ReadResources reads a resource map written by Encoder.FloatMap; an
// empty map, never nil.
func ReadResources(d *codec.Decoder) map[string]float64 {
	if m := d.FloatMap(); m != nil {
		return m
	}
	return map[string]float64{}
}

// Arg is one argument of a task sent to another process: an encoded
// value, or a reference to an object and the address of a node that
// holds it.
type Arg struct {
	Inline   []byte
	ObjectID string
	Location string
	// Name is the referenced object's name ("task 'boom'"), so that an
	// error about it reads as where it was made. Optional: written after
	// the message's other fields only when some argument has one.
	Name string
	// Member, in a call of a GroupSubmit only, is the 1-based index of
	// the earlier call of the group whose result the argument is (0: it
	// is not); the other fields are then empty.
	Member int
}

// Submit asks a node to run a task, a method call or an actor
// creation. Owner is the address to report the result to.
type Submit struct {
	Kind        uint8 // SubmitTask, SubmitActor, SubmitMethod
	ID          string
	ActorID     string // for methods; for a task, the nearest actor among its callers (a cancel stops there)
	Owner       string
	ProgramHash string
	Function    string // task name, actor class, or method name
	Args        []Arg
	Resources   map[string]float64
	Output      string // where prints go (the driver's address)
	Lineage     []byte // the uncommitted lineage the task needs (a stash bundle)
	State       []byte // for an actor: encoded fields to restore (a checkpoint)
	Replay      []byte // for a task run again: the outcomes its earlier run logged (a stash bundle)
	// Group, for a task, names the group of calls it belongs to (the ID
	// of the group's first call): the consecutive messages of one
	// SubmitTask frame with the same Group run in order on one worker of
	// the node, and an argument of one of them that is an earlier
	// member's object (its Location the node's own address) is that
	// member's result there. Written only when set, so a message without
	// it has the bytes it had before groups travelled.
	Group string
}

const (
	SubmitTask uint8 = iota
	SubmitActor
	SubmitMethod
	SubmitCheckpoint // take a checkpoint of an actor's fields, in mailbox order
	SubmitStop       // stop an actor: its creator has finished
)

func (m *Submit) Encode() []byte {
	w := codec.NewEncoder(make([]byte, 0, m.sizeHint()))
	w.Uvarint(uint64(m.Kind))
	w.String(m.ID)
	w.String(m.ActorID)
	w.String(m.Owner)
	w.String(m.ProgramHash)
	w.String(m.Function)
	w.Uvarint(uint64(len(m.Args)))
	for _, a := range m.Args {
		w.Blob(a.Inline)
		w.String(a.ObjectID)
		w.String(a.Location)
	}
	w.FloatMap(m.Resources)
	w.String(m.Output)
	w.Blob(m.Lineage)
	w.Blob(m.State)
	w.Blob(m.Replay)
	names := m.argNames()
	if m.Group != "" || names != nil {
		w.String(m.Group)
	}
	if names != nil {
		w.Strings(names)
	}
	return w.Bytes()
}

// argNames lists the arguments' names, or nil when none has one.
func (m *Submit) argNames() []string {
	for i, a := range m.Args {
		if a.Name != "" {
			names := make([]string, len(m.Args))
			for j := i; j < len(m.Args); j++ {
				names[j] = m.Args[j].Name
			}
			return names
		}
	}
	return nil
}

// sizeHint is about the size of m encoded (each length prefix counted as
// two bytes, each resource as 24), so that encoding allocates once.
func (m *Submit) sizeHint() int {
	n := 24 + len(m.ID) + len(m.ActorID) + len(m.Owner) + len(m.ProgramHash) + len(m.Function) +
		len(m.Output) + len(m.Lineage) + len(m.State) + len(m.Replay) + len(m.Group) + 24*len(m.Resources)
	for _, a := range m.Args {
		n += 8 + len(a.Inline) + len(a.ObjectID) + len(a.Location) + len(a.Name)
	}
	return n
}

func DecodeSubmit(b []byte) (*Submit, error) {
	r := codec.NewDecoder(b)
	m := &Submit{Kind: uint8(r.Uvarint()), ID: r.String(), ActorID: r.String(), Owner: r.String(),
		ProgramHash: r.String(), Function: r.String()}
	n := r.Count(3)
	for i := 0; i < n && r.Err() == nil; i++ {
		m.Args = append(m.Args, Arg{Inline: r.Blob(), ObjectID: r.String(), Location: r.String()})
	}
	m.Resources = ReadResources(r)
	m.Output = r.String()
	m.Lineage = r.Blob()
	m.State = r.Blob()
	m.Replay = r.Blob()
	if r.Err() == nil && r.Remaining() > 0 {
		m.Group = r.String()
	}
	if r.Err() == nil && r.Remaining() > 0 {
		names := r.Strings()
		if r.Err() == nil && len(names) != len(m.Args) {
			r.Fail("argument names do not match the arguments")
		}
		for i := range m.Args {
			if i < len(names) {
				m.Args[i].Name = names[i]
			}
		}
	}
	return m, Err(r)
}

// Done reports a finished task to its owner: the value inline when it
// is small, otherwise the node that holds it; or the error.
type Done struct {
	ID       string
	Inline   []byte
	Location string
	Size     int64
	Err      *exec.Error
	// For a method call: the actor incarnation it went to (actorKey), and
	// the call's place in the order the actor ran its calls (1-based; 0
	// when not logged), for the caller to keep (see owner.OrderLog).
	Actor string
	Seq   uint64
	// Resubmit: the node gave the task back unrun (it waited there while
	// another node had room); the owner places it again.
	Resubmit bool
	// Gone: the method call's actor does not live on the node any more
	// (restarted, or replaced by a newer incarnation); its creator
	// restarts it, a process handed it asks where it went.
	Gone bool
	// RunNs, for a call of an adaptive call site, is how long the call
	// ran, for the caller's adaptive planner (planner/adapt); 0 when not
	// measured, and then not on the wire (optional trailing field).
	RunNs int64
}

func (m *Done) Encode() []byte { return m.AppendEncode(nil) }

// AppendEncode appends the message, encoded as Encode does, to dst.
func (m *Done) AppendEncode(dst []byte) []byte {
	w := codec.NewEncoder(dst)
	w.String(m.ID)
	w.Blob(m.Inline)
	w.String(m.Location)
	w.Varint(m.Size)
	w.Bool(m.Err != nil)
	if m.Err != nil {
		writeError(w, m.Err, 0)
	}
	w.String(m.Actor)
	w.Uvarint(m.Seq)
	w.Bool(m.Resubmit)
	w.Bool(m.Gone)
	if m.RunNs > 0 {
		w.Varint(m.RunNs)
	}
	return w.Bytes()
}

func DecodeDone(b []byte) (*Done, error) {
	m := &Done{}
	return m, DecodeDoneInto(b, m)
}

// DecodeDoneInto reads a message written by Done.Encode into m (which
// the caller may keep on its stack); m.Inline is a view of b.
//
// In a TaskDoneList a message after the first may have no ID: its call
// is the next call of the previous message's ("<caller>.<n+1>" after
// "<caller>.<n>", FollowsCall), so a group's results travel and are read
// without an ID string each.
func DecodeDoneInto(b []byte, m *Done) error {
	r := codec.NewDecoder(b)
	*m = Done{ID: r.String(), Inline: r.Blob(), Location: r.String(), Size: r.Varint()}
	if r.Bool() {
		m.Err = readError(r, 0)
	}
	m.Actor, m.Seq = r.String(), r.Uvarint()
	m.Resubmit = r.Bool()
	m.Gone = r.Bool()
	if r.Err() == nil && r.Remaining() > 0 {
		m.RunNs = r.Varint()
	}
	return Err(r)
}

// writeError writes e, which nests depth deep in what is being written
// (0 for the error itself), and its causes (see causeToWrite).
func writeError(w *codec.Encoder, e *exec.Error, depth int) {
	w.String(e.Kind)
	w.String(e.Msg)
	writePos(w, e.Pos)
	w.String(e.Node)
	w.Uvarint(uint64(len(e.Stack)))
	for _, f := range e.Stack {
		writePos(w, f.Pos)
		w.String(f.Name)
		w.String(f.Node)
	}
	// One byte of flags: errHasCause, errHasTask. An error without a task
	// name is written as it was before the name travelled (a bool).
	var flags byte
	if e.Cause != nil {
		flags |= errHasCause
	}
	if e.Task != "" {
		flags |= errHasTask
	}
	w.Byte(flags)
	if e.Task != "" {
		w.String(e.Task)
	}
	if e.Cause != nil {
		writeError(w, causeToWrite(e.Cause, depth+1), depth+1)
	}
}

// maxErrorDepth is how deep readError reads nested causes; a writer
// never writes deeper.
const maxErrorDepth = 20

// causeToWrite is the cause to write at depth: c itself, unless its chain
// would nest deeper than a reader takes, then the root of c's chain
// (exec.Error.Root: what err.cause, err.task and the message read), and
// past the limit nothing more. Chains that long come from calls failing
// one after another across processes (exec.DependencyError keeps them
// short within one).
func causeToWrite(c *exec.Error, depth int) *exec.Error {
	if depth < maxErrorDepth-1 {
		return c
	}
	r := c.Root()
	if depth >= maxErrorDepth {
		cp := *r
		cp.Cause = nil
		return &cp
	}
	return r
}

// The flags byte that ends an error's fixed fields.
const (
	errHasCause byte = 1 << iota // a nested error follows
	errHasTask                   // the task's name follows (before the cause)
)

// EncodeError writes an error on its own (the body of a fetch of an
// object that holds an error).
func EncodeError(e *exec.Error) []byte {
	w := &codec.Encoder{}
	writeError(w, e, 0)
	return w.Bytes()
}

// DecodeError reads an error written by EncodeError.
func DecodeError(b []byte) (*exec.Error, error) {
	r := codec.NewDecoder(b)
	e := readError(r, 0)
	if r.Err() == nil && r.Remaining() > 0 {
		r.Fail("trailing bytes after an error")
	}
	return e, Err(r)
}

func writePos(w *codec.Encoder, p lang.Position) {
	w.String(p.Filename)
	w.Uvarint(uint64(p.Line))
	w.Uvarint(uint64(p.Column))
}

func readPos(r *codec.Decoder) lang.Position {
	return lang.Position{Filename: r.String(), Line: int(r.Uvarint()), Column: int(r.Uvarint())}
}

func readError(r *codec.Decoder, depth int) *exec.Error {
	e := &exec.Error{Kind: r.String(), Msg: r.String(), Pos: readPos(r), Node: r.String()}
	n := r.Count(5)
	for i := 0; i < n && r.Err() == nil; i++ {
		e.Stack = append(e.Stack, exec.Frame{Pos: readPos(r), Name: r.String(), Node: r.String()})
	}
	flags := r.Byte()
	if flags&^(errHasCause|errHasTask) != 0 {
		r.Fail("unknown error flags")
		return e
	}
	if flags&errHasTask != 0 {
		e.Task = r.String()
	}
	if flags&errHasCause != 0 {
		if depth > maxErrorDepth {
			r.Fail("error causes nested too deep")
			return e
		}
		e.Cause = readError(r, depth+1)
	}
	return e
}

// EncodeStrings writes a message whose body is a list of strings (object
// IDs, a program hash, a node ID...).
func EncodeStrings(ss ...string) []byte {
	w := &codec.Encoder{}
	w.Strings(ss)
	return w.Bytes()
}

func DecodeStrings(b []byte) ([]string, error) {
	r := codec.NewDecoder(b)
	ss := r.Strings()
	return ss, Err(r)
}

// EncodeRecords writes task records for a GCS request, each in the
// GCS's own row format.
func EncodeRecords(recs []gcs.TaskRecord) []byte {
	size, most := 10, 0
	for i := range recs {
		n := recs[i].BinarySizeHint()
		size, most = size+n+3, max(most, n)
	}
	w := codec.NewEncoder(make([]byte, 0, size))
	w.Uvarint(uint64(len(recs)))
	scratch := make([]byte, 0, most) // one record's bytes, reused
	for i := range recs {
		scratch = recs[i].AppendBinary(scratch[:0])
		w.Blob(scratch)
	}
	return w.Bytes()
}

// DecodeRecords reads what EncodeRecords wrote.
func DecodeRecords(b []byte) ([]gcs.TaskRecord, error) {
	r := codec.NewDecoder(b)
	n := r.Count(1)
	out := make([]gcs.TaskRecord, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		if err := out[i].UnmarshalBinary(r.Blob()); err != nil {
			return nil, ErrMalformed
		}
	}
	return out, Err(r)
}

// EncodeSubmits frames encoded Submit messages as the payload of one
// SubmitTask frame: a count, then each message.
func EncodeSubmits(msgs [][]byte) []byte {
	size := binary.MaxVarintLen64
	for _, m := range msgs {
		size += binary.MaxVarintLen64 + len(m)
	}
	w := codec.NewEncoder(make([]byte, 0, size))
	w.Uvarint(uint64(len(msgs)))
	for _, m := range msgs {
		w.Blob(m)
	}
	return w.Bytes()
}

// One frames a single Submit message as a SubmitTask payload.
func One(m *Submit) []byte { return EncodeSubmits([][]byte{m.Encode()}) }

// EachSubmit calls f with each encoded message of a SubmitTask payload,
// in order, and returns the first error f returned; a payload whose
// framing is malformed stops at the damage with ErrMalformed.
func EachSubmit(payload []byte, f func(msg []byte) error) error {
	r := codec.NewDecoder(payload)
	n := r.Count(1)
	var firstErr error
	for i := 0; i < n && r.Err() == nil; i++ {
		if err := f(r.Blob()); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if r.Err() != nil {
		return Err(r)
	}
	return firstErr
}
