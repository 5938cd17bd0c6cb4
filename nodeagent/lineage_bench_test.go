package nodeagent

// Benchmarks of the lineage stash over in-process nodes that talk over
// real loopback sockets (issue 5, BENCHMARKS.md). Internal to the package
// because the networked cluster has no GCS-delay knob (Config.GCSDelay is
// only applied to the embedded GCS): the benchmark wraps each process's
// head store in delayedStore itself.
//
//	go test ./nodeagent -run XXX -bench 'LineageBound|ClusterTasks' -benchtime 3x
//	go test ./nodeagent -run XXX -bench ClusterTasks -benchtime 20000x -cpuprofile /tmp/cluster.prof

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/stash"
)

// lineageBenchCluster is a head, n nodes and a driver in this process,
// each on its own 127.0.0.1 port. Node i (the head is node 0) offers one
// unit of the custom resource "r<i>", so tasks can be pinned to nodes.
type lineageBenchCluster struct {
	head   *Head
	nodes  []*Cluster // head's cluster first
	driver *Cluster
}

func startLineageBenchCluster(b *testing.B, n int, mode string, bound int, delay time.Duration) *lineageBenchCluster {
	b.Helper()
	lc := &lineageBenchCluster{}
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head",
		Lineage: mode, ForwardBound: bound, Resources: map[string]float64{"r0": 1}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(head.Close)
	lc.head = head
	lc.nodes = append(lc.nodes, head.Cluster)
	for i := 1; i <= n; i++ {
		c, err := JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", Config{CPUs: 1,
			NodeID: fmt.Sprintf("n%d", i), Lineage: mode, ForwardBound: bound,
			Resources: map[string]float64{fmt.Sprintf("r%d", i): 1}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Shutdown("benchmark done") })
		lc.nodes = append(lc.nodes, c)
	}
	driver, err := ConnectDriver([]string{head.Cluster.Address()}, Config{Lineage: mode, ForwardBound: bound})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { driver.Shutdown("benchmark done") })
	lc.driver = driver
	if delay > 0 {
		// The knob the networked cluster lacks: every GCS write of every
		// process's stash is slowed by delay.
		for _, c := range lc.all() {
			old := c.lineage
			m, err := stash.ParseMode(mode)
			if err != nil {
				b.Fatal(err)
			}
			c.lineage = newLineage(m, c.Head().ID, delayedStore{headStore{c.net}, delay}, bound, nil)
			old.close()
		}
	}
	return lc
}

func (lc *lineageBenchCluster) all() []*Cluster {
	return append(append([]*Cluster{}, lc.nodes...), lc.driver)
}

// run loads source on the driver and runs one pipeline.
func (lc *lineageBenchCluster) run(b *testing.B, job, source, pipeline string, kw ...exec.Kwarg) exec.Value {
	b.Helper()
	th := lc.driver.NewThread(job)
	prog, err := LoadProgram(th, "bench.rayflow", source)
	if err != nil {
		b.Fatal(err)
	}
	if err := lc.driver.RegisterProgram(prog, source); err != nil {
		b.Fatal(err)
	}
	fn, ok := prog.Pipeline(pipeline)
	if !ok {
		b.Fatalf("no pipeline %s", pipeline)
	}
	args, err := fn.BindArgs(th, nil, kw)
	if err != nil {
		b.Fatal(err)
	}
	v, rerr := fn.Run(th, args)
	if rerr != nil {
		b.Fatal(rerr.Report())
	}
	return v
}

// hopSource is a chain of nested tasks that visits nodes 1, 2, ..., ring,
// 1, ...: each hop runs on the node whose resource it needs, makes the
// next link of a data-dependent chain (inc of the previous link, which it
// holds as a future inside a list) and submits the next hop from there
// with that link as a top-level argument. The next hop's lineage is then
// the uncommitted chain the receiver lacks, forwarded from process to
// process: without the bound its oldest entries travel one more hop at
// every step (up to ring-1 hops, after which they reach a process that
// already has them).
func hopSource(ring int) string {
	var sb strings.Builder
	sb.WriteString("@resources(cpu=0)\ntask inc(x: int) -> int { return x + 1 }\n")
	for i := 1; i <= ring; i++ {
		fmt.Fprintf(&sb, `@resources(cpu=0, r%d=1)
task h%d(k: int, v: int, box: list) -> int {
    if k == 0 { return v }
    let g = inc(box[0])
    return get(h%d(k - 1, g, [g]))
}
`, i, i, i%ring+1)
	}
	sb.WriteString(`pipeline main(depth: int = 48) {
    let f = inc(0)
    let v = get(h1(depth, f, [f]))
    if v != depth + 1 { fail("chain: got {}".format(v)) }
    return v
}
`)
	return sb.String()
}

// BenchmarkLineageBound runs a chain of 60 nested tasks over a ring of 12
// nodes (plus head and driver) with every GCS write delayed by 20 ms, and
// samples every process's stash every 200 µs: the most hops any held
// entry has travelled (must stay within the forwarding bound) and the
// most uncommitted entries any process held.
func BenchmarkLineageBound(b *testing.B) {
	const delay = 20 * time.Millisecond
	const depth = 60
	const ring = 12
	src := hopSource(ring)
	// bound=-1 disables the bound, to show what it prevents.
	for _, bound := range []int{2, 4, 8, -1} {
		b.Run(fmt.Sprintf("bound=%d", bound), func(b *testing.B) {
			lc := startLineageBenchCluster(b, ring, "stash", bound, delay)
			var maxHops, maxUncommitted int
			var syncFlushes, boundErrors uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(200 * time.Microsecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					for _, c := range lc.all() {
						st := c.LineageStats()
						maxHops = max(maxHops, st.MaxHops)
						maxUncommitted = max(maxUncommitted, st.Uncommitted)
					}
				}
			}()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lc.run(b, fmt.Sprintf("hop%d", i), src, "main", exec.Kwarg{Name: "depth", Value: exec.Int(depth)})
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			for _, c := range lc.all() {
				st := c.LineageStats()
				syncFlushes += st.SyncFlushes
				boundErrors += st.BoundErrors
			}
			b.ReportMetric(float64(maxHops), "max-hops")
			b.ReportMetric(float64(maxUncommitted), "max-uncommitted")
			b.ReportMetric(float64(syncFlushes)/float64(b.N), "sync-flushes/chain")
			b.ReportMetric(float64(boundErrors), "bound-errors")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/depth, "ms/hop")
			if bound > 0 && maxHops > bound {
				b.Errorf("uncommitted lineage travelled %d hops, over the bound %d", maxHops, bound)
			}
		})
	}
}

const tasksSource = `
task noop(i) { return none }
pipeline main(n: int = 1000) {
    get([noop(i) for i in range(n)])
    return n
}
`

// BenchmarkClusterTasks submits b.N empty tasks from a driver to a head
// and two nodes (one CPU each) over loopback and gets them all: ns/op is
// one task through the networked task path, for profiling.
func BenchmarkClusterTasks(b *testing.B) {
	for _, mode := range []string{"off", "stash", "sync"} {
		b.Run("lineage="+mode, func(b *testing.B) {
			lc := startLineageBenchCluster(b, 2, mode, 0, 0)
			lc.run(b, "warm", tasksSource, "main", exec.Kwarg{Name: "n", Value: exec.Int(200)})
			b.ResetTimer()
			lc.run(b, "bench", tasksSource, "main", exec.Kwarg{Name: "n", Value: exec.Int(int64(b.N))})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}
