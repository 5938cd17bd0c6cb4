package main

import (
	"fmt"
	"io"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/repl"
	"github.com/spf13/pflag"
)

// replFlags are the flags of `rayflow repl`.
type replFlags struct {
	address string
	cpus    int
}

func (f *replFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("repl")
	fs.StringVar(&f.address, "address", "", "a session on the cluster at `ADDR` (not available yet in this version)")
	fs.Var(newCount(&f.cpus, 0), "cpus", "CPUs of the session's embedded cluster (default: this machine's)")
	return fs
}

func cmdRepl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f replFlags
	fs := f.flagSet()
	if _, err := parseCommand(fs, args, noArgs); err != nil {
		return usageExit("repl", err, stdout, stderr)
	}
	if fs.Changed("address") {
		fmt.Fprintln(stderr, "error: --address (a session on a cluster) is not available yet in this version")
		return exitUsage
	}
	return repl.Run(repl.Options{CPUs: f.cpus, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
