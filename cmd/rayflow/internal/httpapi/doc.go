// Package httpapi is the head's HTTP API (fasthttp): the cluster's status
// and the Jobs API (the shapes of Ray's), for tools and scripts that do
// not speak the cluster protocol, and the dashboard, a page that shows
// them to a person. Every route is behind the guard (guard.go): the
// cluster token, JSON bodies, Host and Origin checks.
//
//	GET    /                         the dashboard (dashboard.go: HTML, CSS and JS embedded
//	                                 with go:embed; GET /dashboard/app.js, /dashboard/style.css);
//	                                 without the login, a login page (401)
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
// # Where jobs live
//
// Every job's record (what GET shows, and what it takes to run the job
// again: file, pipeline, params, opt, the supervising head, the attempt,
// a stop request), its source and its log are kept in the GCS (the
// tables of gcs/apijobs.go), so every head lists, shows, stops and
// deletes every job, and a job's history lives as long as the GCS does
// (a head's --data-dir). A job's supervisor writes its record once per
// change of state (PENDING, RUNNING, its end), each write conditional on
// the supervisor and attempt it holds; its log goes to the GCS in
// chunks, every logFlushEvery, off the job's path, and all of it before
// the record of its end. Reads of records are linearizable: a head shows
// what any head wrote before.
//
// Each head's watcher (jobs_watch.go) follows the jobs table: it stops
// the jobs it supervises whose record asks for a stop, and takes over a
// job that has not ended whose supervisor is dead (or is this head
// before its restart): a conditional claim, then the job's run again
// from its start under a supervisor here, with a note of the restart in
// its message and log; its driver reuses the results of the earlier runs
// that the cluster still holds (nodeagent's reuse.go), and the message
// says how many.
//
// # Ownership and threading
//
// A Server owns its listener, its fasthttp.Server, the one goroutine
// that serves (started by Serve), the watcher goroutine (jobs_watch.go),
// its jobTable of the jobs its own supervisors run, and one supervisor
// goroutine per such job (with a log flusher goroutine each). Close
// stops every job it supervises (cancelling its context), waits a
// bounded time for the supervisors, then shuts the server down and waits
// for the serving and watching goroutines. It has no package-level
// state.
//
// fasthttp calls the handler on goroutines of its own, several at once.
// Handlers read and write the GCS, and the jobTable under its lock, and
// never wait for a job: a submission stores the job's source and record
// and starts its supervisor (jobs_supervise.go: supervise), which
// compiles the program, connects a driver of its own to the cluster
// (nodeagent.ConnectDriver, with the head's token and TLS), runs the
// pipeline in an empty working directory of its own with the job's
// context, and writes the job's end into its record. Its output goes to
// the job's log (joblog.go: a jobLog, locked by itself, the first 1 MiB
// kept with a truncation marker), which the logs and tails of this head
// read; other heads read the chunks in the GCS (storedLog). A stop on
// the supervising head cancels the job's context; a stop on another head
// sets the record's stop request, which the supervising head's watcher
// sees (gcs Subscribe) and turns into the same cancel: Program.Run then
// cancels the job's driver thread and shuts the driver down, which ends
// the job's tasks and actors on every node.
//
// The dashboard's files are embedded, read-only and served as they are;
// the page holds no state on the server: it polls the routes above from
// the browser, which renders what they answer as text (app.js never
// parses data as HTML).
//
// The cluster keeps at most maxEndedJobs ended jobs: the supervisor of a
// job that ends deletes the oldest ended ones past it.
//
// Its one consumer is `rayflow start --head --http-port`, which serves
// the API while the head runs and closes it before closing the head.
package httpapi
