// Package httpapi is the head's HTTP API (fasthttp): the cluster's status
// and the Jobs API (the shapes of Ray's), for tools and scripts that do
// not speak the cluster protocol. Every route is behind the guard
// (guard.go): the cluster token, JSON bodies, Host and Origin checks.
//
//	GET    /api/status               the same JSON as `rayflow status --json`
//	GET    /api/version              {"version": "<rayflow version>", "api": "1"}
//	POST   /api/jobs/                {"source", "file", "pipeline", "params", "submission_id", "metadata", "opt"}
//	                                 → {"job_id", "submission_id"} at once
//	GET    /api/jobs/                a list of jobs (JobInfo)
//	GET    /api/jobs/{id}            one job: {"job_id", "submission_id", "status", "message",
//	                                 "start_time", "end_time", "result", "metadata", "driver_node_id"}
//	GET    /api/jobs/{id}/logs       {"logs": "..."}
//	GET    /api/jobs/{id}/logs/tail  the log as it grows (chunked text), until the job ends
//	POST   /api/jobs/{id}/stop       {"stopped": true|false}
//	DELETE /api/jobs/{id}            {"deleted": true} (an ended job only)
//	POST   /api/jobs                 308 to /api/jobs/ (the synchronous API of before)
//	GET    /api/v0/tasks|tasks/summary|actors|objects|nodes|jobs|timeline
//	                                 the state API (state.go, spec/state.md)
//
// {id} is a job ID or a submission ID.
//
// # Ownership and threading
//
// A Server owns its listener, its fasthttp.Server, the one goroutine
// that serves (started by Serve), its jobs table and one supervisor
// goroutine per job that has not ended. Close stops every running job
// (cancelling its context), waits a bounded time for the supervisors,
// then shuts the server down and waits for the serving goroutine. It
// has no package-level state.
//
// fasthttp calls the handler on goroutines of its own, several at once.
// Handlers only read and change the jobs table under its lock (jobTable)
// and never wait for a job: a submission registers the job and starts its
// supervisor (jobs.go: supervise), which compiles the program, connects a
// driver of its own to the cluster (nodeagent.ConnectDriver, with the
// head's token and TLS), runs the pipeline in an empty working directory
// of its own with the job's context, and writes the job's end into its
// record under the lock. Its output goes to the job's log (joblog.go: a
// jobLog, locked by itself, the first 1 MiB kept with a truncation
// marker), which logs and tails read. A job's record is written only by
// its supervisor once submitted, except the stop request (stopJob), which
// marks it stopping and cancels its context: Program.Run then cancels the
// job's driver thread and shuts the driver down, which ends the job's
// tasks and actors on every node.
//
// Jobs are kept in memory only (at most maxEndedJobs ended ones): they
// do not survive the head's restart.
//
// Its one consumer is `rayflow start --head --http-port`, which serves
// the API while the head runs and closes it before closing the head.
package httpapi
