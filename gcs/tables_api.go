package gcs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/raft"
)

// errEmptyID rejects a row without a key before it reaches raft.
func errEmptyID(what string) *Future {
	return errorFuture(fmt.Errorf("gcs: %s ID cannot be empty", what))
}

// putRow writes a whole row.
func (s *Store) putRow(table, key string, r row) *Future {
	return s.submitRow(command{op: opPut, table: table, key: key, value: encodeRow(r)})
}

// Delete removes the row (table, key); removing a missing row succeeds.
func (s *Store) Delete(table, key string) *Future {
	if _, ok := tableIndex(table); !ok {
		return errorFuture(fmt.Errorf("gcs: unknown table %q", table))
	}
	return s.submitRow(command{op: opDelete, table: table, key: key})
}

// --- nodes ---

// PutNode creates or replaces a node's row.
func (s *Store) PutNode(n NodeInfo, opts ...WriteOption) *Future {
	if n.ID == "" {
		return errEmptyID("node")
	}
	return s.submitOpts(s.shardOf(TableNodes, n.ID), opts, command{op: opPut, table: TableNodes, key: n.ID, value: encodeRow(&n)})
}

// DeleteNode removes a node's row (a head forgets a member long dead).
func (s *Store) DeleteNode(id string, opts ...WriteOption) *Future {
	if id == "" {
		return errEmptyID("node")
	}
	return s.submitOpts(s.shardOf(TableNodes, id), opts, command{op: opDelete, table: TableNodes, key: id})
}

// GetNode returns a node's row, or ErrNotFound.
func (s *Store) GetNode(id string, opts ...ReadOption) (NodeInfo, error) {
	var n NodeInfo
	err := s.getRow(TableNodes, id, &n, opts)
	return n, err
}

// ListNodes returns every node, sorted by ID.
func (s *Store) ListNodes(opts ...ReadOption) ([]NodeInfo, error) {
	return listDecoded[NodeInfo](s, TableNodes, opts)
}

// MarkDead sets a node's state to dead, keeping the rest of its row. The
// future fails with ErrNotFound for an unknown node. Its objects keep their
// locations until RemoveNodeEverywhere.
func (s *Store) MarkDead(id string) *Future {
	return s.submitRow(command{op: opMarkDead, table: TableNodes, key: id})
}

// --- jobs ---

// PutJob creates or replaces a job's row.
func (s *Store) PutJob(j JobInfo) *Future {
	if j.ID == "" {
		return errEmptyID("job")
	}
	return s.putRow(TableJobs, j.ID, &j)
}

// GetJob returns a job's row, or ErrNotFound.
func (s *Store) GetJob(id string, opts ...ReadOption) (JobInfo, error) {
	var j JobInfo
	err := s.getRow(TableJobs, id, &j, opts)
	return j, err
}

// ListJobs returns every job, sorted by ID.
func (s *Store) ListJobs(opts ...ReadOption) ([]JobInfo, error) {
	return listDecoded[JobInfo](s, TableJobs, opts)
}

// --- programs ---

// ProgramHash returns the content address of a program's source: the hex
// SHA-256 of its bytes.
func ProgramHash(source []byte) string {
	sum := sha256.Sum256(source)
	return hex.EncodeToString(sum[:])
}

// ShortHash abbreviates a program hash for messages people read.
func ShortHash(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// PutProgram stores a program's source under its hash and returns the hash.
// A program is shipped once: if this replica already holds the hash, no
// write is made and the future is already complete.
func (s *Store) PutProgram(source []byte) (string, *Future) {
	hash := ProgramHash(source)
	if _, err := s.readRow(TablePrograms, hash, nil); err == nil {
		return hash, errorFuture(nil)
	}
	src := append([]byte(nil), source...)
	return hash, s.submitRow(command{op: opPutIfAbsent, table: TablePrograms, key: hash, value: src})
}

// GetProgram returns the source stored under hash, or ErrNotFound.
func (s *Store) GetProgram(hash string, opts ...ReadOption) ([]byte, error) {
	b, err := s.readRow(TablePrograms, hash, opts)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// ProgramHashes lists the hashes of the programs this replica holds, in
// no particular order.
func (s *Store) ProgramHashes() ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []string
	for _, sh := range s.shards {
		sh.fsm.each(TablePrograms, func(k string, _ []byte) { out = append(out, k) })
	}
	return out, nil
}

// DeleteProgram removes the program stored under hash (no job uses it
// any more); removing a missing one succeeds.
func (s *Store) DeleteProgram(hash string) *Future {
	if hash == "" {
		return errEmptyID("program")
	}
	return s.Delete(TablePrograms, hash)
}

// --- statistics of the adaptive planner ---

// PutStats stores the adaptive planner's statistics of a program (key:
// its hash and planning options), replacing earlier ones.
func (s *Store) PutStats(key string, stats []byte) *Future {
	if key == "" {
		return errEmptyID("stats key")
	}
	return s.submitRow(command{op: opPut, table: TableStats, key: key, value: append([]byte(nil), stats...)})
}

// GetStats returns the statistics stored under key, or ErrNotFound.
func (s *Store) GetStats(key string, opts ...ReadOption) ([]byte, error) {
	b, err := s.readRow(TableStats, key, opts)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// --- tasks (lineage) ---

// PutTask creates or replaces a task's lineage record (a batch of one).
func (s *Store) PutTask(t TaskRecord) *Future {
	return s.PutTasks([]TaskRecord{t})
}

// PutTasks writes many lineage records as one batch (PutTaskBatch).
func (s *Store) PutTasks(tasks []TaskRecord) *Future {
	if len(tasks) == 0 {
		return errorFuture(nil)
	}
	size := 1
	for i := range tasks {
		if tasks[i].TaskID == "" {
			return errEmptyID("task")
		}
		size += SizeHint(&tasks[i])
	}
	b := NewTaskBatch(size)
	for i := range tasks {
		b.Add(&tasks[i])
	}
	return s.PutTaskBatch(b.Bytes())
}

// PutTaskBatch writes an encoded batch of lineage records (TaskBatch) as
// one row of the tasks table, in one command of one raft log entry: the
// lineage stash's flush. The GCS stores the bytes as they are, on a shard
// this replica leads when it leads any; GetTask finds each record inside
// its batch. A malformed batch is refused whole.
//
// The batch's bytes are copied once, into the raft log entry, before the
// write can succeed, and the tables keep that copy (a slice of the entry,
// see fsm.Apply): once the returned future succeeded the caller may write
// into batch again (the stash's flusher reuses its buffer); until then,
// or after a failure, it must not.
//
// A task written again reads as its newest record when both batches went
// to the same shard, else as either: lineage writers write a task's
// record the same every time (the stash's writes are idempotent). A
// delete removes every copy.
func (s *Store) PutTaskBatch(batch []byte) *Future {
	n, err := checkTaskBatch(batch)
	if err != nil {
		return errorFuture(err)
	}
	if n == 0 {
		return errorFuture(nil)
	}
	return s.submit(s.batchShard(), command{op: opPutTaskBatch, table: TableTasks, value: batch})
}

// batchShard picks the shard of the next task batch: any shard serves
// (lookups ask every shard), so the writes go round the shards this
// replica leads, or round all of them when it leads none.
func (s *Store) batchShard() *shard {
	n := s.nextBatch.Add(1)
	var buf [16]*shard
	led := buf[:0]
	for _, sh := range s.shards {
		if sh.raft.State() == raft.Leader {
			led = append(led, sh)
		}
	}
	if len(led) == 0 {
		led = s.shards
	}
	return led[n%uint64(len(led))]
}

// DeleteJobTasks removes a finished job's rows from the tasks table: every
// row whose key starts with the job's ID and a dot, which covers its tasks
// (task IDs derive from the job ID) and their logged outcomes. It goes
// through raft on every shard, like any write; each replica finds the
// rows when it applies it, so the caller need not list them.
func (s *Store) DeleteJobTasks(jobID string) *Future {
	if jobID == "" || strings.Contains(jobID, ".") {
		return errorFuture(fmt.Errorf("gcs: %q is not a job ID", jobID))
	}
	return s.submitAll(command{op: opDeletePrefix, table: TableTasks, key: jobID + "."})
}

// DeleteTasks removes the rows of tasks from the tasks table: one write
// per shard (a task's row may be in a batch on any shard), each carried
// in a single log entry. Removing a missing row succeeds. (Their
// outcomes' rows, if any, go with their job.)
func (s *Store) DeleteTasks(ids []string) *Future {
	if len(ids) == 0 {
		return errorFuture(nil)
	}
	cmds := make([]command, len(ids))
	for i, id := range ids {
		if id == "" {
			return errEmptyID("task")
		}
		cmds[i] = command{op: opDelete, table: TableTasks, key: id}
	}
	return s.submitAll(cmds...)
}

// GetTask returns a task's lineage record, or ErrNotFound. Every shard is
// asked, since a batch of records may be on any.
func (s *Store) GetTask(id string, opts ...ReadOption) (TaskRecord, error) {
	var t TaskRecord
	if err := s.checkOpen(); err != nil {
		return t, err
	}
	if linearizable(opts) {
		if err := s.barrier(s.shards); err != nil {
			return t, err
		}
	}
	for _, sh := range s.shards {
		if b, ok := sh.fsm.getTask(id); ok {
			return t, decodeRow(b, &t)
		}
	}
	return t, ErrNotFound
}

// --- objects ---

// AddLocation records that node holds a copy of the object, creating the
// object's row if needed. A size above zero sets the object's size.
func (s *Store) AddLocation(objectID, nodeID string, size int64) *Future {
	if objectID == "" || nodeID == "" {
		return errorFuture(errors.New("gcs: object and node IDs cannot be empty"))
	}
	return s.submitRow(command{op: opAddLocation, table: TableObjects, key: objectID, arg: nodeID, size: size})
}

// RemoveLocation records that node no longer holds the object. The row
// stays, possibly with no locations: the object is then lost and must be
// rebuilt from its lineage.
func (s *Store) RemoveLocation(objectID, nodeID string) *Future {
	return s.submitRow(command{op: opRemoveLocation, table: TableObjects, key: objectID, arg: nodeID})
}

// RemoveNodeEverywhere removes a dead node from the locations of every
// object, on every shard.
func (s *Store) RemoveNodeEverywhere(nodeID string) *Future {
	if nodeID == "" {
		return errEmptyID("node")
	}
	return s.submitAll(command{op: opRemoveNodeEverywhere, table: TableObjects, arg: nodeID})
}

// GetObject returns an object's row, or ErrNotFound.
func (s *Store) GetObject(id string, opts ...ReadOption) (ObjectInfo, error) {
	var o ObjectInfo
	err := s.getRow(TableObjects, id, &o, opts)
	return o, err
}

// --- actors ---

// PutActor creates or replaces an actor's row.
func (s *Store) PutActor(a ActorInfo) *Future {
	if a.ID == "" {
		return errEmptyID("actor")
	}
	return s.putRow(TableActors, a.ID, &a)
}

// GetActor returns an actor's row, or ErrNotFound.
func (s *Store) GetActor(id string, opts ...ReadOption) (ActorInfo, error) {
	var a ActorInfo
	err := s.getRow(TableActors, id, &a, opts)
	return a, err
}

// ListActors returns every actor, sorted by ID.
func (s *Store) ListActors(opts ...ReadOption) ([]ActorInfo, error) {
	return listDecoded[ActorInfo](s, TableActors, opts)
}

// --- subscriptions ---

// Subscribe returns a subscription to the change events of table, or of
// every table if table is empty. buffer below 1 means
// DefaultSubscriptionBuffer. See Subscription for the delivery rules.
func (s *Store) Subscribe(table string, buffer int) (*Subscription, error) {
	if _, ok := tableIndex(table); !ok && table != "" {
		return nil, fmt.Errorf("gcs: unknown table %q", table)
	}
	return s.hub.subscribe(table, buffer), nil
}

// TaskBatches reports how many batches of lineage records this replica
// holds (PutTaskBatch; each one row, whatever its size) and how many
// live records they have.
func (s *Store) TaskBatches() (batches, records int) {
	for _, sh := range s.shards {
		b, r := sh.fsm.taskBatches()
		batches += b
		records += r
	}
	return batches, records
}
