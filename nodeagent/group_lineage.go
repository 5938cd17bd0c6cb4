package nodeagent

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/stash"
)

// The lineage of a group of calls (batch, fuse) is one record, not one
// per call: the group is what runs again on recovery, and its
// specification is enough to run it again. The record is keyed by the
// group's first call; its Args are the arguments of every call of the
// group, in order, and its State says how many calls it holds:
// "group:N". A call's argument that is the result of the call just
// before it (a fused chain's link) is gcs.PreviousResult, by position
// and not by the object's ID: it costs a byte, no location (nor the pin
// that reading one puts on the object) and no dependency for the stash
// to walk. A call's future argument that another call of the group
// makes names that call's object.

// groupStatePrefix starts the State of a group's lineage record.
const groupStatePrefix = "group:"

// groupRecord is the lineage of the calls of one group, submitted on
// node, links its chain's links (nil: found from the calls): the record
// its forwarded fields read back as (groupSpec.EncodeFields), so that one
// piece of code, writeCallsArgs, says what a group's arguments are.
func groupRecord(calls []*exec.TaskCall, links chainLinks, node string, refs exec.RefCodec) gcs.TaskRecord {
	spec := groupSpec{calls: calls, links: links, node: node, refs: refs}
	var e codec.Encoder
	spec.EncodeFields(&e)
	var rec gcs.TaskRecord
	rec.DecodeFields(codec.NewDecoder(e.Bytes()))
	return rec
}

// chainLinks marks, one bit each, which of the arguments of a group's
// calls (taken one after the other) are the result of the call just
// before (a fused chain's links). The group's submitter finds them as it
// makes the calls' tasks (submitGroup), so that its lineage, built later
// and more than once (a forward, the flusher's row, the stash's walk),
// reads no future to tell.
type chainLinks []uint64

// mark marks argument k of a group whose calls take n arguments.
func (l *chainLinks) mark(k, n int) {
	if *l == nil {
		*l = make(chainLinks, (n+63)/64)
	}
	(*l)[k/64] |= 1 << (k % 64)
}

// link reports whether argument k, a of call i of calls, is the previous
// call's result: as marked, or without marks (nil), as isResultOf finds.
func (l chainLinks) link(k, i int, a exec.Value, calls []*exec.TaskCall) bool {
	if l != nil {
		return k/64 < len(l) && l[k/64]&(1<<(k%64)) != 0
	}
	return i > 0 && isResultOf(a, calls[i-1])
}

// isResultOf reports whether argument a is the future of call's result.
func isResultOf(a exec.Value, call *exec.TaskCall) bool {
	return a.Kind() == exec.FutureKind && a.AsFuture().ID() == call.ID
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
func (l *lineage) recordGroup(calls []*exec.TaskCall, links chainLinks, node string) error {
	if l == nil || l.mode == stash.ModeOff {
		return nil
	}
	if l.mode == stash.ModeSync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return stash.WriteSync(ctx, l.store, groupRecord(calls, links, node, l.refs))
	}
	// The group's calls were just made here: its ID is fresh.
	spec := &groupSpec{calls: slices.Clone(calls), links: links, node: node, refs: l.refs}
	return l.stash.AddSpec(calls[0].ID, spec, true)
}

// groupSpec is a group's lineage as the stash keeps it (stash.Spec): its
// calls, which do not change once submitted, turned into the group's
// record by groupRecord only when the flusher, a forward or a lookup
// needs it.
type groupSpec struct {
	stash.Slot // its stash entry
	calls      []*exec.TaskCall
	links      chainLinks // its chain's links, found at its submission (nil: none, or not looked for)
	node       string
	refs       exec.RefCodec
}

func (g *groupSpec) Record() gcs.TaskRecord { return groupRecord(g.calls, g.links, g.node, g.refs) }

// AppendRow writes the group's record into b without building it
// (stash.RowWriter).
func (g *groupSpec) AppendRow(b *gcs.TaskBatch) {
	head := groupHead(g.calls, g.node)
	appendCallsRow(b, &head, g.calls, g.links, g.refs, true)
}

// EncodeFields writes the group's record's fields, as its Record's
// EncodeFields would, without building it (stash.FieldsWriter): a
// group's lineage forwarded with it is written straight from its calls,
// not made of a gcs.TaskArg per argument first.
func (g *groupSpec) EncodeFields(e *codec.Encoder) {
	head := groupHead(g.calls, g.node)
	head.EncodeFieldsArgs(e, argCount(g.calls), func(w *gcs.ArgWriter) {
		writeCallsArgs(w, g.calls, g.links, g.refs, true)
	})
}

func (g *groupSpec) ParentID() string { return parentID(g.calls[0].ID) }

// AppendDeps appends the future arguments of every call, as the group's
// record lists them: a call's argument that is the previous call's
// result is the group's own, no dependency.
func (g *groupSpec) AppendDeps(dst []string) []string {
	k := 0
	for i, call := range g.calls {
		for _, a := range call.Args {
			if !g.links.link(k, i, a, g.calls) && a.Kind() == exec.FutureKind {
				dst = append(dst, a.AsFuture().ID())
			}
			k++
		}
	}
	return dst
}
