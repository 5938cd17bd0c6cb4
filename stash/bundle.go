package stash

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/rayflow/rayflow/gcs"
)

// Bundle is the lineage forwarded with a task: uncommitted records and
// outcomes with the hops they had travelled at the sender, and the keys of
// entries the sender saw committed that the receiver holds. Fields alias the
// sender's stash and must be treated as read-only.
type Bundle struct {
	Records   []RecordEntry
	Outcomes  []OutcomeEntry
	Committed []string
}

// RecordEntry is a task record in a bundle.
type RecordEntry struct {
	Record gcs.TaskRecord
	Hops   int
}

// OutcomeEntry is an outcome in a bundle.
type OutcomeEntry struct {
	Outcome Outcome
	Hops    int
}

// Empty reports whether the bundle carries nothing.
func (b *Bundle) Empty() bool {
	return len(b.Records) == 0 && len(b.Outcomes) == 0 && len(b.Committed) == 0
}

// Bundle wire format (version 2), all integers as varints:
//
//	magic 'L' 'S', version
//	n, n × record:  hops, TaskID, JobID, ParentID, Seq, Function,
//	                nargs × (ObjectID, Inline, Location), nres × (key, float64 bits LE),
//	                Retries (signed), Deterministic (byte), OwnerNode,
//	                Outcome, State
//	n, n × outcome: hops, TaskID, Seq, Kind, Data
//	n, n × committed key
//
// Strings and byte slices are a length followed by the bytes.
const (
	bundleMagic0  = 'L'
	bundleMagic1  = 'S'
	bundleVersion = 2
)

// ErrBadBundle is returned (wrapped) by DecodeBundle for malformed input.
var ErrBadBundle = errors.New("stash: malformed lineage bundle")

// Encode returns the bundle's binary form.
func (b *Bundle) Encode() []byte { return b.AppendEncode(nil) }

// AppendEncode appends the bundle's binary form to dst.
func (b *Bundle) AppendEncode(dst []byte) []byte {
	e := enc{buf: dst}
	e.buf = append(e.buf, bundleMagic0, bundleMagic1, bundleVersion)
	e.uv(uint64(len(b.Records)))
	var keys []string
	for i := range b.Records {
		r := &b.Records[i].Record
		e.uv(uint64(clampHops(b.Records[i].Hops)))
		e.str(r.TaskID)
		e.str(r.JobID)
		e.str(r.ParentID)
		e.uv(r.Seq)
		e.str(r.Function)
		e.uv(uint64(len(r.Args)))
		for _, a := range r.Args {
			e.str(a.ObjectID)
			e.bytes(a.Inline)
			e.str(a.Location)
		}
		keys = keys[:0]
		for k := range r.Resources {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.uv(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(r.Resources[k]))
		}
		e.buf = binary.AppendVarint(e.buf, int64(max(math.MinInt32, min(r.Retries, math.MaxInt32))))
		if r.Deterministic {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
		e.str(r.OwnerNode)
		e.bytes(r.Outcome)
		e.str(r.State)
	}
	e.uv(uint64(len(b.Outcomes)))
	for i := range b.Outcomes {
		o := &b.Outcomes[i].Outcome
		e.uv(uint64(clampHops(b.Outcomes[i].Hops)))
		e.str(o.TaskID)
		e.uv(o.Seq)
		e.str(string(o.Kind))
		e.bytes(o.Data)
	}
	e.uv(uint64(len(b.Committed)))
	for _, k := range b.Committed {
		e.str(k)
	}
	return e.buf
}

// DecodeBundle parses a bundle. It checks every length against the input,
// so malformed or hostile input yields an error wrapping ErrBadBundle, never
// a panic or an outsized allocation. The result does not alias p.
func DecodeBundle(p []byte) (Bundle, error) {
	var b Bundle
	if len(p) < 3 || p[0] != bundleMagic0 || p[1] != bundleMagic1 {
		return b, errors.Join(ErrBadBundle, errors.New("bad magic"))
	}
	if p[2] != bundleVersion {
		return b, errors.Join(ErrBadBundle, errors.New("unknown version"))
	}
	d := dec{buf: p[3:]}
	// Each record takes at least 13 bytes, an outcome 5, a key 1: counts
	// are checked against what is left before anything is allocated.
	if n := d.count(13); n > 0 {
		b.Records = make([]RecordEntry, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			var re RecordEntry
			re.Hops = d.hops()
			r := &re.Record
			r.TaskID = d.str()
			r.JobID = d.str()
			r.ParentID = d.str()
			r.Seq = d.uv()
			r.Function = d.str()
			if na := d.count(3); na > 0 {
				r.Args = make([]gcs.TaskArg, 0, na)
				for j := 0; j < na && d.err == nil; j++ {
					r.Args = append(r.Args, gcs.TaskArg{ObjectID: d.str(), Inline: d.bytes(), Location: d.str()})
				}
			}
			if nr := d.count(9); nr > 0 {
				r.Resources = make(map[string]float64, nr)
				for j := 0; j < nr && d.err == nil; j++ {
					k := d.str()
					r.Resources[k] = math.Float64frombits(d.u64())
				}
			}
			r.Retries = d.retries()
			r.Deterministic = d.flag()
			r.OwnerNode = d.str()
			r.Outcome = d.bytes()
			r.State = d.str()
			if d.err == nil && r.TaskID == "" {
				d.fail("record without task ID")
			}
			b.Records = append(b.Records, re)
		}
	}
	if n := d.count(5); n > 0 {
		b.Outcomes = make([]OutcomeEntry, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			var oe OutcomeEntry
			oe.Hops = d.hops()
			oe.Outcome.TaskID = d.str()
			oe.Outcome.Seq = d.uv()
			oe.Outcome.Kind = Kind(d.str())
			oe.Outcome.Data = d.bytes()
			if d.err == nil && oe.Outcome.TaskID == "" {
				d.fail("outcome without task ID")
			}
			b.Outcomes = append(b.Outcomes, oe)
		}
	}
	if n := d.count(1); n > 0 {
		b.Committed = make([]string, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			b.Committed = append(b.Committed, d.str())
		}
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Bundle{}, d.err
	}
	return b, nil
}

type enc struct{ buf []byte }

func (e *enc) uv(v uint64)    { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *enc) str(s string)   { e.uv(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *enc) bytes(b []byte) { e.uv(uint64(len(b))); e.buf = append(e.buf, b...) }

type dec struct {
	buf []byte
	err error
}

func (d *dec) fail(why string) {
	if d.err == nil {
		d.err = errors.Join(ErrBadBundle, errors.New(why))
	}
	d.buf = nil
}

func (d *dec) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *dec) retries() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("bad retries")
		return 0
	}
	d.buf = d.buf[n:]
	return int(v)
}

// count reads an element count and checks that that many elements of at
// least min bytes each could fit in what is left.
func (d *dec) count(min int) int {
	v := d.uv()
	if d.err != nil {
		return 0
	}
	if v > uint64(len(d.buf)/min) {
		d.fail("count exceeds input")
		return 0
	}
	return int(v)
}

func (d *dec) hops() int {
	v := d.uv()
	if v > maxHops {
		d.fail("hop count out of range")
		return 0
	}
	return int(v)
}

func (d *dec) raw() []byte {
	n := d.uv()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)) {
		d.fail("length exceeds input")
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *dec) str() string { return string(d.raw()) }

func (d *dec) bytes() []byte {
	b := d.raw()
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

func (d *dec) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.buf) < 8 {
		d.fail("short float")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return v
}

func (d *dec) flag() bool {
	if d.err != nil {
		return false
	}
	if len(d.buf) < 1 || d.buf[0] > 1 {
		d.fail("bad flag")
		return false
	}
	v := d.buf[0] == 1
	d.buf = d.buf[1:]
	return v
}
