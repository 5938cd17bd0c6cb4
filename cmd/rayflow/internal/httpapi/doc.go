// Package httpapi is the head's HTTP API (fasthttp): the cluster's status
// and job submission, for tools and scripts that do not speak the
// cluster protocol.
//
//	GET  /api/status   the same JSON as `rayflow status --json`
//	POST /api/jobs     {"source": "...", "pipeline": "main", "params": {"n": "10"}}
//	                   runs the pipeline on the cluster and answers
//	                   {"result": "...", "output": "...", "error": "..."}
//
// # Ownership and threading
//
// A Server owns its listener, its fasthttp.Server and the one goroutine
// that serves (started by Serve; Close shuts the server down and waits
// for that goroutine). Its fields are set by Serve and only read
// afterwards; it has no package-level state.
//
// fasthttp calls the handler on goroutines of its own, several at once.
// No request shares mutable state with another: a status request asks
// the head (head.FetchStatus) and writes what it got; a job request
// compiles its own Program, connects its own driver to the cluster
// (nodeagent.ConnectDriver, with an output buffer of its own), runs the
// pipeline and shuts the driver down before it answers. The cluster's
// state is the cluster's (its nodes and heads); this package only reads
// it and submits jobs, through the same paths as `rayflow run --address`.
//
// Its one consumer is `rayflow start --head --http-port`, which serves
// the API while the head runs and closes it before closing the head.
package httpapi
