package nodeagent

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/stash"
)

// gatedStore commits writes once its gate is closed, and holds nothing.
type gatedStore struct{ gate chan struct{} }

func (g gatedStore) PutTasks([]gcs.TaskRecord) stash.Waiter {
	return stash.WaiterFunc(func(ctx context.Context) error {
		select {
		case <-g.gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (gatedStore) GetTask(string) (gcs.TaskRecord, error) { return gcs.TaskRecord{}, gcs.ErrNotFound }

// A call's spec, as the stash keeps it, gives the record taskRecord
// builds, its parent and the objects of its future arguments, without
// the stash building the record.
func TestCallSpecMatchesTaskRecord(t *testing.T) {
	fut := exec.FutureValue(exec.NewFuture("j.1.2", "task 'f'"))
	call := &exec.TaskCall{ID: "j.1.3", Args: []exec.Value{exec.Int(5), fut}}
	spec := &callSpec{call: call, node: "node-1"}
	if got, want := spec.Record(), taskRecord(call, "node-1", nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("spec's record %+v, want %+v", got, want)
	}
	if p := spec.ParentID(); p != "j.1" {
		t.Fatalf("parent %q, want j.1", p)
	}
	if d := spec.AppendDeps(nil); !slices.Equal(d, []string{"j.1.2"}) {
		t.Fatalf("deps %v, want [j.1.2]", d)
	}
	if p := parentID("j"); p != "" {
		t.Fatalf("a top-level ID has parent %q", p)
	}
}

// A submitted call's lineage is kept as the call: the stash builds its
// record only when it writes or forwards it (nothing on the task path).
func TestLineageKeepsCallSpec(t *testing.T) {
	st := gatedStore{gate: make(chan struct{})}
	l := newLineage("stash", "node-1", st, 0, nil)
	defer l.stash.Close()
	defer close(st.gate) // nothing commits before the lookup
	call := &exec.TaskCall{ID: "j.1", Args: []exec.Value{exec.Int(1)}}
	if err := l.record(call, "node-1", true); err != nil {
		t.Fatal(err)
	}
	got, ok := l.stash.LookupLocal("j.1")
	if !ok || got.Record.TaskID != "j.1" || got.Record.OwnerNode != "node-1" || len(got.Record.Args) != 1 {
		t.Fatalf("the stash holds %+v, %v", got, ok)
	}
}
