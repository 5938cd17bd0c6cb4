// Package rayflow is the embedding API: compile a rayflow program from
// source, run one of its pipelines on an embedded cluster, and get the
// result back. The command line (cmd/rayflow) is built on it.
//
//	prog, err := rayflow.Compile("job.rayflow", src, nil)
//	result, err := prog.Run(ctx, rayflow.RunOptions{Params: map[string]string{"n": "10"}})
//
// A program that calls Go functions (Options.Builtins, Options.Tasks)
// runs its tasks on the nodes of a networked cluster too, when each
// node's process registers the same functions: pass HostModules(opts) as
// its nodeagent.Config.Modules. A node without them fails such a task
// with an error that names the missing function and the node.
//
// # Ownership and threading
//
// The package's only mutable state is jobSeq, the counter that names
// runs without a JobID ("job1", "job2", ...); it is atomic, so any
// goroutine may call Run and RunValues. Version is set at build time and
// only read.
//
// A Program is what Compile (through package frontend) made: the
// package never changes it afterwards, and Run and RunValues only read
// it, loading it afresh (exec.Load) on a new exec.Thread for every run;
// so one Program may run on several goroutines at once. The modules
// HostModules builds (a map of the Go functions in opts) are read-only
// once built and are shared by every run of the program. The cluster a
// run starts is the run's: Run shuts it down when it returns. A cluster
// given in RunOptions.Cluster is the caller's; Run and RunValues start a
// job on it and leave it running.
//
// The Go values an embedding program passes in (Options, the maps of
// RunOptions) must not be changed while Compile or a run uses them.
//
// Consumers: cmd/rayflow (run, plan), its REPL and HTTP API, and Go
// programs that embed rayflow (examples/embed). The package sits at the
// source end of the data flow: it calls frontend, exec and nodeagent,
// and none of them imports it.
package rayflow
