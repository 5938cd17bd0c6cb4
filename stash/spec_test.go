package stash

import (
	"bytes"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/internal/testutil"
)

// recSpec is a Spec over a fixed record that counts the records built.
type recSpec struct {
	r      gcs.TaskRecord
	builds *atomic.Int64
}

func (p recSpec) Record() gcs.TaskRecord {
	p.builds.Add(1)
	return p.r
}

func (p recSpec) ParentID() string { return p.r.ParentID }

func (p recSpec) AppendDeps(dst []string) []string {
	for _, a := range p.r.Args {
		if a.ObjectID != "" {
			dst = append(dst, a.ObjectID)
		}
	}
	return dst
}

// A spec's record is built by the flusher, not by AddSpec, and a fresh one
// is written and pruned without being remembered as committed.
func TestSpecBuiltByFlusher(t *testing.T) {
	st := newFakeStore(0)
	gate := make(chan struct{})
	st.gate = gate
	s := New(st, Config{})
	defer closeStash(t, s)
	var builds atomic.Int64
	const n = 500
	for i := range n {
		must(t, s.AddSpec(taskName(0, i), recSpec{rec(taskName(0, i), ""), &builds}, true))
	}
	close(gate)
	testutil.Eventually(t, 10*time.Second, "the flusher to commit every spec", func() bool {
		return s.Stats().Uncommitted == 0 && st.has(taskName(0, n-1))
	})
	if !st.has(taskName(0, 0)) {
		t.Fatal("first spec's row missing")
	}
	stt := s.Stats()
	if stt.Committed != n || stt.Bytes != 0 || stt.Records != 0 || len(s.tasks) != 0 || len(s.entries) != 0 || s.unindexed.len() != 0 {
		t.Fatalf("after commit: %+v, %d tasks, %d entries, %d unindexed", stt, len(s.tasks), len(s.entries), s.unindexed.len())
	}
	if s.committed.Has(taskName(0, 0)) {
		t.Fatal("a fresh record no peer held was remembered as committed")
	}
}

// Fresh specs not yet written are found by Forward (with their uncommitted
// parents), LookupLocal and Stats, and the ones a peer holds are
// remembered as committed once written.
func TestSpecForwardedAndLookedUp(t *testing.T) {
	st := newFakeStore(0)
	gate := make(chan struct{})
	st.gate = gate
	s := New(st, Config{})
	defer closeStash(t, s)
	var builds atomic.Int64
	must(t, s.AddSpec("j.1", recSpec{rec("j.1", ""), &builds}, true))
	must(t, s.AddSpec("j.1.1", recSpec{rec("j.1.1", "j.1"), &builds}, true))
	must(t, s.AddSpec("j.2", recSpec{rec("j.2", "", "j.1.1"), &builds}, true))
	if stt := s.Stats(); stt.Uncommitted != 3 || stt.Records != 3 {
		t.Fatalf("stats: %+v", stt)
	}
	b, err := s.Forward("j.2", "peer")
	must(t, err)
	if got := recordIDs(b); len(got) != 3 || got[0] != "j.1" || got[1] != "j.1.1" || got[2] != "j.2" {
		t.Fatalf("forwarded %v, want j.1, j.1.1, j.2", got)
	}
	if b.Records[0].Record.Function != "f" {
		t.Fatalf("forwarded record not built: %+v", b.Records[0].Record)
	}
	l, ok := s.LookupLocal("j.1.1")
	if !ok || l.Record.TaskID != "j.1.1" || l.Record.ParentID != "j.1" {
		t.Fatalf("LookupLocal: %+v %v", l, ok)
	}
	// The same ID made fresh again while held is dropped, not doubled.
	must(t, s.AddSpec("j.2", recSpec{rec("j.2", ""), &builds}, true))
	if stt := s.Stats(); stt.Uncommitted != 3 {
		t.Fatalf("after a duplicate: %+v", stt)
	}
	close(gate)
	testutil.Eventually(t, 10*time.Second, "commit", func() bool { return s.Stats().Uncommitted == 0 && st.has("j.2") })
	if !s.committed.Has("j.2") {
		t.Fatal("a record the peer holds was not remembered as committed")
	}
	if b, _ := s.Forward("", "peer"); len(b.Committed) != 3 {
		t.Fatalf("commit notices for the peer: %v", b.Committed)
	}
}

// AddSpec builds no record: with the flusher held back, none is built
// until a flush writes them.
func TestAddSpecBuildsNothing(t *testing.T) {
	st := newFakeStore(0)
	s := New(st, Config{GatherDelay: time.Hour})
	defer closeStash(t, s)
	var builds atomic.Int64
	for i := range 100 {
		must(t, s.AddSpec(taskName(0, i), recSpec{rec(taskName(0, i), ""), &builds}, true))
	}
	if b := builds.Load(); b != 0 {
		t.Fatalf("%d records built on the task path", b)
	}
	must(t, s.Flush(ctxT(t, 10*time.Second)))
	if b := builds.Load(); b != 100 || !st.has(taskName(0, 99)) {
		t.Fatalf("flush built %d records", b)
	}
}

// A spec not fresh is checked against the committed keys, as Add is.
func TestSpecNotFreshChecksCommitted(t *testing.T) {
	st := newFakeStore(0)
	s := New(st, Config{})
	defer closeStash(t, s)
	var builds atomic.Int64
	s.MarkCommitted("j.1")
	must(t, s.AddSpec("j.1", recSpec{rec("j.1", ""), &builds}, false))
	if stt := s.Stats(); stt.Uncommitted != 0 || stt.Added != 0 {
		t.Fatalf("a committed spec was added again: %+v", stt)
	}
}

// fieldsSpec is a recSpec that writes its record's fields itself
// (FieldsWriter).
type fieldsSpec struct{ recSpec }

func (p fieldsSpec) EncodeFields(e *codec.Encoder) { p.r.EncodeFields(e) }

// A spec that writes its own fields is forwarded without its record
// being built: the bundle encodes it from the spec, to the bytes its
// record would be, and a stash that receives the bundle unencoded takes
// the record in from the spec.
func TestFieldsWriterForwardedUnbuilt(t *testing.T) {
	s := New(newFakeStore(0), Config{GatherDelay: time.Hour})
	defer closeStash(t, s)
	var builds atomic.Int64
	r := rec("j.2", "", "j.0")
	r.Args = append(r.Args, gcs.TaskArg{ObjectID: gcs.PreviousResult}, gcs.TaskArg{Inline: []byte{1, 2}})
	must(t, s.AddSpec("j.2", fieldsSpec{recSpec{r, &builds}}, true))
	b, err := s.Forward("j.2", "peer")
	must(t, err)
	data := b.Encode()
	if n := builds.Load(); n != 0 {
		t.Fatalf("forwarding built the record %d times", n)
	}
	want := (&Bundle{Records: []RecordEntry{{Record: r}}}).Encode()
	if !bytes.Equal(data, want) {
		t.Fatalf("the bundle encoded from the spec differs from its record's")
	}
	peer := New(newFakeStore(0), Config{GatherDelay: time.Hour})
	defer closeStash(t, peer)
	peer.Receive(b, "n1")
	if l, ok := peer.LookupLocal("j.2"); !ok || !reflect.DeepEqual(l.Record, r) {
		t.Fatalf("the receiver holds %+v, %v; want %+v", l.Record, ok, r)
	}
}
