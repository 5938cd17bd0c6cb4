package nodeagent

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// A group's one lineage record is keyed by its first call and holds
// every call's arguments in order, a call's argument that an earlier
// call makes naming that call's object.
func TestGroupRecordHoldsEveryCall(t *testing.T) {
	first := &exec.TaskCall{ID: "j.1", Args: []exec.Value{exec.Int(5)}}
	fut := exec.FutureValue(exec.NewFuture("j.1", "task 'f'"))
	second := &exec.TaskCall{ID: "j.2", Args: []exec.Value{fut, exec.Int(7)}}
	rec := groupRecord([]*exec.TaskCall{first, second}, "node-1", nil)
	if rec.TaskID != "j.1" || rec.State != "group:2" || rec.OwnerNode != "node-1" {
		t.Fatalf("record %s, state %q, owner %q; want j.1, group:2, node-1", rec.TaskID, rec.State, rec.OwnerNode)
	}
	if len(rec.Args) != 3 || rec.Args[0].Inline == nil || rec.Args[1].ObjectID != "j.1" || rec.Args[2].Inline == nil {
		t.Fatalf("the record's arguments are %+v; want 5, the object j.1, 7", rec.Args)
	}
}
