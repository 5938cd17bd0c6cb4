package rayflow

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/version"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/planner"
	"github.com/rayflow/rayflow/planner/decision"
)

// Version is rayflow's version (internal/version holds it; a release
// build sets it there with -ldflags -X).
var Version = version.Version

// Options customise compilation: Go functions the program may call.
type Options struct {
	// Builtins are Go functions callable from the program by name; they
	// run inline in the caller, like fn.
	Builtins map[string]exec.BuiltinFunc
	// Tasks are Go functions callable by name that run as tasks: a call
	// returns a future, and the function runs on a worker with its
	// resources, like a task declared in the program.
	Tasks map[string]Task
	// Modules are extra modules, in addition to the standard library.
	Modules []*exec.Module
}

// Task is a Go function registered as a task, with what one run needs
// (nil: one CPU), e.g. map[string]float64{"cpu": 2, "gpu": 1}.
type Task struct {
	Fn        exec.BuiltinFunc
	Resources map[string]float64
}

// Program is a compiled rayflow program: the front end's (File, Source,
// Compiled, and the Modules it was compiled with), runnable.
type Program struct {
	*frontend.Program
}

// Compile parses and checks a program (through frontend.Compile, as
// every node of a cluster does). Errors are a lang.ErrorList;
// FormatError renders them with source lines and carets.
func Compile(filename, src string, opts *Options) (*Program, error) {
	fp, err := frontend.Compile(filename, src, HostModules(opts))
	if err != nil {
		return nil, err
	}
	return &Program{fp}, nil
}

// FormatError renders a compile error (with source lines and carets) or
// a runtime error (with its call stack) for a user.
func FormatError(err error, src string) string {
	switch e := err.(type) {
	case lang.ErrorList, *lang.Error:
		return lang.Report(err, src)
	case *exec.Error:
		return e.Report()
	case *UsageError:
		if e.Pos.Line > 0 {
			return fmt.Sprintf("%s:%d:%d: error: %s\n", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
		}
		return "error: " + e.Msg + "\n"
	}
	return "error: " + err.Error() + "\n"
}

// UsageError is a mistake in how the program was invoked (an unknown
// pipeline, a bad parameter); the command line exits with 2 for it.
type UsageError struct {
	Msg string
	Pos lang.Position // the declaration the mistake is about, when there is one
}

func (e *UsageError) Error() string { return e.Msg }

// RunOptions say how to run a pipeline.
type RunOptions struct {
	Pipeline string            // "" for main or the only pipeline
	Params   map[string]string // parameter values as written on the command line
	Nodes    int               // in-process nodes; default 1
	CPUs     int               // CPUs per node; default this machine's
	// Resources are extra resources per node (gpu, custom names).
	Resources map[string]float64
	Stdout    io.Writer // program output; default os.Stdout
	WorkDir   string    // confines the io module; see WorkDirLimit
	MaxSteps  int64     // stop threads after this many steps; 0 for no limit
	// MaxMemory caps the bytes the run's objects may take in each node's
	// object store (a put or result past it fails with a "memory"
	// error); 0 for no cap. On a cluster (Cluster from ConnectDriver) the
	// driver's nodeagent.Config.MaxMemory applies instead, as MaxSteps.
	MaxMemory int64
	// MemoryLimit is the embedded cluster's memory limit: past 90% of it
	// in live heap the memory monitor stops the run's work
	// (nodeagent.Config.MemoryLimit; 0: 90% of the machine's memory,
	// negative: no monitor). While the cluster runs, the process's Go
	// soft memory limit (runtime/debug.SetMemoryLimit) is at most 90% of
	// it; it is put back after.
	MemoryLimit int64
	// ObjectStoreMemory is each node's object-store limit in bytes
	// (default 30% of RAM); DataDir holds spill files.
	ObjectStoreMemory int64
	DataDir           string
	// Timeline, when set, is a file to write every task's run to, as
	// Chrome trace JSON (open it in Perfetto or chrome://tracing).
	Timeline string
	// Lineage is stash (default), sync or off; see nodeagent/lineage.go.
	Lineage string
	// ForwardBound is the lineage stash's forwarding bound (default 8).
	ForwardBound int
	// GCSDelay slows every GCS write, for benchmarks of the lineage modes.
	GCSDelay time.Duration
	// Progress, when set, is called with the cluster once it starts, so
	// a caller can show live counts (Cluster.Stats).
	Progress func(*nodeagent.Cluster)
	// JobID names the run; task IDs derive from it. Default "jobN".
	JobID string
	// Cluster, when set, is used instead of starting one.
	Cluster *nodeagent.Cluster
	// Shipped, for RunValues on a cluster, is the source the nodes
	// compile the program from to run its tasks: the declarations the
	// program was built from (a REPL's, typed over several inputs).
	Shipped string
	// Explain, when set, receives after the run the planner's decisions
	// and what they did: calls sent in groups, calls started early.
	Explain io.Writer
	// Warn, when set, receives one line per hint written in the source
	// that the planner refused (rayflow explain says more).
	Warn io.Writer
	// QuietUnused leaves out of Warn the hints nothing in the program
	// could use (planner.Decision.Unused): the REPL runs each input as
	// a program of its own, which need not call every declaration.
	QuietUnused bool
	// Opt is the value of --opt: hints turned on program-wide ("batch,fuse"),
	// or "none" to turn every hint off; "" runs with the source's hints.
	Opt string
	// WorkDir (above) is the run's working directory, to which the io
	// module is confined; default the process's. An embedded cluster and
	// the driver use it in place; on a cluster (Cluster from
	// ConnectDriver) a program that uses io sends it to the nodes, where
	// each job's tasks and actors see a copy of their own
	// (spec/cluster.md). WorkDirLimit bounds the size of the files sent;
	// 0 means $RAYFLOW_WORKING_DIR_LIMIT (bytes), else 100 MiB.
	WorkDirLimit int64
}

var jobSeq atomic.Uint64

// Run runs a pipeline on an embedded cluster and returns its result.
// Cancelling ctx cancels the run.
func (p *Program) Run(ctx context.Context, opts RunOptions) (result exec.Value, err error) {
	fn, err := p.pipeline(opts.Pipeline)
	if err != nil {
		return exec.None, err
	}
	if err := checkWorkDir(opts.WorkDir); err != nil {
		return exec.None, err
	}
	cluster := opts.Cluster
	if cluster == nil {
		if opts.Stdout == nil {
			opts.Stdout = os.Stdout
		}
		cluster, err = nodeagent.NewCluster(nodeagent.Config{Nodes: opts.Nodes, CPUs: opts.CPUs,
			Stdout: opts.Stdout, WorkDir: opts.WorkDir, MaxSteps: opts.MaxSteps,
			MaxMemory: opts.MaxMemory, MemoryLimit: opts.MemoryLimit,
			ObjectStoreMemory: opts.ObjectStoreMemory, DataDir: opts.DataDir,
			Lineage: opts.Lineage, Timeline: opts.Timeline != "", Resources: opts.Resources,
			ForwardBound: opts.ForwardBound, GCSDelay: opts.GCSDelay})
		if err != nil {
			return exec.None, err
		}
		defer cluster.Shutdown("the pipeline has ended")
	}
	if opts.Progress != nil {
		opts.Progress(cluster)
	}
	if opts.Timeline != "" {
		defer func() {
			if werr := writeTimeline(cluster, opts.Timeline); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	if opts.JobID == "" {
		opts.JobID = newJobID(cluster)
	}
	plan, report, err := p.PlanOpt(opts.Opt)
	if err != nil {
		return exec.None, err
	}
	warnRefused(opts.Warn, report, opts.QuietUnused)
	th := cluster.NewThread(opts.JobID)
	if err := p.shareWorkDir(cluster, th, opts); err != nil {
		return exec.None, err
	}
	prog, err := p.LoadPlanned(th, plan)
	if err != nil {
		return exec.None, err
	}
	if err := cluster.RegisterProgram(prog, p.Source); err != nil {
		return exec.None, fmt.Errorf("cannot send the program to the cluster: %w", err)
	}
	defer seedStats(cluster, prog, p.Source)()
	pipeline, _ := prog.Pipeline(fn.Name)
	kw, err := bindParams(fn, opts.Params)
	if err != nil {
		return exec.None, err
	}
	args, err := pipeline.BindArgs(th, nil, kw)
	if err != nil {
		return exec.None, err
	}
	stop := context.AfterFunc(ctx, func() {
		th.Cancel("the run was interrupted")
		cluster.Shutdown("the run was interrupted")
	})
	defer stop()
	value, rerr := pipeline.Run(th, args)
	if opts.Explain != nil {
		explainRun(opts.Explain, report, prog)
	}
	if rerr != nil {
		return exec.None, rerr
	}
	return value, nil
}

// shareWorkDir gives the run its working directory: the driver thread
// uses it in place, and on a cluster a program that uses io sends it to
// the nodes (nodeagent.Cluster.ShareWorkDir). One that is too large is a
// UsageError.
func (p *Program) shareWorkDir(c *nodeagent.Cluster, th *exec.Thread, opts RunOptions) error {
	if opts.WorkDir != "" {
		th.WorkDir = opts.WorkDir
	}
	if c.Address() == "" || !p.Compiled.Uses["io"] {
		return nil
	}
	err := c.ShareWorkDir(opts.JobID, opts.WorkDir, workDirLimit(opts.WorkDirLimit))
	var tooLarge *nodeagent.WorkDirTooLargeError
	if errors.As(err, &tooLarge) {
		return &UsageError{Msg: err.Error()}
	}
	return err
}

// workDirLimit is the limit on a shipped working directory: limit, else
// $RAYFLOW_WORKING_DIR_LIMIT, else nodeagent's default.
func workDirLimit(limit int64) int64 {
	if limit > 0 {
		return limit
	}
	if n, err := strconv.ParseInt(os.Getenv("RAYFLOW_WORKING_DIR_LIMIT"), 10, 64); err == nil && n > 0 {
		return n
	}
	return nodeagent.DefaultWorkDirLimit
}

// checkWorkDir refuses a working directory that is not a directory.
func checkWorkDir(dir string) error {
	if dir == "" {
		return nil
	}
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return &UsageError{Msg: fmt.Sprintf("working directory %s: %v", dir, unwrapPath(err))}
	case !info.IsDir():
		return &UsageError{Msg: fmt.Sprintf("working directory %s: not a directory", dir)}
	}
	return nil
}

// unwrapPath drops the operation and path of a file error.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// PlanOpt plans the program with the options of --opt (see
// RunOptions.Opt): what runs, and the report `rayflow explain` prints. A
// bad option is a UsageError.
func (p *Program) PlanOpt(opt string) (*decision.Set, *planner.Report, error) {
	o, err := planner.ParseOpt(opt)
	if err != nil {
		return nil, nil, &UsageError{Msg: "--opt: " + err.Error()}
	}
	plan, report := p.PlanWith(o)
	return plan, report, nil
}

// seedStats starts prog's adaptive decisions from what earlier runs of
// the same source with the same options learned on cluster (its GCS
// table of statistics), and returns what keeps this run's: written only
// when the run learned something new, so a run that decided nothing
// keeps what earlier runs learned.
func seedStats(cluster *nodeagent.Cluster, prog *exec.Program, source string) (save func()) {
	if prog.Adapt == nil || prog.Plan == nil {
		return func() {}
	}
	key := statsKey(source, prog.Plan.Spec)
	seeded, _ := cluster.GetStats(key)
	prog.Adapt.Seed(seeded)
	return func() {
		if blob := prog.Adapt.Export(); len(blob) > 0 && !bytes.Equal(blob, seeded) {
			cluster.PutStats(key, blob)
		}
	}
}

// statsKey names a program's adaptive statistics in the GCS: its source
// and the options it was planned with.
func statsKey(source, spec string) string {
	return gcs.ProgramHash([]byte(spec + "\x00" + source))
}

// warnRefused writes a line for each refused hint of the source (those
// --opt asked for are refused quietly: --opt applies where it can).
func warnRefused(w io.Writer, report *planner.Report, quietUnused bool) {
	if w == nil {
		return
	}
	warned := map[string]bool{}
	for _, d := range report.Refused() {
		if quietUnused && d.Unused {
			continue
		}
		if !strings.HasPrefix(d.Origin, "--opt") && !warned[d.Origin+d.Hint] {
			warned[d.Origin+d.Hint] = true
			fmt.Fprintf(w, "warning: %s\n", d.Line())
		}
	}
}

// explainRun writes what the plan decided and what it did in this run.
func explainRun(w io.Writer, report *planner.Report, prog *exec.Program) {
	stats := &prog.PlanStats
	fmt.Fprint(w, "plan:\n")
	for _, line := range strings.SplitAfter(report.Text(), "\n") {
		if line != "" {
			fmt.Fprint(w, "  ", line)
		}
	}
	calls, groups, ahead := stats.GroupedCalls.Load(), stats.Groups.Load(), stats.AheadCalls.Load()
	fmt.Fprintf(w, "at run time (this process):\n")
	fmt.Fprintf(w, "  %d calls went to the scheduler in %d groups: %d fewer units to place, queue and send\n", calls, groups, calls-groups)
	fmt.Fprintf(w, "  %d calls started early by loops run ahead\n", ahead)
	if n := stats.TemplateCalls.Load(); n > 0 {
		fmt.Fprintf(w, "  %d calls of template loops went where the same call went before, without a placement\n", n)
	}
	if n, back := stats.HintPlaced.Load(), stats.HintFallbacks.Load(); n+back > 0 {
		fmt.Fprintf(w, "  %d calls placed by a placement hint (spread, locality, colocate, a tree's calls next to their input); %d could not be and were placed as without\n", n, back)
	}
	if n := stats.TreeCalls.Load(); n > 0 {
		fmt.Fprintf(w, "  %d calls of reductions ran as trees, at most %d deep (a chain of them is %d deep)\n", n, stats.TreeDepth.Load(), n)
	}
	for _, d := range prog.Adapt.Decisions() {
		p := d.Site.Pos
		fmt.Fprintf(w, "  %s:%d:%d: adaptive: %s\n", p.Filename, p.Line, p.Column, d.What)
	}
}

func writeTimeline(c *nodeagent.Cluster, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return &UsageError{Msg: fmt.Sprintf("--timeline: %v", err)}
	}
	if err := c.WriteTimeline(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (p *Program) pipeline(name string) (*compiler.Func, error) {
	fn, ok := p.Compiled.Pipeline(name)
	if ok {
		return fn, nil
	}
	names := p.Compiled.PipelineNames()
	switch {
	case len(names) == 0:
		return nil, &UsageError{Msg: fmt.Sprintf("%s has no pipeline to run; declare one with 'pipeline main() { ... }'", p.File)}
	case name == "":
		return nil, &UsageError{Msg: fmt.Sprintf("%s has several pipelines and none is named main; choose one with -p (%s)", p.File, strings.Join(names, ", "))}
	}
	return nil, &UsageError{Msg: fmt.Sprintf("no pipeline named '%s' in %s; pipelines: %s", name, p.File, strings.Join(names, ", "))}
}

// bindParams turns NAME=VALUE words into keyword arguments of the
// pipeline, checking names and types.
func bindParams(fn *compiler.Func, params map[string]string) ([]exec.Kwarg, error) {
	known := map[string]bool{}
	for _, prm := range fn.Params {
		known[prm.Name] = true
	}
	var unknown []string
	for name := range params {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &UsageError{Pos: fn.Pos, Msg: fmt.Sprintf("unknown parameter '%s' for pipeline %s; its parameters are: %s",
			unknown[0], fn.Name, paramList(fn))}
	}
	var kw []exec.Kwarg
	for _, prm := range fn.Params {
		text, given := params[prm.Name]
		if !given {
			if prm.Default == nil {
				return nil, &UsageError{Pos: prm.Pos, Msg: fmt.Sprintf("missing parameter '%s' for pipeline %s (give it as %s=VALUE)", prm.Name, fn.Name, prm.Name)}
			}
			continue
		}
		typ := ""
		if prm.Type != nil {
			typ = prm.Type.Name
		}
		v, err := ParseParam(text, typ)
		if err != nil {
			return nil, &UsageError{Pos: prm.Pos, Msg: fmt.Sprintf("parameter '%s': %v", prm.Name, err)}
		}
		kw = append(kw, exec.Kwarg{Name: prm.Name, Value: v})
	}
	return kw, nil
}

func paramList(fn *compiler.Func) string {
	if len(fn.Params) == 0 {
		return "(none)"
	}
	names := make([]string, len(fn.Params))
	for i, prm := range fn.Params {
		names[i] = prm.Name
	}
	return strings.Join(names, ", ")
}

// ParseParam reads a command-line parameter value as a literal of the
// declared type ("" when the parameter has no annotation).
func ParseParam(text, typ string) (exec.Value, error) {
	switch typ {
	case "string":
		return exec.Str(text), nil
	case "int":
		n, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 10, 64)
		if err != nil {
			return exec.None, fmt.Errorf("%q is not an int", text)
		}
		return exec.Int(n), nil
	case "float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil {
			return exec.None, fmt.Errorf("%q is not a float", text)
		}
		return exec.Float(f), nil
	case "bool":
		switch text {
		case "true":
			return exec.True, nil
		case "false":
			return exec.False, nil
		}
		return exec.None, fmt.Errorf("%q is not a bool (true or false)", text)
	case "", "any":
		return parseUntyped(text), nil
	}
	v, err := exec.ParseLiteral(text)
	if err != nil {
		return exec.None, fmt.Errorf("%q is not a %s literal: %v", text, typ, err)
	}
	if v.TypeName() != typ {
		return exec.None, fmt.Errorf("%q is %s, not %s", text, article(v.TypeName()), article(typ))
	}
	return v, nil
}

// parseUntyped reads a literal if the text is one, and a string otherwise.
func parseUntyped(text string) exec.Value {
	if v, err := exec.ParseLiteral(text); err == nil {
		return v
	}
	return exec.Str(text)
}

// article puts "a" or "an" before a type name.
func article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// newJobID names a run. Task and object IDs derive from it, so in a
// cluster, where several drivers share the nodes, it must be unique
// there: a random suffix. An embedded run counts, which keeps IDs short.
func newJobID(c *nodeagent.Cluster) string {
	if c.Address() == "" {
		return fmt.Sprintf("job%d", jobSeq.Add(1))
	}
	var b [6]byte
	if _, err := crand.Read(b[:]); err != nil {
		return fmt.Sprintf("job%d-%d", time.Now().UnixNano(), jobSeq.Add(1))
	}
	return "job" + hex.EncodeToString(b[:])
}
