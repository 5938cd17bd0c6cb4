package wire

// The queries of a job's re-run that reuses the results of its earlier
// runs (nodeagent/reuse.go). Their values are far from the other
// queries' so that a query added elsewhere does not take them.
const (
	// QueryHeld (job IDs) asks a process which results of the jobs'
	// tasks it holds, ready and without error: the reply is their IDs
	// and encoded sizes (in decimal), in pairs, as strings.
	QueryHeld byte = 50
	// QueryAdopt (old ID, new ID) asks a process to serve a result it
	// holds under the new ID instead of the old one (a re-run's task of
	// that ID takes it); an error when it does not hold it.
	QueryAdopt byte = 51
	// QueryReleaseKeep (job IDs) is QueryRelease for jobs that will be
	// run again: the process drops everything but the results it serves.
	QueryReleaseKeep byte = 52
)
