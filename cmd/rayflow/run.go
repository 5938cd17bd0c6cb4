package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

func memoryError(text string, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%q must be more than zero", text)
}

var runFlags = flagSpec{"p": true, "pipeline": true, "cpus": true, "nodes": true, "max-steps": true,
	"address": true, "data-dir": true, "timeline": true, "lineage": true, "object-store-memory": true, "resources": true,
	"lineage-forward-bound": true, "gcs-delay": true}

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
	inv, err := parseArgs(args, runFlags, true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, usage)
		return exitUsage
	}
	opts := rayflow.RunOptions{Params: inv.params, Stdout: stdout}
	opts.Pipeline = inv.flags["p"]
	if p, ok := inv.flags["pipeline"]; ok {
		opts.Pipeline = p
	}
	for name, dst := range map[string]*int{"cpus": &opts.CPUs, "nodes": &opts.Nodes} {
		if *dst, err = inv.intFlag(name); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitUsage
		}
	}
	steps, err := inv.intFlag("max-steps")
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	opts.MaxSteps = int64(steps)
	opts.DataDir = inv.flags["data-dir"]
	if mem, ok := inv.flags["object-store-memory"]; ok {
		n, err := resources.ParseMemory(mem)
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "error: --object-store-memory: %v\n", memoryError(mem, err))
			return exitUsage
		}
		opts.ObjectStoreMemory = n
	}
	if spec, ok := inv.flags["resources"]; ok {
		res, err := resources.ParseSpec(spec)
		if err != nil {
			fmt.Fprintf(stderr, "error: --resources: %v\n", err)
			return exitUsage
		}
		opts.Resources = res.Map()
	}
	opts.Timeline = inv.flags["timeline"]
	switch opts.Lineage = inv.flags["lineage"]; opts.Lineage {
	case "", "stash", "sync", "off":
	default:
		fmt.Fprintf(stderr, "error: --lineage must be stash, sync or off, not '%s'\n", opts.Lineage)
		return exitUsage
	}
	if code := lineageFlags(inv, &opts, stderr); code != exitOK {
		return code
	}
	prog, code := load(inv.file, stderr)
	if prog == nil {
		return code
	}
	if f, ok := stdout.(*os.File); ok && isTerminal(f) {
		p := newProgress(stdout, stderr)
		opts.Stdout = p
		opts.Progress = p.watch
		defer p.done()
	}
	if address, remote := inv.flags["address"]; remote {
		for _, f := range []string{"nodes", "cpus", "resources", "object-store-memory", "data-dir", "timeline", "gcs-delay"} {
			if _, given := inv.flags[f]; given {
				fmt.Fprintf(stderr, "error: --%s applies to the embedded cluster of 'rayflow run FILE'; with --address the cluster's nodes were configured by 'rayflow start'\n", f)
				return exitUsage
			}
		}
		driver, err := nodeagent.ConnectDriver(strings.Split(address, ","), nodeagent.Config{Stdout: opts.Stdout,
			Lineage: opts.Lineage, ForwardBound: opts.ForwardBound, MaxSteps: opts.MaxSteps})
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitFailed
		}
		defer driver.Shutdown("the driver has finished")
		opts.Cluster = driver
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	result, err := prog.Run(ctx, opts)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "interrupted")
		return exitInterrupted
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
	inv, err := parseArgs(args, flagSpec{}, true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	if prog, code := load(inv.file, stderr); prog == nil {
		return code
	}
	return exitOK
}

// resultString prints a value as the REPL and run show it.
func resultString(v exec.Value) string { return v.Repr() }

// lineageFlags reads --lineage-forward-bound and --gcs-delay.
func lineageFlags(inv *invocation, opts *rayflow.RunOptions, stderr io.Writer) int {
	bound, err := inv.intFlag("lineage-forward-bound")
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	opts.ForwardBound = bound
	if d, ok := inv.flags["gcs-delay"]; ok {
		delay, err := time.ParseDuration(d)
		if err != nil || delay < 0 {
			fmt.Fprintf(stderr, "error: --gcs-delay needs a duration such as 2ms, got '%s'\n", d)
			return exitUsage
		}
		opts.GCSDelay = delay
	}
	return exitOK
}
