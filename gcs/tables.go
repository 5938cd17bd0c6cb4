package gcs

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// tables is the in-memory state of one shard: for each table, the encoded
// rows by key, and the rows of the tasks table written a batch at a time
// (taskbatch.go). Rows are stored encoded and never modified in place (a
// write replaces the slice), so a snapshot can copy the maps shallowly and
// a read decodes a private copy. tables does no locking; the FSM owns it.
type tables struct {
	rows  map[string]map[string][]byte
	tasks *taskBatches
}

func newTables() *tables {
	t := &tables{rows: make(map[string]map[string][]byte, len(tableNames)), tasks: newTaskBatches()}
	for _, name := range tableNames {
		t.rows[name] = make(map[string][]byte)
	}
	return t
}

func (t *tables) get(table, key string) ([]byte, bool) {
	v, ok := t.rows[table][key]
	return v, ok
}

// snapshotTables is a copy of a shard's tables for a snapshot: the maps
// copied, sharing the immutable rows, and the live task batches.
type snapshotTables struct {
	rows    map[string]map[string][]byte
	batches [][]byte
}

// clone copies the tables for a snapshot.
func (t *tables) clone() *snapshotTables {
	c := &snapshotTables{rows: make(map[string]map[string][]byte, len(t.rows)), batches: t.tasks.snapshot()}
	for name, m := range t.rows {
		c.rows[name] = maps.Clone(m)
	}
	return c
}

// change is what one applied command did to one row; the FSM turns changes
// into subscription events.
type change struct {
	table string
	key   string
	op    EventOp
	value []byte // the new row; nil for a delete
}

// applyCommand is the stateless applier: it changes t as c says and reports
// the rows it changed through emit. It depends on nothing but its arguments,
// so replaying the same log over the same tables gives the same tables on
// every replica.
func applyCommand(t *tables, c *command, emit func(change)) error {
	switch c.op {
	case opPut:
		return applyPut(t, c.table, c.key, c.value, emit)
	case opPutIfAbsent:
		if _, ok := t.get(c.table, c.key); ok {
			return nil
		}
		return applyPut(t, c.table, c.key, c.value, emit)
	case opDelete:
		return applyDelete(t, c.table, c.key, emit)
	case opMarkDead:
		return applyMarkDead(t, c.key, emit)
	case opAddLocation:
		return applyAddLocation(t, c.key, c.arg, c.size, emit)
	case opRemoveLocation:
		return applyRemoveLocation(t, c.key, c.arg, emit)
	case opRemoveNodeEverywhere:
		return applyRemoveNodeEverywhere(t, c.arg, emit)
	case opDeletePrefix:
		return applyDeletePrefix(t, c.table, c.key, emit)
	case opPutTaskBatch:
		return t.tasks.put(c.value, emit) // emit nil: no subscriber follows the tasks table
	case opPutAPIJobIf:
		return applyPutAPIJobIf(t, c.key, c.value, c.arg, c.size, emit)
	case opPutServeAppIf:
		return applyPutServeAppIf(t, c.key, c.value, c.size, emit)
	case opClaimActorName:
		return applyClaimActorName(t, c.key, c.value, c.arg, emit)
	case opReleaseActorName:
		return applyReleaseActorName(t, c.key, c.arg, emit)
	}
	return fmt.Errorf("gcs: unknown command op %d", c.op)
}

func applyPut(t *tables, table, key string, value []byte, emit func(change)) error {
	t.rows[table][key] = value
	emit(change{table: table, key: key, op: OpPut, value: value})
	return nil
}

func applyDelete(t *tables, table, key string, emit func(change)) error {
	if table == TableTasks {
		t.tasks.delete(key, emit)
	}
	if _, ok := t.rows[table][key]; !ok {
		return nil
	}
	delete(t.rows[table], key)
	emit(change{table: table, key: key, op: OpDelete})
	return nil
}

// applyDeletePrefix removes every row of table whose key starts with
// prefix. An empty prefix is refused: it would empty the table. A nil
// emit reports nothing (the FSM gives one for the tasks table only when
// someone follows it).
func applyDeletePrefix(t *tables, table, prefix string, emit func(change)) error {
	if prefix == "" {
		return errors.New("gcs: delete by prefix needs a prefix")
	}
	if table == TableTasks {
		t.tasks.deletePrefix(prefix, emit)
	}
	for key := range t.rows[table] {
		if strings.HasPrefix(key, prefix) {
			delete(t.rows[table], key)
			if emit != nil {
				emit(change{table: table, key: key, op: OpDelete})
			}
		}
	}
	return nil
}

func applyMarkDead(t *tables, id string, emit func(change)) error {
	b, ok := t.get(TableNodes, id)
	if !ok {
		return ErrNotFound
	}
	var n NodeInfo
	if err := decodeRow(b, &n); err != nil {
		return err
	}
	if n.State == NodeDead {
		return nil
	}
	n.State = NodeDead
	return applyPut(t, TableNodes, id, encodeRow(&n), emit)
}

func applyAddLocation(t *tables, id, node string, size int64, emit func(change)) error {
	o := ObjectInfo{ID: id}
	if b, ok := t.get(TableObjects, id); ok {
		if err := decodeRow(b, &o); err != nil {
			return err
		}
	}
	changed := false
	if size > 0 && o.Size != size {
		o.Size, changed = size, true
	}
	if !slices.Contains(o.Locations, node) {
		o.Locations, changed = append(o.Locations, node), true
	}
	if !changed {
		return nil
	}
	return applyPut(t, TableObjects, id, encodeRow(&o), emit)
}

func applyRemoveLocation(t *tables, id, node string, emit func(change)) error {
	b, ok := t.get(TableObjects, id)
	if !ok {
		return nil
	}
	return removeLocation(t, id, b, node, emit)
}

// applyRemoveNodeEverywhere drops node from every object of this shard. A
// byte search skips the rows that cannot mention the node without decoding
// them.
func applyRemoveNodeEverywhere(t *tables, node string, emit func(change)) error {
	needle := []byte(node)
	for id, b := range t.rows[TableObjects] {
		if !bytes.Contains(b, needle) {
			continue
		}
		if err := removeLocation(t, id, b, node, emit); err != nil {
			return err
		}
	}
	return nil
}

func removeLocation(t *tables, id string, b []byte, node string, emit func(change)) error {
	var o ObjectInfo
	if err := decodeRow(b, &o); err != nil {
		return err
	}
	i := slices.Index(o.Locations, node)
	if i < 0 {
		return nil
	}
	o.Locations = slices.Delete(o.Locations, i, i+1)
	return applyPut(t, TableObjects, id, encodeRow(&o), emit)
}
