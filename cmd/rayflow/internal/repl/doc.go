// Package repl is rayflow's interactive session (`rayflow repl`): type
// declarations and statements, see values, keep variables, futures and
// actors between inputs. On a terminal it edits lines and keeps history
// (github.com/peterh/liner); otherwise it reads plain lines, without
// prompts, so that it can be driven through a pipe.
//
// # Ownership and threading
//
// A Session owns the declarations typed so far (as source text, parsed
// again for every input, so that no AST is shared with code still
// running), the variables (a map from name to value, and their order) and
// its cluster, which :reset replaces and Close shuts down: an embedded
// one (nodeagent.NewCluster), or, for `rayflow repl --address`, a driver
// on a running cluster (nodeagent.ConnectDriverAt), whose nodes compile
// the declarations typed so far (shippedSource) to run its tasks and
// actors; the session maps positions in that text back to the inputs
// (Session.shipped) when it reports an error raised there. An interrupted input ends its job, which stops the
// tasks and actors it started there (rayflow's RunValues). Only the cluster pointer is locked (Session.mu), since
// Close may come from another goroutine; the rest is used by one
// goroutine at a time, the one that calls Eval (Run's loop). Every input
// compiles a fresh program (rayflow.CompileFile) and runs it on the
// session's cluster (Program.RunValues), so tasks and actors an input
// started may go on running, and printing, while later inputs are typed.
// Each runs planned as `rayflow run` runs a file (the default options);
// the session keeps what it said of the planner's decisions
// (Session.hints: refused hints warned about once per session, the last
// input's explanation for :explain).
//
// Run adds the goroutines around a session: the reader goroutine of a
// plain (piped) input, which hands lines over a channel until the input
// ends or the reader is closed; one goroutine per input that turns an
// interrupt signal into the cancellation of that input's context; and,
// on a terminal, one that on SIGTERM or SIGHUP gives the terminal back,
// closes the session and exits the process (the one call of a Session
// from another goroutine: it may run while Eval does, which is why the
// cluster pointer is behind Session.mu). The session's output and
// error writers share one mutex (syncWriter), so the session's messages
// and the program output of its tasks never interleave within a write.
//
// The package-level variables are sentinel errors, a reflect.Type and
// compiled regular expressions, set at init and only read.
//
// Its one consumer is cmd/rayflow (`rayflow repl`); the package calls
// rayflow, compiler, exec, lang, nodeagent and planner (:plan, :explain), and none
// of them imports it.
package repl
