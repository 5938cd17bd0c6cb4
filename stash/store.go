package stash

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// Waiter is the pending result of an asynchronous write.
type Waiter interface {
	// Wait blocks until the write is committed (nil), has failed, or ctx is
	// done (ctx.Err()). It may be called more than once.
	Wait(ctx context.Context) error
}

// WaiterFunc adapts a function to Waiter.
type WaiterFunc func(ctx context.Context) error

// Wait calls f.
func (f WaiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// Store is what the stash needs from the GCS: batched writes to the tasks
// table and point reads from it. *gcs.Store satisfies it through GCS.
type Store interface {
	// PutTasks writes the records (creating or replacing rows keyed by
	// TaskID) and returns without waiting for the commit.
	PutTasks(recs []gcs.TaskRecord) Waiter
	// GetTask reads one row; a missing row is an error matching
	// gcs.ErrNotFound.
	GetTask(id string) (gcs.TaskRecord, error)
}

// BatchStore is a Store that also takes a batch of records already
// encoded (gcs.TaskBatch), which the GCS keeps as one row without
// decoding it. The flusher writes through PutTaskBatch when its store
// has it.
type BatchStore interface {
	Store
	// PutTaskBatch writes the batch's records, as PutTasks would; the
	// batch is not modified afterwards.
	PutTaskBatch(batch []byte) Waiter
}

// BatchReleaser is a BatchStore that keeps no reference to a batch once
// its write has succeeded (the GCS copies it once, into its raft log
// entry, before, and keeps only that copy): the
// flusher then writes its next batch into the same buffer. A store that
// sends a batch over the network, which may still hold it after an
// answer, is not one.
type BatchReleaser interface {
	BatchStore
	// ReleasesBatches marks the store; it does nothing.
	ReleasesBatches()
}

// GCS adapts a *gcs.Store to Store (a BatchReleaser).
func GCS(s *gcs.Store) BatchReleaser { return gcsStore{s} }

type gcsStore struct{ s *gcs.Store }

func (g gcsStore) PutTasks(recs []gcs.TaskRecord) Waiter {
	return futureWaiter{g.s.PutTasks(recs)}
}

func (g gcsStore) PutTaskBatch(batch []byte) Waiter {
	return futureWaiter{g.s.PutTaskBatch(batch)}
}

func (g gcsStore) GetTask(id string) (gcs.TaskRecord, error) { return g.s.GetTask(id) }

// ReleasesBatches: gcs.Store.PutTaskBatch copies the batch into its raft
// log entry before the write can succeed, and keeps only that copy (its
// tables keep the batch as a slice of the entry).
func (gcsStore) ReleasesBatches() {}

type futureWaiter struct{ f *gcs.Future }

// Wait waits on the future. With a deadline it uses the future's own timed
// wait and starts no goroutine; without one a helper goroutine waits on the
// future, which the GCS always completes (ApplyTimeout, or Close).
func (w futureWaiter) Wait(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		err := w.f.ErrorTimeout(time.Until(dl))
		if errors.Is(err, gcs.ErrTimeout) && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	ch := make(chan error, 1)
	go func() { ch <- w.f.Error() }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Mode is how a node keeps lineage (--lineage).
type Mode string

// The lineage modes.
const (
	ModeStash Mode = "stash" // lineage stash: forward uncommitted lineage, flush in the background
	ModeSync  Mode = "sync"  // write every task to the GCS before dispatch (WriteSync)
	ModeOff   Mode = "off"   // keep no lineage; recovery is impossible
)

// ParseMode parses a --lineage value; the empty string is ModeStash.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeStash:
		return ModeStash, nil
	case ModeSync, ModeOff:
		return Mode(s), nil
	}
	return "", fmt.Errorf("lineage mode %q: want stash, sync or off", s)
}

// WriteSync writes one record to the GCS and waits for the commit: the
// ModeSync path, called before a task is dispatched.
func WriteSync(ctx context.Context, st Store, rec gcs.TaskRecord) error {
	if rec.TaskID == "" {
		return ErrEmptyID
	}
	return st.PutTasks([]gcs.TaskRecord{rec}).Wait(ctx)
}

// outcomeSep separates a task ID from an outcome's sequence number in
// OutcomeKey. Task IDs are dotted numbers and never contain it.
const outcomeSep = "#"

// OutcomeFunctionPrefix starts the Function of an outcome row; the kind
// follows it.
const OutcomeFunctionPrefix = "outcome:"

// OutcomeState is the State of an outcome row.
const OutcomeState = "outcome"

// OutcomeKey is the key of a task's seq-th nondeterministic outcome, in the
// stash and in the GCS tasks table.
func OutcomeKey(taskID string, seq uint64) string {
	return taskID + outcomeSep + strconv.FormatUint(seq, 10)
}

// OutcomeRecord is the row an outcome is stored as in the GCS tasks table:
// TaskID is OutcomeKey(o.TaskID, o.Seq), ParentID the task, Seq the step,
// Function OutcomeFunctionPrefix+Kind, Outcome the data, State OutcomeState.
func OutcomeRecord(o Outcome) gcs.TaskRecord {
	job, _, _ := strings.Cut(o.TaskID, ".")
	return gcs.TaskRecord{
		TaskID:   OutcomeKey(o.TaskID, o.Seq),
		JobID:    job,
		ParentID: o.TaskID,
		Seq:      o.Seq,
		Function: OutcomeFunctionPrefix + string(o.Kind),
		Outcome:  o.Data,
		State:    OutcomeState,
	}
}

// OutcomeFromRecord reverses OutcomeRecord; false for a row that is not
// an outcome.
func OutcomeFromRecord(r gcs.TaskRecord) (Outcome, bool) {
	kind, ok := strings.CutPrefix(r.Function, OutcomeFunctionPrefix)
	if !ok || r.State != OutcomeState {
		return Outcome{}, false
	}
	return Outcome{TaskID: r.ParentID, Seq: r.Seq, Kind: Kind(kind), Data: r.Outcome}, true
}

// maxOutcomeProbe bounds how many outcome rows LookupStore reads for one
// task, so a corrupt table cannot make it loop for long.
const maxOutcomeProbe = 1 << 20

// LookupStore reads a task's lineage from the GCS alone: its record and its
// outcomes (seq 0, 1, ... up to the first missing one). It returns an error
// matching gcs.ErrNotFound when the GCS has neither.
func LookupStore(st Store, taskID string) (Lineage, error) {
	return lookupStore(st, taskID, nil, false)
}

// LookupOutcomes returns a task's outcomes: those in have (gathered from
// stashes, by seq), and the ones it lacks read from the GCS, seq 0, 1, ...
// up to the first missing one. The error matches gcs.ErrNotFound when
// neither has any.
func LookupOutcomes(st Store, taskID string, have map[uint64]Outcome) ([]Outcome, error) {
	l, err := lookupStore(st, taskID, have, true)
	return l.Outcomes, err
}

// lookupStore reads the record unless haveRec, and the outcomes not in have.
func lookupStore(st Store, taskID string, have map[uint64]Outcome, haveRec bool) (Lineage, error) {
	var l Lineage
	found := haveRec
	if !haveRec {
		rec, err := st.GetTask(taskID)
		switch {
		case err == nil:
			l.Record, found = rec, true
		case !errors.Is(err, gcs.ErrNotFound):
			return l, err
		}
	}
	for seq := uint64(0); seq < maxOutcomeProbe; seq++ {
		if o, ok := have[seq]; ok {
			l.Outcomes = append(l.Outcomes, o)
			continue
		}
		r, err := st.GetTask(OutcomeKey(taskID, seq))
		if errors.Is(err, gcs.ErrNotFound) {
			break
		}
		if err != nil {
			return l, err
		}
		o, ok := OutcomeFromRecord(r)
		if !ok {
			break
		}
		l.Outcomes = append(l.Outcomes, o)
		found = true
	}
	// Outcomes held in the stash past a gap are still returned.
	if len(have) > 0 {
		seen := make(map[uint64]bool, len(l.Outcomes))
		for _, o := range l.Outcomes {
			seen[o.Seq] = true
		}
		for seq, o := range have {
			if !seen[seq] {
				l.Outcomes = append(l.Outcomes, o)
			}
		}
		sortOutcomes(l.Outcomes)
		found = true
	}
	if !found {
		return l, fmt.Errorf("lineage of task %s: %w", taskID, gcs.ErrNotFound)
	}
	return l, nil
}
