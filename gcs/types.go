package gcs

// Table names. Every row lives in exactly one table and is keyed by a
// string ID; the pair (table, key) picks the shard.
const (
	TableNodes    = "nodes"
	TableJobs     = "jobs"
	TablePrograms = "programs"
	TableTasks    = "tasks"
	TableObjects  = "objects"
	TableActors   = "actors"
)

// tableNames lists every table, in the order snapshots write them.
var tableNames = []string{TableNodes, TableJobs, TablePrograms, TableTasks, TableObjects, TableActors}

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
}

func (n *NodeInfo) marshal(e *encoder) {
	e.byte1(rowVersion)
	e.string(n.ID)
	e.string(n.Address)
	e.string(n.State)
	e.uvarint(n.Epoch)
	e.floatMap(n.ResourcesTotal)
	e.floatMap(n.ResourcesAvailable)
	e.varint(n.LastHeartbeat)
	e.varint(int64(n.QueueLen))
	e.stringMap(n.Labels)
}

func (n *NodeInfo) unmarshal(d *decoder) {
	checkVersion(d)
	n.ID = d.string()
	n.Address = d.string()
	n.State = d.string()
	n.Epoch = d.uvarint()
	n.ResourcesTotal = d.floatMap()
	n.ResourcesAvailable = d.floatMap()
	n.LastHeartbeat = d.varint()
	n.QueueLen = int(d.varint())
	n.Labels = d.stringMap()
}

func (j *JobInfo) marshal(e *encoder) {
	e.byte1(rowVersion)
	e.string(j.ID)
	e.string(j.ProgramHash)
	e.string(j.Pipeline)
	e.string(j.State)
	e.varint(j.Submitted)
	e.varint(j.Finished)
	e.string(j.Error)
}

func (j *JobInfo) unmarshal(d *decoder) {
	checkVersion(d)
	j.ID = d.string()
	j.ProgramHash = d.string()
	j.Pipeline = d.string()
	j.State = d.string()
	j.Submitted = d.varint()
	j.Finished = d.varint()
	j.Error = d.string()
}

// taskRowVersion is the format of task rows: version 2 added argument
// locations; version 1 rows still read.
const taskRowVersion = 2

func (t *TaskRecord) marshal(e *encoder) {
	e.byte1(taskRowVersion)
	e.string(t.TaskID)
	e.string(t.JobID)
	e.string(t.ParentID)
	e.uvarint(t.Seq)
	e.string(t.Function)
	e.uvarint(uint64(len(t.Args)))
	for _, a := range t.Args {
		e.string(a.ObjectID)
		e.bytes(a.Inline)
		e.string(a.Location)
	}
	e.floatMap(t.Resources)
	e.varint(int64(t.Retries))
	e.bool(t.Deterministic)
	e.string(t.OwnerNode)
	e.bytes(t.Outcome)
	e.string(t.State)
}

func (t *TaskRecord) unmarshal(d *decoder) {
	version := d.byte1()
	if version != rowVersion && version != taskRowVersion && d.err == nil {
		d.fail()
	}
	t.TaskID = d.string()
	t.JobID = d.string()
	t.ParentID = d.string()
	t.Seq = d.uvarint()
	t.Function = d.string()
	if n := d.length(); n > 0 {
		t.Args = make([]TaskArg, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			a := TaskArg{ObjectID: d.string(), Inline: d.bytes()}
			if version >= 2 {
				a.Location = d.string()
			}
			t.Args = append(t.Args, a)
		}
	}
	t.Resources = d.floatMap()
	t.Retries = int(d.varint())
	t.Deterministic = d.bool()
	t.OwnerNode = d.string()
	t.Outcome = d.bytes()
	t.State = d.string()
}

func (o *ObjectInfo) marshal(e *encoder) {
	e.byte1(rowVersion)
	e.string(o.ID)
	e.varint(o.Size)
	e.strings(o.Locations)
}

func (o *ObjectInfo) unmarshal(d *decoder) {
	checkVersion(d)
	o.ID = d.string()
	o.Size = d.varint()
	o.Locations = d.strings()
}

func (a *ActorInfo) marshal(e *encoder) {
	e.byte1(rowVersion)
	e.string(a.ID)
	e.string(a.JobID)
	e.string(a.Class)
	e.string(a.Node)
	e.string(a.State)
	e.varint(int64(a.Restarts))
	e.varint(int64(a.MaxRestarts))
	e.uvarint(a.CallLogPos)
	e.string(a.Checkpoint)
}

func (a *ActorInfo) unmarshal(d *decoder) {
	checkVersion(d)
	a.ID = d.string()
	a.JobID = d.string()
	a.Class = d.string()
	a.Node = d.string()
	a.State = d.string()
	a.Restarts = int(d.varint())
	a.MaxRestarts = int(d.varint())
	a.CallLogPos = d.uvarint()
	a.Checkpoint = d.string()
}

func checkVersion(d *decoder) {
	if v := d.byte1(); v != rowVersion && d.err == nil {
		d.fail()
	}
}

// row is implemented by pointers to the row types.
type row interface {
	marshal(*encoder)
	unmarshal(*decoder)
}

// encodeRow returns the stored form of a row.
func encodeRow(r row) []byte {
	e := encoder{buf: make([]byte, 0, 64)}
	r.marshal(&e)
	return e.buf
}

// decodeRow fills r from its stored form.
func decodeRow(b []byte, r row) error {
	d := decoder{buf: b}
	r.unmarshal(&d)
	return d.finish()
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
	case TablePrograms:
		return append([]byte(nil), b...), nil
	}
	return nil, errCorrupt
}

// MarshalBinary encodes the record in the GCS's row format, for carrying
// task records between processes.
func (t *TaskRecord) MarshalBinary() ([]byte, error) {
	e := &encoder{}
	t.marshal(e)
	return e.buf, nil
}

// UnmarshalBinary decodes a record written by MarshalBinary.
func (t *TaskRecord) UnmarshalBinary(data []byte) error {
	d := &decoder{buf: data}
	t.unmarshal(d)
	if d.err == nil && len(d.buf) != 0 {
		return errCorrupt
	}
	return d.err
}
