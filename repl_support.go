package rayflow

import (
	"context"
	"fmt"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/lang"
)

// CompileFile checks an already parsed file against the standard
// library, as Compile does for source text. The REPL builds its files
// from pieces parsed separately (the declarations of earlier inputs and
// the current one), so that each keeps the positions of the input it
// came from.
func CompileFile(file *lang.File) (*Program, error) {
	fp, err := frontend.CompileFile(file, nil)
	if err != nil {
		return nil, err
	}
	return &Program{fp}, nil
}

// RunValues runs a pipeline on opts.Cluster, which must be set, with its
// first parameters given as values in order and any others by name in
// opts.Params, as on the command line; the options that configure a new
// cluster are not used. Cancelling ctx cancels this run only, and the
// tasks and actors it started (Cluster.EndJob): the cluster, and the
// tasks and actors other runs started on it, go on. The
// REPL runs each input this way on the cluster of its session. It plans
// the program as Run does: with opts.Opt, warning on opts.Warn of the
// source's refused hints, explaining on opts.Explain after the run, and
// starting adaptive decisions from the cluster's statistics.
func (p *Program) RunValues(ctx context.Context, opts RunOptions, args []exec.Value) (exec.Value, error) {
	if opts.Cluster == nil {
		return exec.None, fmt.Errorf("RunValues needs a cluster")
	}
	fn, err := p.pipeline(opts.Pipeline)
	if err != nil {
		return exec.None, err
	}
	if opts.JobID == "" {
		// Unique on a cluster, where other drivers' jobs end (and are
		// marked ended on every node) while this one runs.
		opts.JobID = newJobID(opts.Cluster)
	}
	plan, report, err := p.PlanOpt(opts.Opt)
	if err != nil {
		return exec.None, err
	}
	warnRefused(opts.Warn, report, opts.QuietUnused)
	th := opts.Cluster.NewThread(opts.JobID)
	prog, err := p.LoadPlanned(th, plan)
	if err != nil {
		return exec.None, err
	}
	if err := opts.Cluster.RegisterProgram(prog, opts.Shipped); err != nil {
		return exec.None, fmt.Errorf("cannot send the program to the cluster: %w", err)
	}
	defer seedStats(opts.Cluster, prog, opts.Shipped+"\x00"+p.Source)()
	if err := p.shareWorkDir(opts.Cluster, th, opts); err != nil {
		return exec.None, err
	}
	pipeline, _ := prog.Pipeline(fn.Name)
	var kw []exec.Kwarg
	if len(opts.Params) > 0 {
		if kw, err = bindParams(fn, opts.Params); err != nil {
			return exec.None, err
		}
	}
	bound, err := pipeline.BindArgs(th, args, kw)
	if err != nil {
		return exec.None, err
	}
	// An interrupted run ends its job: the tasks it started stop too,
	// here and on the cluster's nodes.
	stop := context.AfterFunc(ctx, func() {
		th.Cancel("interrupted")
		opts.Cluster.EndJob(opts.JobID)
	})
	defer stop()
	result, rerr := pipeline.Run(th, bound)
	if opts.Explain != nil {
		explainRun(opts.Explain, report, prog)
	}
	if rerr != nil {
		return exec.None, rerr
	}
	return result, nil
}
