// Command rayflow runs rayflow programs: `rayflow run FILE` on an
// embedded cluster, `check` and `plan` to inspect them, `repl` to explore,
// `start` and `status` for a cluster of processes. commands.go lists the
// commands; each parses its flags with its own pflag.FlagSet.
// Exit codes: 0 success, 1 the program failed, 2 usage error, 130
// interrupted.
//
// # Ownership and threading
//
// The command holds no state between commands: runMain parses one
// command's flags into a fresh flag struct and calls the packages that do
// the work (rayflow, planner, nodeagent and nodeagent/head, and its own
// internal/repl, internal/httpapi, internal/tty). Its only package-level
// variable, embeddedOnly (the flags `run --address` refuses), is only
// read. Each command runs on the goroutine that called runMain, which
// recovers a panic there; tests call runMain in-process, one command per
// call.
//
// What a command starts, it owns and stops before it returns: the
// embedded cluster of `run` (through rayflow.Program.Run), the driver of
// `run --address`, the head or node of `start`, the HTTP API of
// `start --http-port`, and the signal contexts (SIGINT, SIGTERM) that
// interrupt them.
//
// One type holds shared state: progress, the status line `run` draws on
// a terminal. Its mutex guards its writers and whether the line is shown;
// program output (printed from the cluster's goroutines) and its redraw
// goroutine (started by watch, stopped by done, reading the cluster's
// atomic Stats) both take it, so output and the line never mix.
//
// Logic that belongs in a package stays out of this one (DESIGN.md):
// nothing imports a main package.
package main
