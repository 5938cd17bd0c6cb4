package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/internal/clibuild"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/planner"
)

// runTimeout bounds one run of an example; every example must finish well
// under a minute on 2 cores with its defaults.
const runTimeout = 60 * time.Second

var (
	rayflowBin string // the CLI built by TestMain
	buildErr   error  // why it could not be built, reported by every test
	repoRoot   string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples_test:", err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "rayflow-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples_test:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	rayflowBin, buildErr = clibuild.Build(repoRoot, dir)
	defer stopSharedCluster()
	return m.Run()
}

// result is what one run of the CLI produced.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// run runs `rayflow run ARGS...` from the repository root.
func run(t *testing.T, args ...string) result {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rayflowBin, append([]string{"run"}, args...)...)
	cmd.Dir = repoRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("rayflow run %s: still running after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), runTimeout, r.stdout, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("rayflow run %s: %v", strings.Join(args, " "), err)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Errorf("rayflow run %s: a Go panic reached the user:\n%s", strings.Join(args, " "), r.stderr)
	}
	t.Logf("rayflow run %s: exit %d in %v", strings.Join(args, " "), r.code, r.elapsed.Round(time.Millisecond))
	return r
}

// mustSucceed runs the CLI and fails the test unless it exits 0.
func mustSucceed(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("rayflow run %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantLine fails unless some line of out matches the regular expression.
func wantLine(t *testing.T, out, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			return m
		}
	}
	t.Fatalf("no line of output matches %q; output:\n%s", pattern, out)
	return nil
}

// examples maps each example to its test; TestEveryExampleIsTested keeps
// the two in step.
var examples = map[string]func(t *testing.T){
	"hello.rayflow":            testHello,
	"pi.rayflow":               testPi,
	"wordcount.rayflow":        testWordcount,
	"parameter_server.rayflow": testParameterServer,
	"es_cartpole.rayflow":      testESCartPole,
	"serve_policy.rayflow":     testServePolicy,
}

func TestExamples(t *testing.T) {
	for name, test := range examples {
		t.Run(strings.TrimSuffix(name, ".rayflow"), func(t *testing.T) {
			t.Parallel()
			test(t)
		})
	}
}

// TestEveryExampleIsTested checks that every example has a test here and
// opens with the comment block that says what it shows and how to run it.
func TestEveryExampleIsTested(t *testing.T) {
	files, err := filepath.Glob("*.rayflow")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		if _, ok := examples[f]; !ok {
			t.Errorf("%s has no test in examples_test.go", f)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(src, []byte("# ")) {
			t.Errorf("%s does not open with a comment saying what it shows", f)
		}
		if !bytes.Contains(src, []byte("rayflow run examples/"+f)) {
			t.Errorf("%s does not say how to run it (rayflow run examples/%s)", f, f)
		}
	}
	for name := range examples {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("examples_test.go tests %s, which does not exist", name)
		}
	}
}

func testHello(t *testing.T) {
	r := mustSucceed(t, "examples/hello.rayflow")
	wantLine(t, r.stdout, `^Hello, world! \(from a task on node .+\)$`)
	r = mustSucceed(t, "examples/hello.rayflow", "name=rayflow")
	wantLine(t, r.stdout, `^Hello, rayflow! `)
}

func testPi(t *testing.T) {
	r := mustSucceed(t, "examples/pi.rayflow", "tasks=4", "samples=20000")
	m := wantLine(t, r.stdout, `^pi ~= (\S+) from 80000 samples in 4 tasks$`)
	pi, err := strconv.ParseFloat(m[1], 64)
	if err != nil || pi < 3.1 || pi > 3.2 {
		t.Errorf("estimate %q is not close to pi", m[1])
	}
	// Each task seeds its own generator, so the estimate does not depend
	// on how the tasks are spread over nodes.
	spread := mustSucceed(t, "--nodes", "3", "--cpus", "1", "examples/pi.rayflow", "tasks=4", "samples=20000")
	if spread.stdout != r.stdout {
		t.Errorf("pi on 3 nodes printed\n%s\nbut on one node\n%s", spread.stdout, r.stdout)
	}
}

func testWordcount(t *testing.T) {
	r := mustSucceed(t, "examples/wordcount.rayflow")
	wantLine(t, r.stdout, `^4 files, 925 words, 314 distinct$`)
	wantLine(t, r.stdout, `^ 1\. the +128$`)
	wantLine(t, r.stdout, `^10\. \S+ +\d+$`)
	if n := strings.Count(r.stdout, "\n"); n != 11 {
		t.Errorf("printed %d lines, want a summary and the top 10:\n%s", n, r.stdout)
	}
	r = mustSucceed(t, "examples/wordcount.rayflow", "top=3")
	if n := strings.Count(r.stdout, "\n"); n != 4 {
		t.Errorf("top=3 printed %d lines, want 4:\n%s", n, r.stdout)
	}
}

func testParameterServer(t *testing.T) {
	r := mustSucceed(t, "examples/parameter_server.rayflow", "workers=2", "samples=500", "iters=30")
	first := wantLine(t, r.stdout, `^iter +1 +loss (\S+)$`)
	last := wantLine(t, r.stdout, `^iter +30 +loss (\S+)$`)
	l0, err0 := strconv.ParseFloat(first[1], 64)
	l1, err1 := strconv.ParseFloat(last[1], 64)
	if err0 != nil || err1 != nil {
		t.Fatalf("unparsable losses %q, %q", first[1], last[1])
	}
	// The data's noise has variance 0.01: the loss must fall close to it.
	if !(l1 < l0/100 && l1 < 0.05) {
		t.Errorf("loss went from %v to %v; want it to fall below 0.05", l0, l1)
	}
	m := wantLine(t, r.stdout, `^learned weights: \[(.*)\]$`)
	want := []float64{2.0, -3.0, 0.5, 1.5, -1.0} // TRUE_W in the example
	got := strings.Split(m[1], ", ")
	if len(got) != len(want) {
		t.Fatalf("learned weights %q, want %d of them", m[1], len(want))
	}
	for i, s := range got {
		w, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(w-want[i]) > 0.05 {
			t.Errorf("learned weight %d is %s, want %v within 0.05", i, s, want[i])
		}
	}
}

func testESCartPole(t *testing.T) {
	// With its defaults, as a user first runs it: it must reach 500.
	r := mustSucceed(t, "examples/es_cartpole.rayflow")
	wantLine(t, r.stdout, `^iter +1 +mean reward +[0-9.]+ +best reward +[0-9.]+$`)
	wantLine(t, r.stdout, `^iter +\d+ +mean reward +500\.0 +best reward +500\.0$`)
	wantLine(t, r.stdout, `^reached the maximum reward of 500`)
	// Perturbations are regenerated from seeds, so runs are identical.
	again := mustSucceed(t, "examples/es_cartpole.rayflow")
	if again.stdout != r.stdout {
		t.Errorf("two runs with the same seed differ:\n%s\n---\n%s", r.stdout, again.stdout)
	}
}

// TestSourcesConsulted makes this package's cached result depend on the
// module's sources, which the binary under test is built from.
func TestSourcesConsulted(t *testing.T) {
	clibuild.StatSources(repoRoot)
}

// hintVariants are the ways TestExamplesWithHints runs every example: a
// hint changes speed, never results, so each prints exactly what the
// default run prints.
var hintVariants = [][]string{
	{"--opt", "none"},
	{"--opt", "none", "--nodes", "3"},
	{"--opt", planner.EveryHint()},
	{"--opt", planner.EveryHint(), "--nodes", "3"},
}

// soloVariants adds to hintVariants each hint and bundle alone where it
// applies to the example, embedded and on three nodes: with every hint
// on at once a grouped call site is never placed, so spread, locality
// and template would never run against the examples.
func soloVariants(t *testing.T, name string) [][]string {
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := frontend.Compile(name, string(src), nil)
	if err != nil {
		t.Fatalf("examples/%s does not compile: %v", name, err)
	}
	variants := append([][]string(nil), hintVariants...)
	for _, opt := range planner.AppliedAlone(prog.Compiled) {
		variants = append(variants, []string{"--opt", opt}, []string{"--opt", opt, "--nodes", "3"})
	}
	return variants
}

func TestExamplesWithHints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example again with each hint")
	}
	for name := range examples {
		t.Run(strings.TrimSuffix(name, ".rayflow"), func(t *testing.T) {
			t.Parallel()
			want := run(t, "examples/"+name)
			for _, v := range soloVariants(t, name) {
				got := run(t, append(append([]string(nil), v...), "examples/"+name)...)
				if got.stdout != want.stdout || got.code != want.code {
					t.Errorf("rayflow run %s examples/%s: exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s",
						strings.Join(v, " "), name, got.code, got.stdout, want.code, want.stdout)
				}
			}
		})
	}
}

// shared is the real cluster TestExamplesOnACluster runs every example on:
// three `rayflow start` processes, started by the first example.
var shared struct {
	once    sync.Once
	cluster *testutil.Cluster
	err     error
}

func sharedCluster(t *testing.T) *testutil.Cluster {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	shared.once.Do(func() {
		shared.cluster, shared.err = testutil.StartCluster(rayflowBin, 3, runtime.NumCPU())
	})
	if shared.err != nil {
		t.Fatalf("cannot start the shared cluster: %v", shared.err)
	}
	return shared.cluster
}

func stopSharedCluster() {
	if shared.cluster != nil {
		shared.cluster.Stop()
	}
}

// Every example prints the same on a real cluster of three `rayflow
// start` processes as embedded (node names aside), and exits the same.
func TestExamplesOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := sharedCluster(t)
	for name := range examples {
		t.Run(strings.TrimSuffix(name, ".rayflow"), func(t *testing.T) {
			t.Parallel()
			want := run(t, "examples/"+name)
			got := run(t, "--address", c.Address, "examples/"+name)
			if testutil.WithoutPlaces(got.stdout) != testutil.WithoutPlaces(want.stdout) || got.code != want.code {
				t.Errorf("rayflow run --address examples/%s: exit %d, stdout:\n%s\nstderr:\n%s\nembedded: exit %d, stdout:\n%s",
					name, got.code, got.stdout, got.stderr, want.code, want.stdout)
			}
		})
	}
}
