package main

import (
	"io"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/repl"
)

func cmdRepl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args, flagSpec{"address": true, "cpus": true}, false)
	if err != nil {
		io.WriteString(stderr, "error: "+err.Error()+"\n")
		return exitUsage
	}
	cpus, _ := inv.intFlag("cpus")
	return repl.Run(repl.Options{CPUs: cpus, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
