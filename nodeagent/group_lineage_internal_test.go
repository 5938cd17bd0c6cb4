package nodeagent

import (
	"bytes"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// A group's one lineage record is keyed by its first call and holds
// every call's arguments in order: an argument that is the result of the
// call just before is gcs.PreviousResult (no ID, no location), one that
// an earlier call makes names that call's object.
func TestGroupRecordHoldsEveryCall(t *testing.T) {
	first := &exec.TaskCall{ID: "j.1", Args: []exec.Value{exec.Int(5)}}
	fut := exec.FutureValue(exec.NewFuture("j.1", "task 'f'"))
	second := &exec.TaskCall{ID: "j.2", Args: []exec.Value{fut, exec.Int(7)}}
	third := &exec.TaskCall{ID: "j.3", Args: []exec.Value{fut}}
	rec := groupRecord([]*exec.TaskCall{first, second, third}, nil, "node-1", nil)
	if rec.TaskID != "j.1" || rec.State != "group:3" || rec.OwnerNode != "node-1" {
		t.Fatalf("record %s, state %q, owner %q; want j.1, group:3, node-1", rec.TaskID, rec.State, rec.OwnerNode)
	}
	if len(rec.Args) != 4 || rec.Args[0].Inline == nil || rec.Args[1].ObjectID != gcs.PreviousResult ||
		rec.Args[2].Inline == nil || rec.Args[3].ObjectID != "j.1" {
		t.Fatalf("the record's arguments are %+v; want 5, the previous result, 7, the object j.1", rec.Args)
	}
}

// A fused chain's lineage names its links by position: the record built
// for a forward and the row the flusher writes hold gcs.PreviousResult
// for each call's argument after the first, and the group depends on
// nothing of its own (the stash walks no link).
func TestChainRecordNamesLinksByPosition(t *testing.T) {
	const n = 50
	calls := make([]*exec.TaskCall, n)
	seed := exec.FutureValue(exec.NewFuture("j.0", "task 'f'"))
	for i := range calls {
		id := "j." + string(rune('a'+i%26)) + string(rune('a'+i/26))
		arg := seed
		if i > 0 {
			o := objstore.NewObject(calls[i-1].ID, "task 'f'")
			f := exec.NewFuture(calls[i-1].ID, "task 'f'")
			f.Handle = o
			arg = exec.FutureValue(f)
		}
		calls[i] = &exec.TaskCall{ID: id, Args: []exec.Value{arg}}
	}
	spec := &groupSpec{calls: calls, node: "node-1"}
	rec := spec.Record()
	if len(rec.Args) != n || rec.Args[0].ObjectID != "j.0" {
		t.Fatalf("the record's arguments are %+v; want j.0 then the previous results", rec.Args[:2])
	}
	for i, a := range rec.Args[1:] {
		if a.ObjectID != gcs.PreviousResult || a.Location != "" {
			t.Fatalf("argument %d is %+v; want the previous result", i+1, a)
		}
	}
	if deps := spec.AppendDeps(nil); !slices.Equal(deps, []string{"j.0"}) {
		t.Errorf("the group depends on %v; want only j.0 (its links are its own)", deps)
	}
	row, want := gcs.NewTaskBatch(0), gcs.NewTaskBatch(0)
	spec.AppendRow(row)
	want.Add(&rec)
	if !bytes.Equal(row.Bytes(), want.Bytes()) {
		t.Errorf("the row the flusher writes is not the record a forward carries")
	}
}

// The links a group's submitter marks are the ones its record names by
// position, read without the calls' futures; without marks they are
// found from the futures, to the same record.
func TestChainLinksMarkedAsFound(t *testing.T) {
	calls := []*exec.TaskCall{{ID: "j.1", Args: []exec.Value{exec.Int(1)}}}
	for i := 2; i <= 70; i++ {
		prev := exec.FutureValue(exec.NewFuture(calls[len(calls)-1].ID, "task 'f'"))
		calls = append(calls, &exec.TaskCall{ID: "j." + strconv.Itoa(i), Args: []exec.Value{exec.Int(7), prev}})
	}
	var links chainLinks
	n := argCount(calls)
	for k := 2; k < n; k += 2 {
		links.mark(k, n)
	}
	marked, found := groupRecord(calls, links, "n1", nil), groupRecord(calls, nil, "n1", nil)
	if !reflect.DeepEqual(marked, found) {
		t.Fatalf("marked links give %+v, found ones %+v", marked.Args[:4], found.Args[:4])
	}
	if found.Args[2].ObjectID != gcs.PreviousResult || found.Args[n-1].ObjectID != gcs.PreviousResult {
		t.Fatalf("the record's links: %+v", found.Args[:4])
	}
	var none chainLinks
	none.mark(0, 1)
	if none.link(64, 1, exec.Int(1), calls) || !none.link(0, 0, exec.Int(1), calls) {
		t.Error("a mark is read where it is not, or not where it is")
	}
}

// A group's record forwarded with it is written straight from its calls
// (groupSpec.EncodeFields), to the bytes of the record a lookup builds:
// a chain's links (marked or found), an argument from outside the group,
// an earlier call's object, small values inline and one too large.
func TestGroupFieldsAreItsRecord(t *testing.T) {
	big := exec.Str(strings.Repeat("x", int(InlineLimit)+1))
	outside := exec.FutureValue(exec.NewFuture("j.0", "task 'f'"))
	calls := []*exec.TaskCall{{ID: "j.1", Args: []exec.Value{exec.Int(1), outside}}}
	for i := 2; i <= 40; i++ {
		prev := exec.FutureValue(exec.NewFuture(calls[len(calls)-1].ID, "task 'f'"))
		args := []exec.Value{prev}
		switch i % 4 {
		case 0:
			args = append(args, exec.Int(int64(i)))
		case 1:
			args = append(args, exec.FutureValue(exec.NewFuture("j.1", "task 'f'")))
		case 2:
			args = append(args, big)
		}
		calls = append(calls, &exec.TaskCall{ID: "j." + strconv.Itoa(i), Args: args})
	}
	var marked chainLinks
	k := 0
	for i, c := range calls {
		for _, a := range c.Args {
			if i > 0 && isResultOf(a, calls[i-1]) {
				marked.mark(k, argCount(calls))
			}
			k++
		}
	}
	for _, links := range []chainLinks{nil, marked} {
		spec := &groupSpec{calls: calls, links: links, node: "node-1"}
		rec := spec.Record()
		var got, want codec.Encoder
		spec.EncodeFields(&got)
		rec.EncodeFields(&want)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("links %v: the fields written from the calls are not the record's", links != nil)
		}
		// What the record says of each argument, stated apart from the
		// code that writes it (the record is that code's fields read back).
		if a := rec.Args; len(a) != argCount(calls) || a[0].Inline == nil || a[1].ObjectID != "j.0" {
			t.Fatalf("links %v: the first call's arguments are %+v", links != nil, rec.Args[:2])
		}
		k := 2
		for i, c := range calls[1:] {
			if a := rec.Args[k]; a.ObjectID != gcs.PreviousResult || a.Inline != nil || a.Location != "" {
				t.Fatalf("links %v: call %d's link is %+v, want the previous result", links != nil, i+2, a)
			}
			if len(c.Args) == 2 {
				a := rec.Args[k+1]
				switch (i + 2) % 4 {
				case 0:
					if a.Inline == nil || a.ObjectID != "" {
						t.Fatalf("call %d's small value is %+v, want it inline", i+2, a)
					}
				case 1:
					if a.ObjectID != "j.1" || a.Inline != nil {
						t.Fatalf("call %d's future is %+v, want the object j.1", i+2, a)
					}
				case 2:
					if a.Inline != nil || a.ObjectID != "" {
						t.Fatalf("call %d's large value is %+v, want it left out", i+2, a)
					}
				}
			}
			k += len(c.Args)
		}
	}
}
