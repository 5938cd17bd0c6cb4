package wire

// The queries of task events (nodeagent/events.go, package taskevents).
// Their values are far from the other queries' so that a query added
// elsewhere does not take them.
const (
	// QueryTimeline (job IDs) asks a head for the runs of the jobs' tasks
	// and method calls, once the live processes have reported them: a
	// JSON array of taskevents.Run.
	QueryTimeline byte = 40
	// QueryReportEvents (taskevents.Encode: events, drops by job) reports
	// a process's new events to a head. No reply.
	QueryReportEvents byte = 41
	// QueryFlushEvents () asks a process to report its events to the
	// heads now; the reply (empty) comes once it has.
	QueryFlushEvents byte = 42
	// QueryState (a JSON question: what, job, state, limit) asks a head a
	// question of the state API; the reply is the answer's JSON.
	QueryState byte = 43
	// QueryObjects (job ID) asks a node for the large objects of a job it
	// keeps: a JSON array.
	QueryObjects byte = 44
)
