package nodeagent

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/lang"
)

// The bodies of the messages node agents, drivers and the head exchange.
// Each is encoded with a small hand-written codec: uvarints, strings and
// byte strings in a fixed order, versioned by the transport's frame.
// Decoding checks every length, so a malformed body is an error.

// wireWriter appends fields to a buffer.
type wireWriter struct{ buf []byte }

func (w *wireWriter) uint(n uint64)  { w.buf = binary.AppendUvarint(w.buf, n) }
func (w *wireWriter) int(n int64)    { w.buf = binary.AppendVarint(w.buf, n) }
func (w *wireWriter) str(s string)   { w.uint(uint64(len(s))); w.buf = append(w.buf, s...) }
func (w *wireWriter) bytes(b []byte) { w.uint(uint64(len(b))); w.buf = append(w.buf, b...) }
func (w *wireWriter) bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}
func (w *wireWriter) float(f float64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(f))
}

// resources writes a resource map in sorted key order.
func (w *wireWriter) resources(m map[string]float64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.uint(uint64(len(keys)))
	for _, k := range keys {
		w.str(k)
		w.float(m[k])
	}
}

// errMalformed reports a message body that does not decode.
var errMalformed = errors.New("malformed message body")

// wireReader reads fields in the order they were written; after the
// first error every read returns zero and err stays set.
type wireReader struct {
	buf []byte
	err error
}

func (r *wireReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	n, size := binary.Uvarint(r.buf)
	if size <= 0 {
		r.err = errMalformed
		return 0
	}
	r.buf = r.buf[size:]
	return n
}

func (r *wireReader) int() int64 {
	if r.err != nil {
		return 0
	}
	n, size := binary.Varint(r.buf)
	if size <= 0 {
		r.err = errMalformed
		return 0
	}
	r.buf = r.buf[size:]
	return n
}

func (r *wireReader) bytes() []byte {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		r.err = errMalformed
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

func (r *wireReader) str() string { return string(r.bytes()) }

func (r *wireReader) bool() bool {
	if r.err != nil || len(r.buf) < 1 {
		r.err = errMalformed
		return false
	}
	b := r.buf[0] != 0
	r.buf = r.buf[1:]
	return b
}

func (r *wireReader) float() float64 {
	if r.err != nil || len(r.buf) < 8 {
		r.err = errMalformed
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.buf))
	r.buf = r.buf[8:]
	return f
}

// count reads a count of items that each take at least min bytes, so a
// bogus count cannot make the reader allocate more than the body holds.
func (r *wireReader) count(min int) int {
	n := r.uint()
	if r.err == nil && n > uint64(len(r.buf)/max(min, 1)) {
		r.err = errMalformed
		return 0
	}
	return int(n)
}

func (r *wireReader) resources() map[string]float64 {
	n := r.count(9)
	m := make(map[string]float64, n)
	for i := 0; i < n; i++ {
		k := r.str()
		m[k] = r.float()
	}
	return m
}

// wireArg is one argument of a task sent to another process: an encoded
// value, or a reference to an object and the address of a node that
// holds it.
type wireArg struct {
	Inline   []byte
	ObjectID string
	Location string
}

// submitMsg asks a node to run a task, a method call or an actor
// creation. Owner is the address to report the result to.
type submitMsg struct {
	Kind        uint8 // submitTask, submitActor, submitMethod
	ID          string
	ActorID     string // for methods
	Owner       string
	ProgramHash string
	Function    string // task name, actor class, or method name
	Args        []wireArg
	Resources   map[string]float64
	Output      string // where prints go (the driver's address)
	Lineage     []byte // the uncommitted lineage the task needs (a stash bundle)
	State       []byte // for an actor: encoded fields to restore (a checkpoint)
	Replay      []byte // for a task run again: the outcomes its earlier run logged (a stash bundle)
}

const (
	submitTask uint8 = iota
	submitActor
	submitMethod
	submitCheckpoint // take a checkpoint of an actor's fields, in mailbox order
	submitStop       // stop an actor: its creator has finished
)

func (m *submitMsg) encode() []byte {
	w := &wireWriter{}
	w.uint(uint64(m.Kind))
	w.str(m.ID)
	w.str(m.ActorID)
	w.str(m.Owner)
	w.str(m.ProgramHash)
	w.str(m.Function)
	w.uint(uint64(len(m.Args)))
	for _, a := range m.Args {
		w.bytes(a.Inline)
		w.str(a.ObjectID)
		w.str(a.Location)
	}
	w.resources(m.Resources)
	w.str(m.Output)
	w.bytes(m.Lineage)
	w.bytes(m.State)
	w.bytes(m.Replay)
	return w.buf
}

func decodeSubmit(b []byte) (*submitMsg, error) {
	r := &wireReader{buf: b}
	m := &submitMsg{Kind: uint8(r.uint()), ID: r.str(), ActorID: r.str(), Owner: r.str(),
		ProgramHash: r.str(), Function: r.str()}
	n := r.count(3)
	for i := 0; i < n && r.err == nil; i++ {
		m.Args = append(m.Args, wireArg{Inline: r.bytes(), ObjectID: r.str(), Location: r.str()})
	}
	m.Resources = r.resources()
	m.Output = r.str()
	m.Lineage = r.bytes()
	m.State = r.bytes()
	m.Replay = r.bytes()
	return m, r.err
}

// doneMsg reports a finished task to its owner: the value inline when it
// is small, otherwise the node that holds it; or the error.
type doneMsg struct {
	ID       string
	Inline   []byte
	Location string
	Size     int64
	Err      *exec.Error
	// For a method call: the actor incarnation it went to (actorKey), and
	// the call's place in the order the actor ran its calls (1-based; 0
	// when not logged), for the caller to keep (see orderLog).
	Actor string
	Seq   uint64
	// Resubmit: the node gave the task back unrun (it waited there while
	// another node had room); the owner places it again.
	Resubmit bool
	// Gone: the method call's actor does not live on the node any more
	// (restarted, or replaced by a newer incarnation); its creator
	// restarts it, a process handed it asks where it went.
	Gone bool
}

func (m *doneMsg) encode() []byte {
	w := &wireWriter{}
	w.str(m.ID)
	w.bytes(m.Inline)
	w.str(m.Location)
	w.int(m.Size)
	w.bool(m.Err != nil)
	if m.Err != nil {
		writeError(w, m.Err)
	}
	w.str(m.Actor)
	w.uint(m.Seq)
	w.bool(m.Resubmit)
	w.bool(m.Gone)
	return w.buf
}

func decodeDone(b []byte) (*doneMsg, error) {
	r := &wireReader{buf: b}
	m := &doneMsg{ID: r.str(), Inline: r.bytes(), Location: r.str(), Size: r.int()}
	if r.bool() {
		m.Err = readError(r, 0)
	}
	m.Actor, m.Seq = r.str(), r.uint()
	m.Resubmit = r.bool()
	m.Gone = r.bool()
	return m, r.err
}

func writeError(w *wireWriter, e *exec.Error) {
	w.str(e.Kind)
	w.str(e.Msg)
	writePos(w, e.Pos)
	w.str(e.Node)
	w.uint(uint64(len(e.Stack)))
	for _, f := range e.Stack {
		writePos(w, f.Pos)
		w.str(f.Name)
		w.str(f.Node)
	}
	w.bool(e.Cause != nil)
	if e.Cause != nil {
		writeError(w, e.Cause)
	}
}

func writePos(w *wireWriter, p lang.Position) {
	w.str(p.Filename)
	w.uint(uint64(p.Line))
	w.uint(uint64(p.Column))
}

func readPos(r *wireReader) lang.Position {
	return lang.Position{Filename: r.str(), Line: int(r.uint()), Column: int(r.uint())}
}

func readError(r *wireReader, depth int) *exec.Error {
	e := &exec.Error{Kind: r.str(), Msg: r.str(), Pos: readPos(r), Node: r.str()}
	n := r.count(5)
	for i := 0; i < n && r.err == nil; i++ {
		e.Stack = append(e.Stack, exec.Frame{Pos: readPos(r), Name: r.str(), Node: r.str()})
	}
	if r.bool() {
		if depth > 20 {
			r.err = errMalformed
			return e
		}
		e.Cause = readError(r, depth+1)
	}
	return e
}

// strMsg is a message whose body is a list of strings (object IDs, a
// program hash, a node ID...).
func encodeStrings(ss ...string) []byte {
	w := &wireWriter{}
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
	return w.buf
}

func decodeStrings(b []byte) ([]string, error) {
	r := &wireReader{buf: b}
	n := r.count(1)
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.str())
	}
	return out, r.err
}

// encodeRecords writes task records for a GCS request, each in the
// GCS's own row format.
func encodeRecords(recs []gcs.TaskRecord) []byte {
	w := &wireWriter{}
	w.uint(uint64(len(recs)))
	for i := range recs {
		data, _ := recs[i].MarshalBinary()
		w.bytes(data)
	}
	return w.buf
}

// decodeRecords reads what encodeRecords wrote.
func decodeRecords(b []byte) ([]gcs.TaskRecord, error) {
	r := &wireReader{buf: b}
	n := r.count(1)
	out := make([]gcs.TaskRecord, n)
	for i := 0; i < n && r.err == nil; i++ {
		if err := out[i].UnmarshalBinary(r.bytes()); err != nil {
			return nil, err
		}
	}
	return out, r.err
}
