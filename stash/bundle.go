package stash

import (
	"errors"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
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

// RecordEntry is a task record in a bundle. In a bundle Forward made, an
// entry whose spec writes its own fields (FieldsWriter) leaves Record
// empty: it is encoded, and taken in by Receive, from the spec.
type RecordEntry struct {
	Record gcs.TaskRecord
	Hops   int
	fields FieldsWriter
}

// record is the entry's record, built from its spec when it has one.
func (r *RecordEntry) record() gcs.TaskRecord {
	if r.fields != nil {
		return r.fields.Record()
	}
	return r.Record
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

// Bundle wire format (version 2), written with internal/codec, all
// integers as varints:
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
	e := codec.NewEncoder(dst)
	e.Byte(bundleMagic0)
	e.Byte(bundleMagic1)
	e.Byte(bundleVersion)
	e.Uvarint(uint64(len(b.Records)))
	for i := range b.Records {
		e.Uvarint(uint64(clampHops(b.Records[i].Hops)))
		if fw := b.Records[i].fields; fw != nil {
			fw.EncodeFields(e)
			continue
		}
		b.Records[i].Record.EncodeFields(e)
	}
	e.Uvarint(uint64(len(b.Outcomes)))
	for i := range b.Outcomes {
		o := &b.Outcomes[i].Outcome
		e.Uvarint(uint64(clampHops(b.Outcomes[i].Hops)))
		e.String(o.TaskID)
		e.Uvarint(o.Seq)
		e.String(string(o.Kind))
		e.Blob(o.Data)
	}
	e.Strings(b.Committed)
	return e.Bytes()
}

// The least sizes of a record, an outcome and a committed key on the
// wire: counts are checked against what is left before anything is
// allocated.
const (
	minRecordSize  = 13
	minOutcomeSize = 5
)

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
	d := codec.NewDecoder(p[3:])
	if n := d.Count(minRecordSize); n > 0 {
		b.Records = make([]RecordEntry, 0, n)
		for i := 0; i < n && d.Err() == nil; i++ {
			b.Records = append(b.Records, decodeRecordEntry(d))
		}
	}
	if n := d.Count(minOutcomeSize); n > 0 {
		b.Outcomes = make([]OutcomeEntry, 0, n)
		for i := 0; i < n && d.Err() == nil; i++ {
			b.Outcomes = append(b.Outcomes, decodeOutcomeEntry(d))
		}
	}
	b.Committed = d.Strings()
	if err := d.Finish(); err != nil {
		return Bundle{}, errors.Join(ErrBadBundle, err)
	}
	return b, nil
}

func decodeRecordEntry(d *codec.Decoder) RecordEntry {
	var re RecordEntry
	re.Hops = decodeHops(d)
	r := &re.Record
	r.DecodeFields(d)
	if d.Err() == nil && r.TaskID == "" {
		d.Fail("record without task ID")
	}
	return re
}

func decodeOutcomeEntry(d *codec.Decoder) OutcomeEntry {
	var oe OutcomeEntry
	oe.Hops = decodeHops(d)
	oe.Outcome.TaskID = d.String()
	oe.Outcome.Seq = d.Uvarint()
	oe.Outcome.Kind = Kind(d.String())
	oe.Outcome.Data = d.BlobCopy()
	if d.Err() == nil && oe.Outcome.TaskID == "" {
		d.Fail("outcome without task ID")
	}
	return oe
}

func decodeHops(d *codec.Decoder) int {
	v := d.Uvarint()
	if v > maxHops {
		d.Fail("hop count out of range")
		return 0
	}
	return int(v)
}
