package nodeagent

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/stash"
)

// The lineage of a group of calls (batch, fuse) is one record, not one
// per call: the group is what runs again on recovery, and its
// specification is enough to run it again. The record is keyed by the
// group's first call; its Args are the arguments of every call of the
// group, in order (a call's future argument that an earlier call of the
// group makes names that call's object), and its State says how many
// calls it holds: "group:N".

// groupStatePrefix starts the State of a group's lineage record.
const groupStatePrefix = "group:"

// groupRecord is the lineage of the calls of one group, submitted on
// node.
func groupRecord(calls []*exec.TaskCall, node string, refs exec.RefCodec) gcs.TaskRecord {
	rec := groupHead(calls, node)
	args := calls[0].Args
	if len(calls) > 1 {
		args = make([]exec.Value, 0, argCount(calls))
		for _, call := range calls {
			args = append(args, call.Args...)
		}
	}
	rec.Args = taskArgs(args, refs, true) // pinned, as the row (groupSpec.AppendRow)
	return rec
}

// groupHead is a group's record without its arguments.
func groupHead(calls []*exec.TaskCall, node string) gcs.TaskRecord {
	rec := recordHead(calls[0], node)
	rec.State = groupStatePrefix + strconv.Itoa(len(calls))
	for _, call := range calls[1:] {
		if call.Site != nil && !call.Site.Deterministic {
			rec.Deterministic = false
		}
	}
	return rec
}

// argCount is the number of arguments of all calls.
func argCount(calls []*exec.TaskCall) int {
	n := 0
	for _, call := range calls {
		n += len(call.Args)
	}
	return n
}

// recordGroup keeps the specification of a group's calls as one record
// (in sync mode: writes it to the GCS first). In stash mode the stash
// keeps the calls and builds the record only when it is needed
// (groupSpec), as for a single call (callSpec).
func (l *lineage) recordGroup(calls []*exec.TaskCall, node string) error {
	if l == nil || l.mode == stash.ModeOff {
		return nil
	}
	if l.mode == stash.ModeSync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return stash.WriteSync(ctx, l.store, groupRecord(calls, node, l.refs))
	}
	// The group's calls were just made here: its ID is fresh.
	spec := &groupSpec{calls: slices.Clone(calls), node: node, refs: l.refs}
	return l.stash.AddSpec(calls[0].ID, spec, true)
}

// groupSpec is a group's lineage as the stash keeps it (stash.Spec): its
// calls, which do not change once submitted, turned into the group's
// record by groupRecord only when the flusher, a forward or a lookup
// needs it.
type groupSpec struct {
	stash.Slot // its stash entry
	calls      []*exec.TaskCall
	node       string
	refs       exec.RefCodec
}

func (g *groupSpec) Record() gcs.TaskRecord { return groupRecord(g.calls, g.node, g.refs) }

// AppendRow writes the group's record into b without building it
// (stash.RowWriter).
func (g *groupSpec) AppendRow(b *gcs.TaskBatch) {
	head := groupHead(g.calls, g.node)
	appendCallsRow(b, &head, g.calls, g.refs, true)
}

func (g *groupSpec) ParentID() string { return parentID(g.calls[0].ID) }

// AppendDeps appends the future arguments of every call, as the group's
// record lists them.
func (g *groupSpec) AppendDeps(dst []string) []string {
	for _, call := range g.calls {
		dst = appendFutureIDs(dst, call.Args)
	}
	return dst
}
