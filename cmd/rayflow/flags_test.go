package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// These tests call runMain in this process: the command line is parsed
// and dispatched exactly as in the binary, without building it.

// invoke runs one command line and returns its exit code, stdout and
// stderr.
func invoke(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// flagNames lists the long names of the flags a command's usage must show.
func flagNames(c command) []string {
	var names []string
	c.flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			names = append(names, f.Name)
		}
	})
	return names
}

// wantCommands are the commands runMain dispatches; the usage text must
// show every one.
var wantCommands = []string{"run", "check", "plan", "explain", "repl", "start", "status", "job", "actor", "list", "summary", "timeline", "serve", "version", "help"}

func TestCommandTableListsEveryCommand(t *testing.T) {
	var got []string
	for _, c := range commands() {
		got = append(got, c.name)
	}
	if strings.Join(got, " ") != strings.Join(wantCommands, " ") {
		t.Fatalf("commands() = %v, want %v", got, wantCommands)
	}
}

// -h and --help print the command's usage, with every flag, on stdout
// and exit 0, wherever they stand and whatever else is missing (FILE).
func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {c.name, "x.rayflow", "--help"}} {
			if c.name == "help" && len(args) == 3 {
				continue // `help x.rayflow` names a command
			}
			code, out, errOut := invoke(t, args...)
			if code != exitOK || errOut != "" {
				t.Errorf("rayflow %s: exit %d, stderr %q; want 0 and nothing", strings.Join(args, " "), code, errOut)
				continue
			}
			if c.name != "help" && !strings.HasPrefix(out, "usage: rayflow "+c.name) {
				t.Errorf("rayflow %s: usage starts %q", strings.Join(args, " "), firstLines(out, 1))
			}
			if c.name != "help" && !strings.Contains(out, "-h, --help") {
				t.Errorf("rayflow %s: usage does not list -h, --help:\n%s", strings.Join(args, " "), out)
			}
			for _, name := range flagNames(c) {
				if !strings.Contains(out, "--"+name) {
					t.Errorf("rayflow %s: usage does not list --%s:\n%s", strings.Join(args, " "), name, out)
				}
			}
		}
	}
	// `rayflow help CMD` is `rayflow CMD --help`.
	_, want, _ := invoke(t, "start", "--help")
	if code, out, _ := invoke(t, "help", "start"); code != exitOK || out != want {
		t.Errorf("rayflow help start: exit %d\n%s\nwant rayflow start --help:\n%s", code, out, want)
	}
}

// The top-level usage lists every command and every command's flags.
func TestTopLevelUsageListsEveryCommandAndFlag(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		code, out, errOut := invoke(t, args...)
		text, wantCode := out, exitOK
		if len(args) == 0 { // no command at all is a usage error
			text, wantCode = errOut, exitUsage
		}
		if code != wantCode {
			t.Errorf("rayflow %s: exit %d, want %d", strings.Join(args, " "), code, wantCode)
		}
		for _, c := range commands() {
			if !strings.Contains(text, "\n  "+c.name+" ") && !strings.Contains(text, "\n  "+c.name+"\n") {
				t.Errorf("rayflow %s: usage does not list the command %s:\n%s", strings.Join(args, " "), c.name, text)
			}
			names := flagNames(c)
			if len(names) == 0 {
				continue
			}
			section, ok := strings.CutPrefix(text[strings.Index(text, "\n"+c.name+" flags:\n")+1:], c.name+" flags:\n")
			if !ok {
				t.Errorf("rayflow %s: no %q section:\n%s", strings.Join(args, " "), c.name+" flags:", text)
				continue
			}
			section, _, _ = strings.Cut(section, "\n\n")
			for _, name := range names {
				if !strings.Contains(section, "--"+name+" ") && !strings.HasSuffix(section, "--"+name) {
					t.Errorf("rayflow %s: the %s flags do not list --%s:\n%s", strings.Join(args, " "), c.name, name, section)
				}
			}
		}
	}
}

// A usage error is one line saying what is wrong and a usage hint, on
// stderr, and exit 2; nothing on stdout.
func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	prog := writeParamProgram(t)
	for _, c := range []struct {
		args []string
		want string // the error line
		hint string // in the second line
	}{
		{[]string{"run", "--no-such-flag", prog}, "error: unknown flag: --no-such-flag", "rayflow run --help"},
		{[]string{"run", prog, "--n", "3"}, "error: unknown flag: --n; pipeline parameters are written NAME=VALUE: n=3", "rayflow run --help"},
		{[]string{"run", "--n=4", prog}, "error: unknown flag: --n; pipeline parameters are written NAME=VALUE: n=4", "rayflow run --help"},
		{[]string{"check", prog, "--n"}, "error: unknown flag: --n; pipeline parameters are written NAME=VALUE: n=VALUE", "rayflow check --help"},
		{[]string{"run", prog, "--cpus", "many"}, "error: --cpus needs a non-negative whole number, got 'many'", "rayflow run FILE"},
		{[]string{"run", prog, "--nodes", "-3"}, "error: --nodes needs a non-negative whole number, got '-3'", "rayflow run --help"},
		{[]string{"run", prog, "--gcs-delay=soon"}, "error: --gcs-delay needs a duration such as 2ms, got 'soon'", "rayflow run --help"},
		{[]string{"run", prog, "--lineage", "maybe"}, "error: --lineage must be stash, sync or off, not 'maybe'", "rayflow run --help"},
		{[]string{"run", prog, "--object-store-memory", "0"}, "error: --object-store-memory must be more than zero, got '0'", "rayflow run --help"},
		{[]string{"run", prog, "--cpus"}, "error: flag needs an argument: --cpus", "rayflow run --help"},
		{[]string{"run", "--cpus", "1"}, "error: no FILE given", "rayflow run FILE"},
		{[]string{"run", prog, "extra"}, "error: unexpected argument 'extra'; parameters are written NAME=VALUE", "rayflow run --help"},
		{[]string{"run", prog, "n=1", "n=2"}, "error: parameter 'n' is given twice", "rayflow run --help"},
		{[]string{"check"}, "error: no FILE given", "rayflow check --help"},
		{[]string{"plan", prog, "--unroll", "0"}, "error: --unroll needs at least 1, got '0'", "rayflow plan --help"},
		{[]string{"repl", "--bogus"}, "error: unknown flag: --bogus", "rayflow repl --help"},
		{[]string{"repl", "extra"}, "error: unexpected argument 'extra'", "rayflow repl --help"},
		{[]string{"start", "--head", "--port", "70000"}, "error: --port needs a port number, got '70000'", "rayflow start --help"},
		{[]string{"start", "--head", "--dead-after", "0s"}, "error: --dead-after needs a duration such as 5s, got '0s'", "rayflow start --help"},
		{[]string{"start", "--bogus"}, "error: unknown flag: --bogus", "rayflow start --help"},
		{[]string{"status", "--bogus"}, "error: unknown flag: --bogus", "rayflow status --help"},
		{[]string{"status", "--address", "a,,b"}, "error: --address needs addresses such as 127.0.0.1:6379, separated by commas, got 'a,,b'", "rayflow status --help"},
		{[]string{"version", "--bogus"}, "error: unknown flag: --bogus", "rayflow version --help"},
		{[]string{"help", "frobnicate"}, "error: unknown command 'frobnicate'", "rayflow help"},
		{[]string{"frobnicate"}, "error: unknown command 'frobnicate'", "rayflow help"},
	} {
		code, out, errOut := invoke(t, c.args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if code != exitUsage || out != "" || len(lines) != 2 || lines[0] != c.want || !strings.Contains(lines[1], c.hint) {
			t.Errorf("rayflow %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2, no stdout, and\n%s\n(a hint with %q)",
				strings.Join(c.args, " "), code, out, errOut, c.want, c.hint)
		}
	}
}

// writeParamProgram writes a program with two pipelines that print their
// parameter, and returns its path.
func writeParamProgram(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "params.rayflow")
	src := "pipeline main(n: int = 1) { print(\"main\", n) }\npipeline other(n: int = 1) { print(\"other\", n) }\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Flags may stand before or after FILE, as `--f v` or `--f=v`; NAME=VALUE
// words are pipeline parameters; the spellings the earlier hand-written
// parser read (`-cpus 1`, `--p other`) still work.
func TestFlagsBeforeOrAfterFileAndParams(t *testing.T) {
	prog := writeParamProgram(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", prog}, "main 1\n"},
		{[]string{"run", prog, "n=5"}, "main 5\n"},
		{[]string{"run", prog, "--cpus", "1", "n=5", "-p", "other"}, "other 5\n"},
		{[]string{"run", "--cpus=1", prog, "n=6", "--pipeline=other"}, "other 6\n"},
		{[]string{"run", "-p", "other", "--nodes", "2", prog, "--max-steps", "100000", "n=7"}, "other 7\n"},
		{[]string{"run", "n=8", prog, "-pother"}, "other 8\n"},
		{[]string{"run", prog, "-cpus", "1", "--p", "other", "n=9"}, "other 9\n"},
		{[]string{"run", prog, "--lineage", "off", "--lineage-forward-bound=3", "--gcs-delay", "1ms", "n=10"}, "main 10\n"},
		{[]string{"run", prog, "--resources", "gpu=1", "--object-store-memory", "64MB", "--data-dir", t.TempDir(), "n=11"}, "main 11\n"},
	} {
		code, out, errOut := invoke(t, c.args...)
		if code != exitOK || out != c.want {
			t.Errorf("rayflow %s: exit %d, stdout %q, want 0 and %q; stderr:\n%s", strings.Join(c.args, " "), code, out, c.want, errOut)
		}
	}
	// plan reads its flags and parameters the same way.
	code, out, errOut := invoke(t, "plan", prog, "n=3", "--dot", "-p", "other")
	if code != exitOK || !strings.HasPrefix(out, "digraph") || strings.Contains(out, "main") {
		t.Errorf("rayflow plan FILE n=3 --dot -p other: exit %d\n%s%s", code, out, errOut)
	}
	// check accepts (and ignores) parameters, as it always has.
	if code, _, errOut := invoke(t, "check", prog, "n=3"); code != exitOK {
		t.Errorf("rayflow check FILE n=3: exit %d\n%s", code, errOut)
	}
}

// A flag given to run with --address that only the embedded cluster
// takes is refused before connecting.
func TestEmbeddedOnlyFlagsRefusedWithAddress(t *testing.T) {
	prog := writeParamProgram(t)
	code, _, errOut := invoke(t, "run", prog, "--address", "127.0.0.1:1", "--nodes", "2")
	if code != exitUsage || !strings.Contains(errOut, "--nodes applies to the embedded cluster") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// Every flag of run lands in the option it names (the run tests only use
// a few of them, so a flag bound to the wrong field would go unnoticed).
func TestRunFlagsSetTheirOptions(t *testing.T) {
	var f runFlags
	args := []string{"prog.rayflow", "-p", "other", "--cpus", "3", "--nodes=2", "--resources", "gpu=1",
		"--object-store-memory", "512MB", "--data-dir", "/tmp/d", "--max-steps", "99", "--timeline", "t.json",
		"--lineage", "sync", "--lineage-forward-bound", "5", "--gcs-delay", "2ms", "n=7"}
	cl, err := parseCommand(f.flagSet(), args, fileAndParams)
	if err != nil {
		t.Fatal(err)
	}
	o := f.opts
	got := fmt.Sprintf("%s %s %d %d %v %d %s %d %s %s %d %v %v", cl.file, o.Pipeline, o.CPUs, o.Nodes, o.Resources,
		o.ObjectStoreMemory, o.DataDir, o.MaxSteps, o.Timeline, o.Lineage, o.ForwardBound, o.GCSDelay, cl.params)
	want := "prog.rayflow other 3 2 map[cpu:0 gpu:1 memory:0] 512000000 /tmp/d 99 t.json sync 5 2ms map[n:7]"
	if got != want {
		t.Errorf("run flags set\n%s\nwant\n%s", got, want)
	}
}
