// Command rayflow runs rayflow programs: `rayflow run FILE` on an
// embedded cluster, `check` and `plan` to inspect them, `repl` to explore.
// Exit codes: 0 success, 1 the program failed, 2 usage error, 130
// interrupted.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/rayflow/rayflow"
)

const usage = `rayflow — tasks, actors and pipelines, from a laptop to a cluster

usage:
  rayflow run FILE [-p PIPELINE] [--cpus N] [--nodes N] [--max-steps N] [NAME=VALUE ...]
  rayflow check FILE               parse and compile only
  rayflow plan FILE [--dot]        the planned task graph
  rayflow repl                     an interactive session
  rayflow version

Flags may stand before or after FILE; NAME=VALUE words are pipeline parameters.
`

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain runs one command; it never lets a Go panic reach the user.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "error: internal error: %v\n", r)
			fmt.Fprintf(stderr, "This is a bug in rayflow %s. Please report it with the program and command that caused it, and this trace:\n%s",
				rayflow.Version, firstLines(string(debug.Stack()), 12))
			code = exitFailed
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "plan":
		return cmdPlan(rest, stdout, stderr)
	case "repl":
		return cmdRepl(rest, stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "rayflow %s\n", rayflow.Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "start":
		return cmdStart(rest, stdout, stderr)
	case "status":
		return cmdStatus(rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "error: unknown command '%s'\n\n%s", cmd, usage)
	return exitUsage
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}
