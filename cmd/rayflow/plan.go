package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/planner"
)

// cmdPlan prints the planned task graph:
//
//	rayflow plan FILE [-p PIPELINE] [--dot] [--unroll N] [NAME=VALUE ...]
//
// Without -p every pipeline is planned. NAME=VALUE replaces a parameter's
// default for the plan (loops over range(NAME) unroll to the given value).
func cmdPlan(args []string, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args, flagSpec{"dot": false, "p": true, "unroll": true}, true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	unroll, err := inv.intFlag("unroll")
	if err == nil && unroll == 0 && inv.flags["unroll"] != "" {
		err = fmt.Errorf("--unroll needs at least 1")
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	prog, code := load(inv.file, stderr)
	if prog == nil {
		return code
	}
	if err := checkPlanParams(prog, inv.flags["p"], inv.params); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	g, err := planner.Plan(prog.Compiled, planner.Options{Pipeline: inv.flags["p"], Unroll: unroll, Params: inv.params})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	if inv.flags["dot"] == "true" {
		fmt.Fprint(stdout, g.Dot())
	} else {
		fmt.Fprint(stdout, g.Text())
	}
	return exitOK
}

// checkPlanParams checks NAME=VALUE words as `run` does: each must name a
// parameter of a planned pipeline and parse as its declared type.
func checkPlanParams(prog *rayflow.Program, pipeline string, params map[string]string) error {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		found := false
		for _, f := range prog.Compiled.Pipelines {
			if pipeline != "" && f.Name != pipeline {
				continue
			}
			for _, prm := range f.Params {
				if prm.Name != name {
					continue
				}
				found = true
				typ := ""
				if prm.Type != nil {
					typ = prm.Type.Name
				}
				if _, err := rayflow.ParseParam(params[name], typ); err != nil {
					return fmt.Errorf("parameter '%s': %v", name, err)
				}
			}
		}
		if !found {
			var all []string
			for _, f := range prog.Compiled.Pipelines {
				if pipeline != "" && f.Name != pipeline {
					continue
				}
				for _, prm := range f.Params {
					all = append(all, f.Name+"."+prm.Name)
				}
			}
			if len(all) == 0 {
				all = []string{"(none)"}
			}
			return fmt.Errorf("unknown parameter '%s'; parameters: %s", name, strings.Join(all, ", "))
		}
	}
	return nil
}
