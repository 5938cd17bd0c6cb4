package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/planner"
	"github.com/spf13/pflag"
)

// planFlags are the flags of `rayflow plan`.
type planFlags struct {
	pipeline string
	dot      bool
	unroll   int
	opt      string
}

func (f *planFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("plan")
	fs.StringVarP(&f.pipeline, "pipeline", "p", "", "plan only the pipeline `NAME` (default: every pipeline)")
	switchVar(fs, &f.dot, "dot", "", "print the graph in Graphviz dot format")
	fs.Var(newCount(&f.unroll, 1), "unroll", fmt.Sprintf("show N iterations of a loop over a constant range as separate nodes (default %d)", planner.DefaultUnroll))
	fs.Var(&optValue{&f.opt}, "opt", "plan with these paradigm hints on wherever they are eligible, or none (default: adaptive and the source's hints, as run)")
	return fs
}

// cmdPlan prints the planned task graph:
//
//	rayflow plan FILE [-p PIPELINE] [--dot] [--unroll N] [NAME=VALUE ...]
//
// Without -p every pipeline is planned. NAME=VALUE replaces a parameter's
// default for the plan (loops over range(NAME) unroll to the given value).
func cmdPlan(args []string, stdout, stderr io.Writer) int {
	var f planFlags
	cl, err := parseCommand(f.flagSet(), args, fileAndParams)
	if err != nil {
		return usageExit("plan", err, stdout, stderr)
	}
	prog, code := load(cl.file, stderr)
	if prog == nil {
		return code
	}
	if err := checkPlanParams(prog, f.pipeline, cl.params); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	g, err := planner.Plan(prog.Compiled, planner.Options{Pipeline: f.pipeline, Unroll: f.unroll, Params: cl.params})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	// Planned as run plans: without --opt, adaptive with the source's
	// hints (the groups batch(auto) forms are sized while it runs).
	plan, _, err := prog.PlanOpt(f.opt)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	planner.Annotate(g, plan)
	if f.dot {
		fmt.Fprint(stdout, g.Dot())
	} else {
		fmt.Fprint(stdout, g.Text())
	}
	return exitOK
}

// explainFlags are the flags of `rayflow explain`.
type explainFlags struct {
	opt string
}

func (f *explainFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("explain")
	fs.Var(&optValue{&f.opt}, "opt", "explain with these paradigm hints on wherever they are eligible, or none (default: adaptive)")
	return fs
}

// cmdExplain prints every hint and every decision of the planner, with
// its place: applied (and what it changes) or refused (and why).
//
//	rayflow explain FILE [--opt ...] [NAME=VALUE ...]
func cmdExplain(args []string, stdout, stderr io.Writer) int {
	var f explainFlags
	cl, err := parseCommand(f.flagSet(), args, fileAndParams)
	if err != nil {
		return usageExit("explain", err, stdout, stderr)
	}
	prog, code := load(cl.file, stderr)
	if prog == nil {
		return code
	}
	if err := checkPlanParams(prog, "", cl.params); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	_, report, err := prog.PlanOpt(f.opt)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	fmt.Fprint(stdout, report.Text())
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
