package nodeagent

import (
	"context"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// The lineage stash's flusher writes a batch of records already encoded
// (gcs.TaskBatch) when its store takes one (stash.BatchStore): the GCS
// keeps the bytes as one row, and over a cluster the head stores them
// without decoding and encoding the records again.

var (
	_ stash.BatchReleaser = (*lazyStore)(nil)
	_ stash.BatchStore    = headStore{}
)

// ReleasesBatches: a lazyStore writes to the GCS in this process, which
// copies a batch into its log before the write succeeds
// (stash.BatchReleaser); a headStore sends it to a head and is not one.
func (*lazyStore) ReleasesBatches() {}

// PutTaskBatch writes the batch once the GCS is open.
func (l *lazyStore) PutTaskBatch(batch []byte) stash.Waiter {
	st, err := l.get()
	if err != nil {
		return stash.WaiterFunc(func(context.Context) error { return err })
	}
	return stash.GCS(st).PutTaskBatch(batch)
}

// PutTaskBatch sends the batch to a head (wire.GCSPutTaskBatch).
func (h headStore) PutTaskBatch(batch []byte) stash.Waiter {
	return h.write(wire.GCSPutTaskBatch, batch)
}

// The flusher writes a call's or a group's record straight into its batch
// (stash.RowWriter): the arguments are encoded where the row keeps them,
// with no TaskArg slice or buffer of their own.
var (
	_ stash.RowWriter = (*callSpec)(nil)
	_ stash.RowWriter = (*groupSpec)(nil)
)

// AppendRow writes the call's record into b without building it.
func (c *callSpec) AppendRow(b *gcs.TaskBatch) {
	head := recordHead(c.call, c.node)
	calls := [1]*exec.TaskCall{c.call}
	appendCallsRow(b, &head, calls[:], nil, c.refs, pinsArgs(c.call))
}

// appendCallsRow writes head with the arguments of every call, in order,
// as taskArgs makes them (pin as there), into b; an argument that is the
// previous call's result (links) as groupRecordArgs writes it
// (gcs.PreviousResult).
func appendCallsRow(b *gcs.TaskBatch, head *gcs.TaskRecord, calls []*exec.TaskCall, links chainLinks, refs exec.RefCodec, pin bool) {
	b.AddArgs(head, argCount(calls), func(w *gcs.ArgWriter) { writeCallsArgs(w, calls, links, refs, pin) })
}

// writeCallsArgs writes the arguments of every call of calls through w,
// as groupRecordArgs makes them: a chain's link (links) as
// PreviousResult, the others as writeArg writes them.
func writeCallsArgs(w *gcs.ArgWriter, calls []*exec.TaskCall, links chainLinks, refs exec.RefCodec, pin bool) {
	k := 0
	for i, call := range calls {
		for _, a := range call.Args {
			if links.link(k, i, a, calls) {
				w.PreviousResult()
			} else {
				writeArg(w, a, refs, pin)
			}
			k++
		}
	}
}

// writeArg writes one argument as taskArgs keeps it: a future by its
// object (and where it is: with pin, marked shared), a small value's
// encoding inline, else nothing.
func writeArg(w *gcs.ArgWriter, a exec.Value, refs exec.RefCodec, pin bool) {
	if a.Kind() == exec.FutureKind {
		w.Object(a.AsFuture().ID(), argLocation(a.AsFuture(), pin))
		return
	}
	if exec.EncodedSize(a) > InlineLimit {
		w.Missing()
		return
	}
	w.Inline(func(dst []byte) ([]byte, bool) {
		enc, err := exec.EncodeWith(dst, a, refs)
		return enc, err == nil
	})
}
