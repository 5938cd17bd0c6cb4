package gcs

import "fmt"

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

func (c *command) marshal(e *encoder) {
	e.byte1(byte(c.op))
	ti, _ := tableIndex(c.table) // tables are checked when the command is built
	e.byte1(ti)
	e.string(c.key)
	e.bytes(c.value)
	e.string(c.arg)
	e.varint(c.size)
}

func (c *command) unmarshal(d *decoder) {
	c.op = opcode(d.byte1())
	ti := d.byte1()
	if d.err == nil && (c.op == 0 || c.op >= opMax || int(ti) >= len(tableNames)) {
		d.fail()
		return
	}
	c.table = tableNames[ti]
	c.key = d.string()
	c.value = d.bytes()
	c.arg = d.string()
	c.size = d.varint()
}

// encodeBatch returns the raft log entry that carries cmds.
func encodeBatch(cmds []command) []byte {
	size := 8
	for i := range cmds {
		size += 16 + len(cmds[i].key) + len(cmds[i].value) + len(cmds[i].arg)
	}
	e := encoder{buf: make([]byte, 0, size)}
	e.byte1(batchVersion)
	e.uvarint(uint64(len(cmds)))
	for i := range cmds {
		cmds[i].marshal(&e)
	}
	return e.buf
}

// decodeBatch is the inverse of encodeBatch.
func decodeBatch(b []byte) ([]command, error) {
	d := decoder{buf: b}
	if v := d.byte1(); d.err == nil && v != batchVersion {
		return nil, fmt.Errorf("gcs: log entry version %d, want %d", v, batchVersion)
	}
	n := d.length()
	cmds := make([]command, n)
	for i := 0; i < n && d.err == nil; i++ {
		cmds[i].unmarshal(&d)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return cmds, nil
}
