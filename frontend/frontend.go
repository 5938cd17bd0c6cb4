package frontend

import (
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner"
	"github.com/rayflow/rayflow/planner/decision"
)

// Program is a checked program with what loading it needs.
type Program struct {
	File     string
	Source   string
	Compiled *compiler.Program
	// Modules are those the program was checked against: the standard
	// library, then the extra modules given to Compile.
	Modules []*exec.Module
	// Plan is what the planner decided with the default options
	// (planner.Default: adaptive) and the hints written in the source,
	// and Report why; PlanWith plans with other options.
	Plan   *decision.Set
	Report *planner.Report
}

// Compile parses source and checks it against the standard library and
// extra (nil for none). Errors are a lang.ErrorList.
func Compile(filename, source string, extra []*exec.Module) (*Program, error) {
	file, err := lang.Parse(filename, source)
	if err != nil {
		return nil, err
	}
	return CompileFile(file, extra)
}

// CompileFile checks an already parsed file, as Compile does for source
// text. The REPL builds its files from pieces parsed separately, so that
// each keeps the positions of the input it came from.
func CompileFile(file *lang.File, extra []*exec.Module) (*Program, error) {
	modules, universe := withStandard(extra)
	cp, err := compiler.Compile(file, universe)
	if err != nil {
		return nil, err
	}
	p := &Program{File: file.Name, Source: file.Source, Compiled: cp, Modules: modules}
	p.Plan, p.Report = planner.Decide(cp, planner.Default)
	return p, nil
}

// PlanWith plans the program with the options of --opt: what to run
// (LoadPlanned) and why (the report explain prints). It changes nothing
// in p, so one Program may be run with different options.
func (p *Program) PlanWith(opt planner.Opt) (*decision.Set, *planner.Report) {
	if opt.Spec() == p.Plan.Spec {
		return p.Plan, p.Report
	}
	return planner.Decide(p.Compiled, opt)
}

// Load makes the program runnable on th (evaluating its consts there),
// as planned from the hints in its source.
func (p *Program) Load(th *exec.Thread) (*exec.Program, error) {
	return p.LoadPlanned(th, p.Plan)
}

// LoadPlanned makes the program runnable on th as planned by plan
// (from PlanWith).
func (p *Program) LoadPlanned(th *exec.Thread, plan *decision.Set) (*exec.Program, error) {
	return exec.LoadPlanned(th, p.Compiled, p.Modules, plan)
}
