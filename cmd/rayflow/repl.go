package main

import (
	"fmt"
	"io"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/repl"
)

func cmdRepl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args, flagSpec{"address": true, "cpus": true}, false)
	if err == nil && inv.file != "" {
		err = fmt.Errorf("unexpected argument '%s'; usage: rayflow repl [--cpus N]", inv.file)
	}
	if err == nil && len(inv.params) > 0 {
		err = fmt.Errorf("unexpected NAME=VALUE arguments; usage: rayflow repl [--cpus N]")
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	if _, remote := inv.flags["address"]; remote {
		fmt.Fprintln(stderr, "error: --address (a session on a cluster) is not available yet in this version")
		return exitUsage
	}
	cpus, err := inv.intFlag("cpus")
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	return repl.Run(repl.Options{CPUs: cpus, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
