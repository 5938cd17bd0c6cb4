package gcs

import (
	"fmt"

	"github.com/rayflow/rayflow/internal/codec"
)

// opcode says what a command does to the tables.
type opcode uint8

const (
	opPut opcode = iota + 1
	opPutIfAbsent
	opDelete
	opMarkDead
	opAddLocation
	opRemoveLocation
	opRemoveNodeEverywhere
	opDeletePrefix
	opPutAPIJobIf
	opPutServeAppIf
	opClaimActorName
	opReleaseActorName
	opPutTaskBatch
	opMax // not an op; bounds the valid range
)

// command is one write. Several commands from many callers travel together
// in one raft log entry (see batcher.go); each is applied on its own and
// succeeds or fails on its own.
//
// Field use by op:
//
//	opPut, opPutIfAbsent    table, key, value
//	opDelete, opMarkDead    table, key
//	opAddLocation           key (object), arg (node), size
//	opRemoveLocation        key (object), arg (node)
//	opRemoveNodeEverywhere  arg (node)
//	opDeletePrefix          table, key (the prefix; never empty)
//	opPutAPIJobIf           key, value, arg (supervisor), size (attempt) (apijobs.go)
//	opPutServeAppIf         table, key, value, size (the version expected) (serveapps.go)
//	opClaimActorName        table, key, value, arg (the stale holder replaced) (actornames.go)
//	opReleaseActorName      table, key, arg (the holder) (actornames.go)
//	opPutTaskBatch          table (tasks), value (a TaskBatch) (taskbatch.go)
type command struct {
	op    opcode
	table string
	key   string
	value []byte
	arg   string
	size  int64
}

// batchVersion leads every log entry written by this package.
const batchVersion = 1

// tableIndex maps a table name to its one-byte wire code.
func tableIndex(table string) (byte, bool) {
	for i, t := range tableNames {
		if t == table {
			return byte(i), true
		}
	}
	return 0, false
}

func (c *command) marshal(e *codec.Encoder) {
	e.Byte(byte(c.op))
	ti, _ := tableIndex(c.table) // tables are checked when the command is built
	e.Byte(ti)
	e.String(c.key)
	e.Blob(c.value)
	e.String(c.arg)
	e.Varint(c.size)
}

// minCommandSize is the fewest bytes a command takes: op, table, three
// empty lengths and a size.
const minCommandSize = 6

func (c *command) unmarshal(d *codec.Decoder) {
	c.op = opcode(d.Byte())
	ti := d.Byte()
	if d.Err() != nil || c.op == 0 || c.op >= opMax || int(ti) >= len(tableNames) {
		d.Fail("bad command op or table")
		return
	}
	c.table = tableNames[ti]
	c.key = d.String()
	if c.op == opPutTaskBatch {
		c.value = d.Blob() // kept as a slice of the entry (see decodeBatch)
	} else {
		c.value = d.BlobCopy()
	}
	c.arg = d.String()
	c.size = d.Varint()
}

// encodeBatch returns the raft log entry that carries cmds: a new buffer
// of about its exact size, into which every command's value is copied.
// That is the one copy a task batch's bytes go through on their way to
// the tables (PutTaskBatch): the caller's buffer is free once the entry
// is built, and the FSM keeps the batch as a slice of the entry.
func encodeBatch(cmds []command) []byte {
	size := 8
	for i := range cmds {
		size += 16 + len(cmds[i].key) + len(cmds[i].value) + len(cmds[i].arg)
	}
	e := codec.NewEncoder(make([]byte, 0, size))
	e.Byte(batchVersion)
	e.Uvarint(uint64(len(cmds)))
	for i := range cmds {
		cmds[i].marshal(e)
	}
	return e.Bytes()
}

// decodeBatch is the inverse of encodeBatch. A task batch's value
// (opPutTaskBatch) is a slice of b, not a copy: the FSM keeps it as the
// batch's row, so b must never change afterwards and is kept alive as
// long as the batch is. Every log entry the FSM is given is such a
// buffer (see fsm.Apply); other values are copied, so that a table's
// small rows do not keep a whole entry alive.
func decodeBatch(b []byte) ([]command, error) {
	d := codec.NewDecoder(b)
	if v := d.Byte(); d.Err() == nil && v != batchVersion {
		return nil, fmt.Errorf("gcs: log entry version %d, want %d", v, batchVersion)
	}
	n := d.Count(minCommandSize)
	cmds := make([]command, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		cmds[i].unmarshal(d)
	}
	if err := finish(d); err != nil {
		return nil, err
	}
	return cmds, nil
}
