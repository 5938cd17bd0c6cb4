package nodeagent_test

// The rayflow side of the task, actor and object benchmarks against Dask
// (bench/README.md, bench/peers/dask_tasks.py). Each benchmark runs one
// pipeline of bench/rayflow/tasks.rayflow on a fresh one-node in-process
// cluster; the pipeline times itself with time.monotonic() after a warm-up,
// so cluster start-up and compilation are not counted, and returns its
// figures, which are reported (median over the b.N runs) with
// b.ReportMetric. Run a few runs of each:
//
//	go test ./nodeagent -run XXX -bench RF -benchtime 3x -count 1
//
// This is an external test package because the root package rayflow
// imports nodeagent.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

func compileBench(tb testing.TB, name string) *rayflow.Program {
	tb.Helper()
	path := filepath.Join("..", "bench", "rayflow", name)
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := rayflow.Compile(path, string(src), nil)
	if err != nil {
		tb.Fatal(rayflow.FormatError(err, string(src)))
	}
	return prog
}

// runPipeline runs one pipeline on a fresh cluster and returns its result.
func runPipeline(tb testing.TB, prog *rayflow.Program, pipeline string, params map[string]string) exec.Value {
	tb.Helper()
	// RF_LINEAGE is --lineage for the benchmarks (stash, sync or off;
	// the default is the default's, stash).
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, Lineage: os.Getenv("RF_LINEAGE")})
	if err != nil {
		tb.Fatal(err)
	}
	defer cluster.Shutdown("benchmark done")
	// RF_OPT is --opt for the benchmarks ("none" to measure without
	// hints; the default is the default's, adaptive).
	v, err := prog.Run(context.Background(), rayflow.RunOptions{Pipeline: pipeline, Params: params, Cluster: cluster, Opt: os.Getenv("RF_OPT")})
	if err != nil {
		tb.Fatal(rayflow.FormatError(err, prog.Source))
	}
	return v
}

// figures reads the map of named numbers a bench pipeline returns.
func figures(tb testing.TB, v exec.Value) map[string]float64 {
	tb.Helper()
	if v.Kind() != exec.MapKind {
		tb.Fatalf("bench pipeline returned a %s, not a map", v.TypeName())
	}
	m := v.AsMap()
	out := map[string]float64{}
	for i, k := range m.Keys() {
		out[k.AsString()] = m.Values()[i].Number()
	}
	return out
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// scaled is n times $RF_SCALE (default 1, at least 2), as a parameter:
// bench/run.sh passes PEER_SCALE here too, so that both sides of the
// comparison run the same counts.
func scaled(n int) map[string]string {
	scale := 1.0
	if s := os.Getenv("RF_SCALE"); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			scale = f
		}
	}
	return map[string]string{"n": strconv.Itoa(max(2, int(float64(n)*scale)))}
}

// benchPipeline runs the pipeline b.N times and reports, for each figure
// it returns and each (name, unit) in metrics, the median over the runs.
// With $RF_BENCH_JSONL set, it also appends every run's figures to that
// file as JSON lines in the format of bench/peers/dask_tasks.py, for
// bench/run.sh's summary.
func benchPipeline(b *testing.B, pipeline string, params map[string]string, metrics [][2]string) {
	prog := compileBench(b, "tasks.rayflow")
	got := map[string][]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, v := range figures(b, runPipeline(b, prog, pipeline, params)) {
			got[k] = append(got[k], v)
		}
	}
	b.StopTimer()
	if path := os.Getenv("RF_BENCH_JSONL"); path != "" {
		writeJSONL(b, path, got, metrics)
	}
	for _, m := range metrics {
		xs, ok := got[m[0]]
		if !ok {
			b.Fatalf("pipeline %s did not return %q", pipeline, m[0])
		}
		b.ReportMetric(median(xs), m[1])
	}
}

// jsonUnits are the units of dask_tasks.py for the figures.
var jsonUnits = map[string]string{
	"first_result_after_startup": "ms", "tasks_submit_then_get": "tasks/s",
	"task_round_trip_median": "us", "task_round_trip_p99": "us",
	"chain_dependent_tasks": "ms", "tree_reduction": "ms",
	"actor_calls_sequential": "calls/s", "actor_calls_pipelined": "calls/s",
	"put_100mb": "ms", "get_100mb": "ms", "put_get_100mb": "ms",
}

func writeJSONL(b *testing.B, path string, got map[string][]float64, metrics [][2]string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, m := range metrics {
		for run, v := range got[m[0]] {
			rec := map[string]any{"bench": m[0], "value": v, "unit": jsonUnits[m[0]], "peer": "rayflow",
				"run": run + 1, "go_bench": b.Name()}
			if err := enc.Encode(rec); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// 20,000 empty tasks submitted, then all gotten.
func BenchmarkRFTaskThroughput(b *testing.B) {
	benchPipeline(b, "throughput", scaled(20000), [][2]string{{"tasks_submit_then_get", "tasks/s"}})
}

// 2,000 sequential get(task()) round trips.
func BenchmarkRFRoundTrip(b *testing.B) {
	benchPipeline(b, "round_trip", scaled(2000), [][2]string{
		{"task_round_trip_median", "µs-p50"}, {"task_round_trip_p99", "µs-p99"}})
}

// A chain of 1,000 dependent tasks.
func BenchmarkRFChain(b *testing.B) {
	benchPipeline(b, "chain", scaled(1000), [][2]string{{"chain_dependent_tasks", "ms-chain"}})
}

// A 10,000-leaf pairwise tree reduction (19,999 tasks).
func BenchmarkRFTree(b *testing.B) {
	benchPipeline(b, "tree", scaled(10000), [][2]string{{"tree_reduction", "ms-tree"}})
}

// 5,000 sequential, then 5,000 pipelined actor method calls.
func BenchmarkRFActorCalls(b *testing.B) {
	benchPipeline(b, "actor_calls", scaled(5000), [][2]string{
		{"actor_calls_sequential", "calls/s-seq"}, {"actor_calls_pipelined", "calls/s-pipe"}})
}

// put, then get, of a 100 MB float64 tensor.
func BenchmarkRFPutGet100MB(b *testing.B) {
	benchPipeline(b, "put_get", nil, [][2]string{
		{"put_100mb", "ms-put"}, {"get_100mb", "ms-get"}, {"put_get_100mb", "ms-putget"}})
}

// One empty task on a fresh cluster.
func BenchmarkRFFirstResult(b *testing.B) {
	benchPipeline(b, "first_result", nil, [][2]string{{"first_result_after_startup", "ms-first"}})
}

// BenchmarkRFSubmitGet is the per-task cost, b.N empty tasks submitted and
// then gotten (ns/op is per task), for profiling the task path:
//
//	go test ./nodeagent -run XXX -bench RFSubmitGet -benchtime 200000x -cpuprofile cpu.out
func BenchmarkRFSubmitGet(b *testing.B) {
	prog := compileBench(b, "tasks.rayflow")
	n := strconv.Itoa(max(2, b.N))
	b.ResetTimer()
	runPipeline(b, prog, "throughput", map[string]string{"n": n})
}

// BenchmarkRFRoundTripOp is b.N sequential get(task()) (ns/op is one
// round trip), for profiling the round-trip path.
func BenchmarkRFRoundTripOp(b *testing.B) {
	prog := compileBench(b, "tasks.rayflow")
	n := strconv.Itoa(max(2, b.N))
	b.ResetTimer()
	runPipeline(b, prog, "round_trip", map[string]string{"n": n})
}

// BenchmarkRFMillionTasks queues 1,000,000 empty tasks on one node, then
// gets them all, and reports the process's peak RSS (getrusage; run it on
// its own, as bench/run.sh does, so that no earlier benchmark has raised
// the peak) and the Go heap's peak from the runtime.
func BenchmarkRFMillionTasks(b *testing.B) {
	prog := compileBench(b, "million.rayflow")
	n := os.Getenv("RF_MILLION_N")
	if n == "" {
		n = "1000000"
	}
	for i := 0; i < b.N; i++ {
		cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, Stdout: os.Stderr})
		if err != nil {
			b.Fatal(err)
		}
		_, err = prog.Run(context.Background(), rayflow.RunOptions{Params: map[string]string{"n": n}, Cluster: cluster})
		cluster.Shutdown("benchmark done")
		if err != nil {
			b.Fatal(rayflow.FormatError(err, prog.Source))
		}
	}
	b.StopTimer()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "MB-peak-rss") // Maxrss is in KiB on Linux
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MB-heap-sys")
}
