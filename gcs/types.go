package gcs

import (
	"errors"
	"math"

	"github.com/rayflow/rayflow/internal/codec"
)

// Table names. Every row lives in exactly one table and is keyed by a
// string ID; the pair (table, key) picks the shard.
const (
	TableNodes    = "nodes"
	TableJobs     = "jobs"
	TablePrograms = "programs"
	TableTasks    = "tasks"
	TableObjects  = "objects"
	TableActors   = "actors"
	// TableStats holds, per program hash (and planning options), what
	// the adaptive planner measured in earlier runs (planner/adapt), so
	// that the next run starts informed.
	TableStats = "stats"
)

// tableNames lists every table, in the order snapshots write them (a
// table's index is its wire code: new tables go last).
var tableNames = []string{TableNodes, TableJobs, TablePrograms, TableTasks, TableObjects, TableActors, TableStats,
	TableAPIJobs, TableAPIJobData, TableServeApps, TableActorNames}

// Node states.
const (
	NodeAlive = "alive"
	NodeDead  = "dead"
)

// rowVersion leads every encoded row so that the format can change later
// without misreading old snapshots.
const rowVersion = 1

// NodeInfo is one node agent as the cluster sees it.
type NodeInfo struct {
	ID                 string
	Address            string
	State              string // NodeAlive or NodeDead
	Epoch              uint64 // bumped by the node on every restart
	ResourcesTotal     map[string]float64
	ResourcesAvailable map[string]float64
	LastHeartbeat      int64 // unix nanoseconds
	QueueLen           int
	Labels             map[string]string
}

// JobInfo is one submitted job.
type JobInfo struct {
	ID          string
	ProgramHash string // key into the programs table
	Pipeline    string
	State       string
	Submitted   int64 // unix nanoseconds
	Finished    int64 // unix nanoseconds; 0 while running
	Error       string
}

// PreviousResult is the ObjectID of an argument, in the record of a group
// of calls (batch, fuse: one record keyed by the group's first call, its
// Args those of every call in order), that is the result of the call just
// before in the group: a fused chain's link, kept in one byte rather than
// by the object's ID and location. Such an argument is made by the group
// itself, which recovery runs again whole, so it names no dependency
// outside the group and needs no location. No object ID is "^" (IDs are
// a job's dotted task IDs).
const PreviousResult = "^"

// previousResultArg is a TaskArg of a PreviousResult encoded: the
// ObjectID "^", no inline value, no location.
var previousResultArg = [4]byte{1, PreviousResult[0], 0, 0}

// TaskArg is one argument of a task: either a reference to an object or the
// encoded value itself when it is small. Location, when known, is the
// address of the process the object could be fetched from when the task
// was recorded.
type TaskArg struct {
	ObjectID string
	Inline   []byte
	Location string
}

// TaskRecord is the lineage of one task: enough to execute it again.
type TaskRecord struct {
	TaskID        string
	JobID         string
	ParentID      string
	Seq           uint64 // call sequence number within the parent
	Function      string
	Args          []TaskArg
	Resources     map[string]float64
	Retries       int
	Deterministic bool
	OwnerNode     string
	Outcome       []byte // the logged nondeterministic outcome, if any
	State         string
}

// ObjectInfo is where the copies of one object live.
type ObjectInfo struct {
	ID        string
	Size      int64
	Locations []string // node IDs, in the order they were added
}

// ActorInfo is one actor and the position of its method-call log.
type ActorInfo struct {
	ID          string
	JobID       string
	Class       string
	Node        string
	State       string
	Restarts    int
	MaxRestarts int
	CallLogPos  uint64 // number of method calls logged so far
	Checkpoint  string // object ID of the latest checkpoint, if any
	// A named actor (@name): its name, its namespace and its lifetime
	// ("job" or "detached"), and its handle as processes encode it (to
	// call it from another job). Empty for other actors; encoded after
	// the fields above only when Name is set, so that other rows keep
	// their bytes.
	Name      string
	Namespace string
	Lifetime  string
	Handle    []byte
}

// Rows, commands (command.go) and snapshots (fsm.go) are written with
// internal/codec: the fields in the order of the marshal methods, behind a
// version byte. Maps go in sorted key order, so one row encodes to the same
// bytes on every replica. The golden tests (golden_test.go) pin the bytes.

func (n *NodeInfo) marshal(e *codec.Encoder) {
	e.Byte(rowVersion)
	e.String(n.ID)
	e.String(n.Address)
	e.String(n.State)
	e.Uvarint(n.Epoch)
	e.FloatMap(n.ResourcesTotal)
	e.FloatMap(n.ResourcesAvailable)
	e.Varint(n.LastHeartbeat)
	e.Varint(int64(n.QueueLen))
	e.StringMap(n.Labels)
}

func (n *NodeInfo) unmarshal(d *codec.Decoder) {
	checkVersion(d)
	n.ID = d.String()
	n.Address = d.String()
	n.State = d.String()
	n.Epoch = d.Uvarint()
	n.ResourcesTotal = d.FloatMap()
	n.ResourcesAvailable = d.FloatMap()
	n.LastHeartbeat = d.Varint()
	n.QueueLen = int(d.Varint())
	n.Labels = d.StringMap()
}

func (j *JobInfo) marshal(e *codec.Encoder) {
	e.Byte(rowVersion)
	e.String(j.ID)
	e.String(j.ProgramHash)
	e.String(j.Pipeline)
	e.String(j.State)
	e.Varint(j.Submitted)
	e.Varint(j.Finished)
	e.String(j.Error)
}

func (j *JobInfo) unmarshal(d *codec.Decoder) {
	checkVersion(d)
	j.ID = d.String()
	j.ProgramHash = d.String()
	j.Pipeline = d.String()
	j.State = d.String()
	j.Submitted = d.Varint()
	j.Finished = d.Varint()
	j.Error = d.String()
}

// taskRowVersion is the format of task rows: version 2 added argument
// locations; version 1 rows still read.
const taskRowVersion = 2

func (t *TaskRecord) marshal(e *codec.Encoder) {
	e.Byte(taskRowVersion)
	t.EncodeFields(e)
}

// rowSizeHint is about the size of the record's encoded row (a hint for
// sizing buffers; encoding never depends on it).
func (t *TaskRecord) rowSizeHint() int {
	n := 24 + len(t.TaskID) + len(t.JobID) + len(t.ParentID) + len(t.Function) + len(t.OwnerNode) + len(t.Outcome) + len(t.State)
	for _, a := range t.Args {
		n += 6 + len(a.ObjectID) + len(a.Inline) + len(a.Location)
	}
	for k := range t.Resources {
		n += 10 + len(k)
	}
	return n
}

// EncodeFields writes the record's fields without a version: the body of
// a task row, and of a record in a lineage stash bundle (package stash),
// which carries its own version.
func (t *TaskRecord) EncodeFields(e *codec.Encoder) {
	t.encodeHead(e)
	e.Uvarint(uint64(len(t.Args)))
	for _, a := range t.Args {
		if a.ObjectID == PreviousResult && a.Inline == nil && a.Location == "" {
			e.Raw(previousResultArg[:]) // a chain's link: the same bytes, written at once
			continue
		}
		e.String(a.ObjectID)
		e.Blob(a.Inline)
		e.String(a.Location)
	}
	t.encodeTail(e)
}

// EncodeFieldsArgs writes what EncodeFields writes for t with the nargs
// arguments args writes through w, in order (t.Args is ignored), without
// building them first, as TaskBatch.AddArgs writes a row. Arguments args
// leaves unwritten are written empty; writing more than nargs panics.
func (t *TaskRecord) EncodeFieldsArgs(e *codec.Encoder, nargs int, args func(w *ArgWriter)) {
	t.encodeHead(e)
	e.Uvarint(uint64(nargs))
	w := ArgWriter{e: e, left: nargs}
	args(&w)
	for w.left > 0 {
		w.Missing()
	}
	t.encodeTail(e)
}

// encodeHead writes the fields before the arguments.
func (t *TaskRecord) encodeHead(e *codec.Encoder) {
	e.String(t.TaskID)
	e.String(t.JobID)
	e.String(t.ParentID)
	e.Uvarint(t.Seq)
	e.String(t.Function)
}

// encodeTail writes the fields after the arguments.
func (t *TaskRecord) encodeTail(e *codec.Encoder) {
	e.FloatMap(t.Resources)
	e.Varint(int64(max(math.MinInt32, min(t.Retries, math.MaxInt32))))
	e.Bool(t.Deterministic)
	e.String(t.OwnerNode)
	e.Blob(t.Outcome)
	e.String(t.State)
}

func (t *TaskRecord) unmarshal(d *codec.Decoder) {
	version := d.Byte()
	if version != rowVersion && version != taskRowVersion {
		d.Fail("unknown task row version")
	}
	t.decodeFields(d, version >= 2)
}

// DecodeFields reads what EncodeFields wrote.
func (t *TaskRecord) DecodeFields(d *codec.Decoder) { t.decodeFields(d, true) }

// decodeFields reads a record's fields; rows of version 1 have no
// argument locations.
func (t *TaskRecord) decodeFields(d *codec.Decoder, withLocations bool) {
	t.TaskID = d.String()
	t.JobID = d.String()
	t.ParentID = d.String()
	t.Seq = d.Uvarint()
	t.Function = d.String()
	minArg := 2 // the least bytes of an argument: two empty lengths
	if withLocations {
		minArg = 3
	}
	if n := d.Count(minArg); n > 0 {
		t.Args = make([]TaskArg, 0, n)
		for i := 0; i < n && d.Err() == nil; i++ {
			a := TaskArg{ObjectID: d.String(), Inline: d.BlobCopy()}
			if withLocations {
				a.Location = d.String()
			}
			t.Args = append(t.Args, a)
		}
	}
	t.Resources = d.FloatMap()
	if r := d.Varint(); r < math.MinInt32 || r > math.MaxInt32 {
		d.Fail("retries out of range")
	} else {
		t.Retries = int(r)
	}
	t.Deterministic = d.Bool()
	t.OwnerNode = d.String()
	t.Outcome = d.BlobCopy()
	t.State = d.String()
}

func (o *ObjectInfo) marshal(e *codec.Encoder) {
	e.Byte(rowVersion)
	e.String(o.ID)
	e.Varint(o.Size)
	e.Strings(o.Locations)
}

func (o *ObjectInfo) unmarshal(d *codec.Decoder) {
	checkVersion(d)
	o.ID = d.String()
	o.Size = d.Varint()
	o.Locations = d.Strings()
}

func (a *ActorInfo) marshal(e *codec.Encoder) {
	e.Byte(rowVersion)
	e.String(a.ID)
	e.String(a.JobID)
	e.String(a.Class)
	e.String(a.Node)
	e.String(a.State)
	e.Varint(int64(a.Restarts))
	e.Varint(int64(a.MaxRestarts))
	e.Uvarint(a.CallLogPos)
	e.String(a.Checkpoint)
	if a.Name != "" {
		e.String(a.Name)
		e.String(a.Namespace)
		e.String(a.Lifetime)
		e.Blob(a.Handle)
	}
}

func (a *ActorInfo) unmarshal(d *codec.Decoder) {
	checkVersion(d)
	a.ID = d.String()
	a.JobID = d.String()
	a.Class = d.String()
	a.Node = d.String()
	a.State = d.String()
	a.Restarts = int(d.Varint())
	a.MaxRestarts = int(d.Varint())
	a.CallLogPos = d.Uvarint()
	a.Checkpoint = d.String()
	if d.Remaining() > 0 {
		a.Name = d.String()
		a.Namespace = d.String()
		a.Lifetime = d.String()
		a.Handle = d.BlobCopy()
	}
}

func checkVersion(d *codec.Decoder) {
	if v := d.Byte(); v != rowVersion {
		d.Fail("unknown row version")
	}
}

// row is implemented by pointers to the row types.
type row interface {
	marshal(*codec.Encoder)
	unmarshal(*codec.Decoder)
}

// encodeRow returns the stored form of a row.
func encodeRow(r row) []byte {
	e := codec.NewEncoder(make([]byte, 0, 64))
	r.marshal(e)
	return e.Bytes()
}

// decodeRow fills r from its stored form.
func decodeRow(b []byte, r row) error {
	d := codec.NewDecoder(b)
	r.unmarshal(d)
	return finish(d)
}

// errCorrupt reports an encoded row, command or snapshot that cannot be
// decoded.
var errCorrupt = errors.New("gcs: corrupt encoding")

// finish reports errCorrupt when d failed or left bytes over.
func finish(d *codec.Decoder) error {
	if d.Finish() != nil {
		return errCorrupt
	}
	return nil
}

// decodeTableRow decodes a stored row of the named table into its typed
// value (NodeInfo, JobInfo, ...). Programs decode to their source bytes.
func decodeTableRow(table string, b []byte) (any, error) {
	switch table {
	case TableNodes:
		var v NodeInfo
		err := decodeRow(b, &v)
		return v, err
	case TableJobs:
		var v JobInfo
		err := decodeRow(b, &v)
		return v, err
	case TableTasks:
		var v TaskRecord
		err := decodeRow(b, &v)
		return v, err
	case TableObjects:
		var v ObjectInfo
		err := decodeRow(b, &v)
		return v, err
	case TableActors:
		var v ActorInfo
		err := decodeRow(b, &v)
		return v, err
	case TableAPIJobs:
		var v APIJob
		err := decodeRow(b, &v)
		return v, err
	case TableServeApps:
		var v ServeApp
		err := decodeRow(b, &v)
		return v, err
	case TableActorNames:
		var v ActorName
		err := decodeRow(b, &v)
		return v, err
	case TablePrograms, TableAPIJobData:
		return append([]byte(nil), b...), nil
	}
	return nil, errCorrupt
}

// MarshalBinary encodes the record in the GCS's row format, for carrying
// task records between processes.
func (t *TaskRecord) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, t.rowSizeHint())), nil
}

// AppendBinary appends what MarshalBinary returns to dst.
func (t *TaskRecord) AppendBinary(dst []byte) []byte {
	e := codec.NewEncoder(dst)
	t.marshal(e)
	return e.Bytes()
}

// BinarySizeHint is about the size of what MarshalBinary returns (for
// sizing buffers; encoding never depends on it).
func (t *TaskRecord) BinarySizeHint() int { return t.rowSizeHint() }

// UnmarshalBinary decodes a record written by MarshalBinary.
func (t *TaskRecord) UnmarshalBinary(data []byte) error {
	d := codec.NewDecoder(data)
	t.unmarshal(d)
	return finish(d)
}
