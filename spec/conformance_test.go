package spec

// The conformance harness. TestMain builds cmd/rayflow once; TestConformance
// runs every testdata/*.rayflow through it and compares the result with the
// hand-written expectations next to the program. The file format is
// described in testdata/README.md.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/internal/clibuild"
	"github.com/rayflow/rayflow/planner"
)

const (
	// programTimeout bounds one `rayflow` invocation.
	programTimeout = 20 * time.Second
	// maxParallel bounds how many programs run at once; the reference
	// machines have two cores and every program starts its own node.
	maxParallel = 2
	// onlyEnv selects a subset of programs: comma-separated globs matched
	// against the program name without its extension (or the file name).
	onlyEnv = "RAYFLOW_SPEC_ONLY"
	// binEnv names a prebuilt rayflow binary to test instead of building
	// cmd/rayflow.
	binEnv = "RAYFLOW_SPEC_BIN"
)

var (
	rayflowBin string // path of the CLI built by TestMain
	buildErr   error  // why the build failed, reported by each test that needs it
	testdata   string // absolute path of spec/testdata
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spec:", err)
		return 1
	}
	testdata = filepath.Join(wd, "testdata")
	tmp, err := os.MkdirTemp("", "rayflow-spec-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "spec:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	defer stopSharedCluster()
	if bin := os.Getenv(binEnv); bin != "" {
		rayflowBin, err = filepath.Abs(bin)
		if err != nil {
			buildErr = err
		}
	} else {
		rayflowBin, buildErr = buildCLI(wd, tmp)
	}
	return m.Run()
}

// buildCLI builds cmd/rayflow into dir, from the module that contains start.
func buildCLI(start, dir string) (string, error) {
	root, err := clibuild.ModuleRoot(start)
	if err != nil {
		return "", err
	}
	return clibuild.Build(root, dir)
}

// program is one conformance program with its expectations.
type program struct {
	name     string   // file name without .rayflow
	cmd      string   // "run" (default) or "check"
	flags    []string // from `# flags:`, placed before the file
	args     []string // from `# args:`, placed after the file
	exit     int      // from `# exit:`, default 0
	out      *string  // NAME.out, if present: exact stdout
	errLines []string // non-empty lines of NAME.err, if present
	// clusterFacts, from `# cluster-facts: WHY`, says the program prints
	// facts of the cluster it runs on (sys.nodes()): elsewhere it is
	// checked for its exit code only.
	clusterFacts string
}

// headerKeys are the header lines a program may start with.
var headerKeys = map[string]bool{"exit": true, "args": true, "cmd": true, "flags": true, "cluster-facts": true}

// loadProgram reads NAME.rayflow and its expectation files.
func loadProgram(dir, name string) (*program, error) {
	src, err := os.ReadFile(filepath.Join(dir, name+".rayflow"))
	if err != nil {
		return nil, err
	}
	p := &program{name: name, cmd: "run"}
	// Header lines are `# key: value` comments among the leading comment
	// lines of the file; other leading comments are ignored.
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok || !headerKeys[strings.TrimSpace(key)] {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "exit":
			p.exit, err = strconv.Atoi(val)
			if err != nil {
				return nil, fmt.Errorf("%s.rayflow: bad `# exit:` header %q", name, val)
			}
		case "args":
			p.args = strings.Fields(val)
		case "flags":
			p.flags = strings.Fields(val)
		case "cmd":
			p.cmd = val
		case "cluster-facts":
			p.clusterFacts = val
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, name+".out")); err == nil {
		s := string(b)
		p.out = &s
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, name+".err")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				p.errLines = append(p.errLines, strings.TrimRight(l, "\r"))
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return p, nil
}

// programNames lists the programs in dir, sorted, filtered by onlyEnv.
func programNames(t *testing.T, dir string) []string {
	files, err := filepath.Glob(filepath.Join(dir, "*.rayflow"))
	if err != nil {
		t.Fatal(err)
	}
	var globs []string
	for _, g := range strings.Split(os.Getenv(onlyEnv), ",") {
		if g = strings.TrimSpace(g); g != "" {
			globs = append(globs, g)
		}
	}
	var names []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".rayflow")
		if selected(globs, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func selected(globs []string, name string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
		if ok, _ := filepath.Match(g, name+".rayflow"); ok {
			return true
		}
	}
	return false
}

// TestConformance runs every program embedded and checks it against its
// expectations; then (unless -short) runs it on three in-process nodes
// and on a real cluster of three `rayflow start` processes, which must
// print the same and exit the same (see sameEverywhere).
func TestConformance(t *testing.T) {
	eachProgram(t, func(t *testing.T, p *program, run func(*program) result) {
		embedded := run(p)
		check(t, p, embedded)
		if testing.Short() || p.cmd != "run" {
			return
		}
		for _, way := range elsewhere(t, p) {
			sameEverywhere(t, way, embedded, run(way))
		}
	})
}

// eachProgram runs body for every selected program, as parallel
// subtests; run runs one rayflow invocation, at most maxParallel at once.
func eachProgram(t *testing.T, body func(t *testing.T, p *program, run func(*program) result)) {
	names := programNames(t, testdata)
	if len(names) == 0 {
		t.Fatalf("no programs selected in %s (%s=%q)", testdata, onlyEnv, os.Getenv(onlyEnv))
	}
	if buildErr != nil {
		t.Fatalf("cannot build the rayflow CLI:\n%v", buildErr)
	}
	sem := make(chan struct{}, maxParallel)
	run := func(p *program) result {
		sem <- struct{}{}
		defer func() { <-sem }()
		return runProgram(p)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := loadProgram(testdata, name)
			if err != nil {
				t.Fatal(err)
			}
			body(t, p, run)
		})
	}
}

// optVariants are the ways TestConformanceWithHints runs each program:
// every hint off, every hint on wherever eligible, and that again on
// three in-process nodes. A hint changes speed, never results, so each
// must meet the program's expectations exactly.
var optVariants = [][]string{
	{"--opt", "none"},
	{"--opt", "none", "--nodes", "3"},
	{"--opt", planner.EveryHint()},
	{"--opt", planner.EveryHint(), "--nodes", "3"},
}

func TestConformanceWithHints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every program three more times")
	}
	eachProgram(t, func(t *testing.T, p *program, run func(*program) result) {
		if p.cmd != "run" || hasFlag(p.flags, "--address") {
			t.Skip("not a run on an embedded cluster")
		}
		if !hintsApply(t, p.name) {
			t.Skip("no hint applies: the plan is empty with every hint on, so the run is the default run")
		}
		for _, variant := range optVariants {
			v := *p
			v.flags = append(append([]string(nil), p.flags...), variant...)
			v.errLines = withoutWarnings(p.errLines)
			check(t, &v, run(&v))
		}
	})
}

// TestConformanceEachHint runs every program with each hint (and each
// bundle) turned on alone by --opt, wherever it applies, embedded and on
// three in-process nodes. With every hint on at once (above) a site's
// calls go in groups, and a grouped site is never placed by spread,
// locality or template: those are only tried alone.
func TestConformanceEachHint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs programs once or twice more for each hint that applies")
	}
	eachProgram(t, func(t *testing.T, p *program, run func(*program) result) {
		if p.cmd != "run" || hasFlag(p.flags, "--address") {
			t.Skip("not a run on an embedded cluster")
		}
		hints := appliedAlone(t, p.name)
		if len(hints) == 0 {
			t.Skip("no hint applies alone")
		}
		for _, hint := range hints {
			for _, nodes := range [][]string{nil, {"--nodes", "3"}} {
				v := *p
				v.flags = append(append(append([]string(nil), p.flags...), "--opt", hint), nodes...)
				v.errLines = withoutWarnings(p.errLines)
				check(t, &v, run(&v))
			}
		}
	})
}

// appliedAlone lists the --opt values, one hint or bundle each, under
// which the planner applies some hint that --opt asked for to the
// program (explain would print "applied: ... (--opt NAME)"); none for a
// program that does not compile.
func appliedAlone(t *testing.T, name string) []string {
	src, err := os.ReadFile(filepath.Join(testdata, name+".rayflow"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := frontend.Compile(name+".rayflow", string(src), nil)
	if err != nil {
		return nil
	}
	return planner.AppliedAlone(prog.Compiled)
}

// hintsApply reports whether some hint applies to the program with
// every hint on (rayflow explain says "applied"), or the source has a
// @hint. Otherwise every variant runs exactly the default plan (none),
// which TestConformance already checks.
func hintsApply(t *testing.T, name string) bool {
	src, err := os.ReadFile(filepath.Join(testdata, name+".rayflow"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("@hint")) {
		return true
	}
	cmd := exec.Command(rayflowBin, "explain", "--opt", optVariants[1][1], name+".rayflow")
	cmd.Dir = testdata
	out, _ := cmd.Output()
	return bytes.Contains(out, []byte(" applied: "))
}

// allWarnings reports whether every expected stderr line is a warning.
func allWarnings(lines []string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, "warning: ") {
			return false
		}
	}
	return true
}

// withoutWarnings drops the expected warnings: a hint refused in the
// source is warned about only when hints are on.
func withoutWarnings(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "warning: ") {
			out = append(out, l)
		}
	}
	return out
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if f == name || strings.HasPrefix(f, name+"=") {
			return true
		}
	}
	return false
}

// result is what one `rayflow` invocation did.
type result struct {
	argv     []string
	stdout   string
	stderr   string
	exit     int
	timedOut bool
	startErr error
}

func runProgram(p *program) result {
	argv := []string{p.cmd}
	argv = append(argv, p.flags...)
	argv = append(argv, p.name+".rayflow")
	argv = append(argv, p.args...)
	ctx, cancel := context.WithTimeout(context.Background(), programTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rayflowBin, argv...)
	cmd.Dir = testdata
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=dumb")
	// Do not wait forever for pipes held open by stray children.
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{argv: append([]string{"rayflow"}, argv...), stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.timedOut = true
		res.exit = -1
	case err == nil:
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitCode()
	default:
		res.startErr = err
		res.exit = -1
	}
	return res
}

// check compares a result with the program's expectations and reports every
// difference at once.
func check(t *testing.T, p *program, res result) {
	t.Helper()
	problems := endProblems(t, res, p.exit, "want")
	if p.out != nil && res.stdout != *p.out {
		problems = append(problems, "stdout differs (-want +got):\n"+diff(*p.out, res.stdout))
	}
	if missing := missingLines(p.errLines, res.stderr); len(missing) > 0 {
		problems = append(problems, "stderr lacks, in order:\n\t"+strings.Join(missing, "\n\t"))
	}
	if len(problems) == 0 {
		return
	}
	t.Errorf("%s (in spec/testdata)\n%s\n--- stdout ---\n%s--- stderr ---\n%s",
		strings.Join(res.argv, " "), strings.Join(problems, "\n"), res.stdout, res.stderr)
}

// endProblems fails the test when the run did not start and otherwise
// lists what is wrong with how it ended: a timeout, an exit code other
// than want (named by wantIs in the message), a Go panic that reached
// the user. check and sameEverywhere both start from it.
func endProblems(t *testing.T, res result, want int, wantIs string) []string {
	t.Helper()
	if res.startErr != nil {
		t.Fatalf("%s: %v", strings.Join(res.argv, " "), res.startErr)
	}
	var problems []string
	if res.timedOut {
		problems = append(problems, fmt.Sprintf("timed out after %v", programTimeout))
	} else if res.exit != want {
		problems = append(problems, fmt.Sprintf("exit code %d, %s %d", res.exit, wantIs, want))
	}
	if s := leakedPanic(res.stderr + res.stdout); s != "" {
		problems = append(problems, "a Go panic reached the user ("+s+")")
	}
	return problems
}

// missingLines returns the first expected line that is not found in stderr
// after the previous one, followed by every line after it.
func missingLines(want []string, stderr string) []string {
	rest := stderr
	for i, w := range want {
		j := strings.Index(rest, w)
		if j < 0 {
			return want[i:]
		}
		rest = rest[j+len(w):]
	}
	return nil
}

// leakedPanic reports the marker of a Go panic or goroutine dump, which a
// user must never see (LANGUAGE.md, Errors).
func leakedPanic(s string) string {
	for _, m := range []string{"panic: ", "goroutine 1 [", "runtime/debug.Stack"} {
		if strings.Contains(s, m) {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// diff renders a line diff of want and got: unchanged lines start with two
// spaces, missing lines with "- ", extra lines with "+ ".
func diff(want, got string) string {
	a, b := splitLines(want), splitLines(got)
	// Longest common subsequence table; outputs are small.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			sb.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			sb.WriteString("+ " + b[j] + "\n")
			j++
		default:
			sb.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return sb.String()
}

// splitLines splits s into lines, making a missing final newline visible.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	lines[len(lines)-1] += "⏎(no newline at end)"
	return lines
}

// TestUsageErrors checks the exit code of command lines that are wrong
// before any program runs (LANGUAGE.md: 2 is a usage error).
func TestUsageErrors(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("cannot build the rayflow CLI:\n%v", buildErr)
	}
	for _, argv := range [][]string{
		{"run", "no_such_file.rayflow"},
		{"run", "--no-such-flag", "lex_comments.rayflow"},
		{"check", "no_such_file.rayflow"},
	} {
		res := runProgram(&program{cmd: argv[0], flags: argv[1 : len(argv)-1], name: strings.TrimSuffix(argv[len(argv)-1], ".rayflow")})
		if res.startErr != nil || res.timedOut || res.exit != 2 {
			t.Errorf("%s: exit %d (timed out %v, %v), want 2\nstderr:\n%s",
				strings.Join(res.argv, " "), res.exit, res.timedOut, res.startErr, res.stderr)
		}
		if s := leakedPanic(res.stderr + res.stdout); s != "" {
			t.Errorf("%s: a Go panic reached the user", strings.Join(res.argv, " "))
		}
	}
}

// TestCorpusWellFormed checks the corpus itself, without the CLI: every
// expectation file belongs to a program, every program starts with a
// comment saying what it checks, and its headers parse.
func TestCorpusWellFormed(t *testing.T) {
	entries, err := os.ReadDir(testdata)
	if err != nil {
		t.Fatal(err)
	}
	progs := map[string]bool{}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".rayflow"); ok {
			progs[n] = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		base := strings.TrimSuffix(name, ext)
		switch ext {
		case ".rayflow":
			p, err := loadProgram(testdata, base)
			if err != nil {
				t.Error(err)
				continue
			}
			src, _ := os.ReadFile(filepath.Join(testdata, name))
			if !bytes.HasPrefix(src, []byte("# ")) {
				t.Errorf("%s: must start with a one-line comment saying what it checks", name)
			}
			if p.cmd != "run" && p.cmd != "check" {
				t.Errorf("%s: unknown `# cmd: %s`", name, p.cmd)
			}
			if len(p.errLines) > 0 && p.exit == 0 && !allWarnings(p.errLines) {
				t.Errorf("%s: has a .err file but expects exit 0 (only warnings may go with exit 0)", name)
			}
		case ".out", ".err":
			if !progs[base] {
				t.Errorf("%s has no %s.rayflow", name, base)
			}
		case ".md":
		default:
			t.Errorf("unexpected file %s in testdata", name)
		}
	}
}

// TestHarness checks the comparison helpers.
func TestHarness(t *testing.T) {
	if m := missingLines([]string{"a.rayflow:1:2: error:", "boom", "in main"}, "a.rayflow:1:2: error: boom\na.rayflow:3:1 in main\n"); m != nil {
		t.Errorf("missingLines reported %q", m)
	}
	if m := missingLines([]string{"in main", "boom"}, "boom\nin main\n"); len(m) != 1 || m[0] != "boom" {
		t.Errorf("missingLines must respect order, got %q", m)
	}
	if d := diff("a\nb\nc\n", "a\nx\nc\n"); d != "  a\n+ x\n- b\n  c\n" && d != "  a\n- b\n+ x\n  c\n" {
		t.Errorf("diff = %q", d)
	}
	if !selected([]string{"task_*"}, "task_basic") || selected([]string{"task_*"}, "actor_basic") {
		t.Error("selected does not match globs")
	}
}

// TestSourcesConsulted makes this package's cached result depend on the
// module's sources, which the binary under test is built from.
func TestSourcesConsulted(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := clibuild.ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	clibuild.StatSources(root)
}
