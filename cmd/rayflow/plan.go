package main

import (
	"fmt"
	"io"

	"github.com/rayflow/rayflow/planner"
)

func cmdPlan(args []string, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args, flagSpec{"dot": false, "p": true}, true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	prog, code := load(inv.file, stderr)
	if prog == nil {
		return code
	}
	g := planner.Build(prog.Compiled)
	if inv.flags["dot"] == "true" {
		fmt.Fprint(stdout, g.Dot())
	} else {
		fmt.Fprint(stdout, g.Text())
	}
	return exitOK
}
