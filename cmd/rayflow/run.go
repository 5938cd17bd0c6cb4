package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/cmd/rayflow/internal/tty"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/spf13/pflag"
)

// runFlags are the flags of `rayflow run`.
type runFlags struct {
	opts      rayflow.RunOptions
	address   []string      // a running cluster's heads; none for an embedded cluster
	bind      string        // where a driver on a cluster listens for results
	explain   bool          // print the planner's decisions and what they bought
	timeout   time.Duration // stop the run after this long (0: no limit)
	tokenFile string
	tls       tlsFlags
}

func (f *runFlags) flagSet() *pflag.FlagSet {
	o := &f.opts
	fs := newFlagSet("run")
	fs.StringVarP(&o.Pipeline, "pipeline", "p", "", "run the pipeline `NAME` (default: main, or the only one)")
	fs.Var(&addressList{&f.address}, "address", "run on the cluster whose heads are at these addresses (as 'rayflow start --head' printed)")
	fs.StringVar(&f.bind, "bind", "", "with --address: the `HOST` the driver listens on for results (default: the interface it reaches the heads from; 0.0.0.0 for every interface)")
	fs.Var(newCount(&o.CPUs, 0), "cpus", "CPUs per node of the embedded cluster (default: this machine's)")
	fs.Var(newCount(&o.Nodes, 0), "nodes", "nodes of the embedded cluster (default 1)")
	fs.Var(&resourcesValue{&o.Resources}, "resources", "extra resources per node, such as gpu=1,memory=16GiB")
	fs.Var(&memoryValue{&o.ObjectStoreMemory}, "object-store-memory", "each node's object-store limit, such as 512MB or 2GiB (default: 30% of RAM)")
	fs.StringVar(&o.WorkDir, "working-dir", "", "the run's working directory `DIR`, where io reads and writes; sent to a cluster's nodes with the job (default: the current directory)")
	fs.StringVar(&o.DataDir, "data-dir", "", "keep spill files and the cluster's state under `DIR` (default: a temporary directory)")
	fs.Var(newCount(&o.MaxSteps, 0), "max-steps", "stop any thread after N evaluation steps (default: no limit)")
	fs.Var(&memoryValue{&o.MaxMemory}, "max-memory", "cap the bytes the job's objects may take in each node's object store, such as 512MiB or 2GB; a put or result past it fails with a memory error (default: no cap)")
	fs.Var(&memoryValue{&o.MemoryLimit}, "memory-limit", "the embedded cluster's memory limit: past it the running work of the job is stopped with a memory error (default: 90% of RAM)")
	fs.StringVar(&o.Timeline, "timeline", "", "write every task's run to `FILE` as Chrome trace JSON (with --address: gathered from every node that ran the job's tasks)")
	fs.Var(&lineageValue{&o.Lineage}, "lineage", "how task lineage reaches the GCS: stash (default), sync or off")
	fs.Var(newCount(&o.ForwardBound, 0), "lineage-forward-bound", "the lineage stash's forwarding bound (default 8)")
	fs.Var(&durationValue{d: &o.GCSDelay, example: "2ms"}, "gcs-delay", "slow every GCS write by this much (for benchmarks of the lineage modes)")
	fs.Var(&optValue{&o.Opt}, "opt", "turn these paradigm hints on wherever they are eligible, or none to turn every hint off (default: adaptive; see spec/hints.md)")
	switchVar(fs, &f.explain, "explain", "", "after the run, print to stderr the planner's decisions and what they saved")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	fs.Var(&durationValue{d: &f.timeout, example: "10m", positive: true}, "timeout", "stop the run, and every task and actor it started, if it has not finished after this long")
	return fs
}

// embeddedOnly are the flags that configure the embedded cluster, which
// --address replaces.
var embeddedOnly = []string{"nodes", "cpus", "resources", "object-store-memory", "memory-limit", "data-dir", "gcs-delay"}

// checkClusterFlags refuses, as usage errors, the flags that do not go
// with --address (or, for --bind, without it); nil when all is well.
func checkClusterFlags(fs *pflag.FlagSet) error {
	if !fs.Changed("address") {
		if fs.Changed("bind") {
			return errors.New("--bind applies to a driver on a cluster: give --address too (an embedded run listens on nothing)")
		}
		for _, name := range []string{"tls-cert", "tls-key", "tls-ca"} {
			if fs.Changed(name) {
				return fmt.Errorf("--%s applies to a driver on a cluster: give --address too (an embedded run listens on nothing)", name)
			}
		}
		return nil
	}
	for _, name := range embeddedOnly {
		if fs.Changed(name) {
			return fmt.Errorf("--%s applies to the embedded cluster of 'rayflow run FILE'; with --address the cluster's nodes were configured by 'rayflow start'", name)
		}
	}
	return nil
}

// load reads and compiles FILE, printing errors. ok is false when it
// failed; code is then the exit code.
func load(file string, stderr io.Writer) (prog *rayflow.Program, code int) {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot read %s: %v\n", file, unwrapPathError(err))
		return nil, exitUsage
	}
	prog, err = rayflow.Compile(file, string(src), nil)
	if err != nil {
		fmt.Fprint(stderr, rayflow.FormatError(err, string(src)))
		return nil, exitFailed
	}
	return prog, exitOK
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := f.flagSet()
	cl, err := parseCommand(fs, args, fileAndParams)
	if err != nil {
		return usageExit("run", err, stdout, stderr)
	}
	if err := checkClusterFlags(fs); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	opts := f.opts
	opts.Params, opts.Stdout, opts.Warn = cl.params, stdout, stderr
	if f.explain {
		opts.Explain = stderr
	}
	prog, code := load(cl.file, stderr)
	if prog == nil {
		return code
	}
	if tty.IsTerminal(stderr) { // the line is drawn on stderr
		p := newProgress(stdout, stderr)
		opts.Stdout = p
		opts.Progress = p.watch
		defer p.done()
	}
	if fs.Changed("address") {
		token, _, err := clientToken(f.tokenFile, f.address)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitUsage
		}
		tlsCfg, err := f.tls.config(true)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitUsage
		}
		warnPlain(stderr, f.bind, tlsCfg)
		// Prints from the tasks on the nodes reach this terminal without
		// control sequences (a pipe or a file gets them as printed).
		driver, err := nodeagent.ConnectDriverAt(f.address, f.bind, nodeagent.Config{Stdout: opts.Stdout, Token: token, TLS: tlsCfg, SafeOutput: tty.IsTerminal(stdout),
			Lineage: opts.Lineage, ForwardBound: opts.ForwardBound, MaxSteps: opts.MaxSteps, MaxMemory: opts.MaxMemory, Timeline: opts.Timeline != ""})
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitFailed
		}
		defer driver.Shutdown("the driver has finished")
		opts.Cluster = driver
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runCtx := ctx
	if f.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	result, err := prog.Run(runCtx, opts)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "interrupted")
		return exitInterrupted
	}
	if runCtx.Err() != nil {
		fmt.Fprintf(stderr, "error: the run did not finish within --timeout %s: it was stopped, with the tasks and actors it started\n", f.timeout)
		return exitFailed
	}
	if err != nil {
		fmt.Fprint(stderr, rayflow.FormatError(err, prog.Source))
		var ue *rayflow.UsageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	if !result.IsNone() {
		fmt.Fprintln(stdout, result.String())
	}
	return exitOK
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	cl, err := parseCommand(newFlagSet("check"), args, fileAndParams)
	if err != nil {
		return usageExit("check", err, stdout, stderr)
	}
	if prog, code := load(cl.file, stderr); prog == nil {
		return code
	}
	return exitOK
}
