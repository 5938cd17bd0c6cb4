package nodeagent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// releaseCluster is a head and a worker, each with one CPU, in this
// process on their own loopback ports.
func releaseCluster(t *testing.T) (*Head, *Cluster) {
	t.Helper()
	return releaseClusterDeadAfter(t, 0)
}

// releaseClusterDeadAfter is releaseCluster with the head's dead timeout
// (--dead-after; 0 for the default).
func releaseClusterDeadAfter(t *testing.T, deadAfter time.Duration) (*Head, *Cluster) {
	t.Helper()
	return startPair(t, HeadConfig{DeadAfter: deadAfter, Node: Config{CPUs: 1, NodeID: "head"}}, Config{CPUs: 1, NodeID: "worker"})
}

// startPair starts a head with hc and a worker with wc, which joins it,
// in this process on their own loopback ports; both end with the test.
func startPair(t *testing.T, hc HeadConfig, wc Config) (*Head, *Cluster) {
	t.Helper()
	hc.Listen = "127.0.0.1:0"
	head, err := StartHead(hc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	worker, err := JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", wc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { worker.Shutdown("test over") })
	return head, worker
}

func connectDriver(t *testing.T, head *Head) *Cluster {
	t.Helper()
	d, err := ConnectDriver([]string{head.Cluster.Address()}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown("test over") })
	return d
}

// bigResults makes large results (16 KB each, above InlineLimit) on the
// nodes, some read by the driver and some by other tasks.
const bigResults = `
task big(i) { return nd.full([2000], 1.0 * i) }
task nested(i) { return nd.sum(get(big(i))) }
pipeline main() {
    let total = 0.0
    for p in get([big(i) for i in range(6)]) { total += nd.sum(p) }
    return total + sum(get([nested(i) for i in range(4)]))
}`

// runJob runs source's main pipeline as job on the driver.
func runJob(t *testing.T, driver *Cluster, job, source string) exec.Value {
	t.Helper()
	th := driver.NewThread(job)
	prog, err := LoadProgram(th, "job.rayflow", source)
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.RegisterProgram(prog, source); err != nil {
		t.Fatal(err)
	}
	fn, _ := prog.Pipeline("main")
	args, err := fn.BindArgs(th, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, rerr := fn.Run(th, args)
	if rerr != nil {
		t.Fatal(rerr.Report())
	}
	return v
}

// heldFor counts what a process keeps for a job: objects it serves, and
// results it awaits.
func heldFor(c *Cluster, job string) (served, awaited int) {
	nw := c.net
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for id := range nw.served {
		if strings.HasPrefix(id, job+".") {
			served++
		}
	}
	awaited = nw.ow.CountAwaited(func(id string) bool { return strings.HasPrefix(id, job+".") })
	return served, awaited
}

// servedFor counts the objects of a job the processes cs serve.
func servedFor(job string, cs ...*Cluster) int {
	n := 0
	for _, c := range cs {
		s, _ := heldFor(c, job)
		n += s
	}
	return n
}

func flushAll(t *testing.T, cs ...*Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range cs {
		if err := c.FlushLineage(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// When a driver leaves, the nodes drop the large results they served for
// its jobs, and the heads delete the jobs' task rows from the GCS: a
// long-lived cluster does not grow with every job it ran.
func TestDriverLeavingReleasesItsJobs(t *testing.T) {
	head, worker := releaseCluster(t)
	for _, job := range []string{"jobr1", "jobr2"} {
		driver := connectDriver(t, head)
		if v := runJob(t, driver, job, bigResults); v.AsFloat() != 42000 {
			t.Fatalf("%s returned %v", job, v)
		}
		flushAll(t, driver, head.Cluster, worker)
		served := 0
		for _, c := range []*Cluster{head.Cluster, worker} {
			s, _ := heldFor(c, job)
			served += s
		}
		if served == 0 {
			t.Fatalf("%s: no node serves a result of the job; the test shows nothing", job)
		}
		if _, err := head.Store.GetTask(job + ".1"); err != nil {
			t.Fatalf("%s: its lineage is not in the GCS: %v", job, err)
		}
		driver.Shutdown("job over")
		for _, c := range []*Cluster{head.Cluster, worker} {
			testutil.Eventually(t, 5*time.Second, job+": objects released on "+c.Head().ID, func() bool {
				s, a := heldFor(c, job)
				return s == 0 && a == 0
			})
		}
		for _, id := range []string{job + ".1", job + ".7", job + ".7.1"} {
			if _, err := head.Store.GetTask(id); !errors.Is(err, gcs.ErrNotFound) {
				t.Fatalf("task %s is still in the GCS after its driver left: %v", id, err)
			}
		}
	}
}

// endJob releases one job while the driver stays: a node drops the
// results it awaits for that job (whoever waits gets an error), and keeps
// those of other jobs.
func TestEndingOneJobReleasesAwaitedResults(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	driver.NewThread("jobe1")
	nw := worker.net
	over, other := objstore.NewObject("jobe1.3.1", "task 'f'"), objstore.NewObject("jobe2.1", "task 'g'")
	nw.ow.Await(over, head.Cluster.Address())
	nw.ow.Await(other, head.Cluster.Address())
	driver.endJob("jobe1")
	select {
	case <-over.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the awaited result of the ended job never completed")
	}
	if _, err := over.Result(); err == nil || err.Kind != exec.KindCancelled {
		t.Fatalf("awaited result of the ended job: %v, want a cancellation", err)
	}
	if _, a := heldFor(worker, "jobe1"); a != 0 {
		t.Fatalf("worker still awaits %d entries of the ended job", a)
	}
	if _, a := heldFor(worker, "jobe2"); a != 1 || other.IsReady() {
		t.Fatal("endJob released another job's result")
	}
	driver.net.mu.Lock()
	left := len(driver.net.jobs)
	driver.net.mu.Unlock()
	if left != 0 {
		t.Fatalf("driver still lists %d jobs to release", left)
	}
}

// A head forgets the processes that connected to it once they leave:
// drivers that come and go do not pile up in its list of peers.
func TestHeadForgetsPeersThatLeft(t *testing.T) {
	head, _ := releaseCluster(t)
	peers := func() int {
		nw := head.Cluster.net
		nw.peersMu.Lock()
		defer nw.peersMu.Unlock()
		return len(nw.peers)
	}
	before := peers()
	for i := 0; i < 5; i++ {
		d := connectDriver(t, head)
		d.Nodes() // connects to the head
		testutil.Eventually(t, 5*time.Second, "the driver's connection is known", func() bool { return peers() > before })
		d.Shutdown("leaving")
	}
	testutil.Eventually(t, 5*time.Second, "peers that left are forgotten", func() bool { return peers() <= before })
}

// A job's release stops the actors hosted for it, even one its creator
// no longer knows of (a restart that finished after the driver left), and
// gives their resources back.
func TestReleaseStopsTheJobsActors(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 2, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	nw := head.Cluster.net
	prog, err := LoadProgram(head.Cluster.Head().newThread("test", "test"), "cell.rayflow", `
@resources(cpu=1)
actor Cell() {
    method get() { return 1 }
}
pipeline main() {}`)
	if err != nil {
		t.Fatal(err)
	}
	prog.Hash = "cell"
	for _, key := range []string{actorhost.Key("jobR.1", 2), actorhost.Key("jobS.1", 0)} {
		if err := nw.hostActor(prog, &wire.Submit{Kind: wire.SubmitActor, ID: key, Owner: "127.0.0.1:1", Function: "Cell"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	nw.releaseHere([]string{"jobR"})
	if n := head.Cluster.Alive(); n != 1 {
		t.Fatalf("%d actors alive after releasing jobR, want 1 (jobS's)", n)
	}
	if free, total := head.Cluster.Head().state().Available.CPU(), head.Cluster.Head().sched.Total().CPU(); free != total/2 {
		t.Fatalf("%d of %d milli-CPUs free, want half: the stopped actor gives its CPU back", free, total)
	}
}
