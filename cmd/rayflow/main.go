package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/internal/gcfloor"
	"github.com/rayflow/rayflow/internal/version"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	gcfloor.Start(gcFloor)
	stop := profileCPU(os.Getenv("RAYFLOW_CPUPROFILE"))
	stopTrace := traceExecution(os.Getenv("RAYFLOW_TRACE"))
	profileHeapOnSignal(os.Getenv("RAYFLOW_HEAPPROFILE"))
	code := runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopTrace()
	stop()
	os.Exit(code)
}

// gcFloor is the heap target below which the collector does not run
// (internal/gcfloor; GOGC set in the environment turns it off): the
// first work of a fresh process, a node's first fused chain, ran through
// several collections of a heap of a few MB. 32 MB did as well as 64 MB
// there; a process whose live heap is 16 MB or more is not affected, a
// smaller one keeps at most 32 MB of heap a collection would have freed.
const gcFloor = 32 << 20

// profileCPU writes a CPU profile of the whole command to path (set by
// RAYFLOW_CPUPROFILE, for developers: `go tool pprof` reads it; %p in it
// is the process ID, so that the processes of a cluster write one each)
// and returns what stops it; nothing when path is empty or cannot be made.
func profileCPU(path string) (stop func()) {
	return record("RAYFLOW_CPUPROFILE", path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// traceExecution writes an execution trace of the whole command to path
// (RAYFLOW_TRACE, for developers: `go tool trace` reads it, and
// `go tool trace -pprof=sched` tells how long goroutines waited to run;
// %p as for profileCPU) and returns what stops it.
func traceExecution(path string) (stop func()) {
	return record("RAYFLOW_TRACE", path, trace.Start, trace.Stop)
}

// record starts a recording into the file path names (%p: the process
// ID) and returns what ends it; a problem is a warning naming env, and
// nothing is recorded.
func record(env, path string, start func(io.Writer) error, end func()) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: %s: %v\n", env, err)
		return func() {}
	}
	if err := start(f); err != nil {
		f.Close()
		fmt.Fprintf(os.Stderr, "warning: %s: %v\n", env, err)
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}

// runMain runs one command; it never lets a Go panic reach the user.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "error: internal error: %v\n", r)
			fmt.Fprintf(stderr, "This is a bug in rayflow %s. Please report it with the program and command that caused it, and this trace:\n%s",
				version.Version, firstLines(string(debug.Stack()), 12))
			code = exitFailed
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if name, ok := commandAliases[cmd]; ok {
		cmd = name
	}
	if c, ok := lookupCommand(cmd); ok {
		return c.run(rest, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "error: unknown command '%s'\n%s", cmd, usageHint(""))
	return exitUsage
}

// cmdVersion prints rayflow's version (internal/version).
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if _, err := parseCommand(newFlagSet("version"), args, noArgs); err != nil {
		return usageExit("version", err, stdout, stderr)
	}
	fmt.Fprintf(stdout, "rayflow %s\n", version.Version)
	return exitOK
}

// cmdHelp prints the usage of every command, or of the one named
// (`rayflow help run` is `rayflow run --help`).
func cmdHelp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("help")
	if err := fs.Parse(gnuArgs(fs, args)); err != nil {
		return usageExit("help", err, stdout, stderr)
	}
	if fs.NArg() > 1 {
		return usageExit("help", fmt.Errorf("unexpected argument '%s'", fs.Arg(1)), stdout, stderr)
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if _, ok := lookupCommand(fs.Arg(0)); !ok {
		fmt.Fprintf(stderr, "error: unknown command '%s'\n%s", fs.Arg(0), usageHint(""))
		return exitUsage
	}
	fmt.Fprint(stdout, commandUsage(fs.Arg(0)))
	return exitOK
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}
