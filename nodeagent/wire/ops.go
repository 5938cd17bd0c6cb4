package wire

// GCS request operations: the first byte of a GCSRequest payload.
const (
	GCSRegister byte = iota + 1
	GCSLeave
	GCSNodes
	GCSPutProgram
	GCSGetProgram
	GCSStatus
	GCSJoin
	GCSHeads
	GCSNodeStates
	GCSPutTasks
	GCSGetTask
	GCSDeleteJobTasks // a finished job's rows of the tasks table (heads)
	GCSPutStats       // (key, blob): the adaptive planner's statistics of a program
	GCSGetStats       // (key): those statistics, or an empty reply
	// The applications of rayflow serve (gcs.TableServeApps; the head's
	// serveapps.go): GCSServeApps () lists them (name, version, record,
	// ...), linearizably, or as the head has applied them with the one
	// argument ServeAppsApplied; GCSPutServeApp (name, version, record, previous version)
	// writes one if it is still at the previous version, replying 1, or
	// 0 when it is not; GCSDeleteServeApp (name) removes one.
	GCSServeApps
	GCSPutServeApp
	GCSDeleteServeApp
	// GCSView () is the global scheduler's view of the alive nodes
	// (wire.ViewNode rows): the local view a process places plain tasks
	// on without asking a head each time (bottom-up scheduling).
	GCSView
	// GCSDeleteTasks (task IDs) removes the rows of tasks whose results
	// their owner released (nodeagent/owner's release.go).
	GCSDeleteTasks
	// GCSPutTaskBatch (a gcs.TaskBatch) writes a lineage stash's batch of
	// records, as encoded by the stash: the head stores it as one row of
	// the tasks table without decoding it (gcs.Store.PutTaskBatch).
	GCSPutTaskBatch
)

// Questions one process asks another (transport.Query). The payload is
// an op byte and its arguments; the reply is the answer.
const (
	// QueryActorWhere (id, dead address, incarnation) asks an actor's
	// creator where the actor lives now: (address, incarnation, why it
	// is gone or "").
	QueryActorWhere byte = 1
	// QueryLineage (ids...) asks a process for the uncommitted lineage
	// its stash holds of some tasks, and the places in an actor's order
	// of the calls it made (owner.OrderLog): a stash bundle with their
	// records and outcomes.
	QueryLineage byte = 2
	// QueryRelease (job IDs) says the jobs are over: the process drops
	// what it keeps for them (net_release.go).
	QueryRelease byte = 3
	// QueryReleaseObjects (object IDs) says the objects' owner fetched
	// their values and gave no one else a reference: the process that
	// holds them drops them (nodeagent's net_release.go).
	QueryReleaseObjects byte = 7
	// QueryJobAlive (job IDs, "", program hashes, "", driver address)
	// tells a head that the jobs' driver is alive: it renews their leases
	// (nodeagent's net_jobs.go). The reply lists those of the jobs the
	// head has ended already (empty: none).
	QueryJobAlive byte = 4
	// QueryNamedActor (op, arguments) is about named actors
	// (nodeagent's named_net.go): a head registers, looks up, forgets
	// and creates (detached) named actors; any process kills an actor it
	// hosts.
	QueryNamedActor byte = 5
	// QueryDialable (address) asks a head whether the address is one the
	// processes of the cluster may dial: a member's, or a driver's that
	// holds a job lease (nodeagent's dialpolicy.go). The reply is one
	// byte, 1 for yes.
	QueryDialable byte = 6
	// QueryWorkDir (job ID) asks a driver for the content hash of the
	// working directory it shared for a job: (hash), "" when it shared
	// none (nodeagent/workdir.go).
	QueryWorkDir byte = 20
	// QueryWorkDirArchive (hash) asks a driver for the archive of a
	// working directory it shared, by its hash: a stream reply.
	QueryWorkDirArchive byte = 21
)

// ServeAppsApplied is GCSServeApps's argument for a read of the head's
// applied state (no raft barrier): the ingresses' polls.
const ServeAppsApplied = "applied"
