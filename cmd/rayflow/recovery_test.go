package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/stash"
)

// faultCluster is a head that only coordinates (no CPUs) and worker
// nodes, each a separate process (but see newWatchedFaultCluster).
type faultCluster struct {
	bin     string
	head    string
	workers map[string]*proc
}

// startFaultCluster starts the head and two workers, w1 and w2, with
// two CPUs each.
func startFaultCluster(t *testing.T) *faultCluster {
	t.Helper()
	fc := newFaultCluster(t, testDeadAfter)
	fc.addWorker(t, "w1", freePort(t), "--cpus", "2")
	fc.addWorker(t, "w2", freePort(t), "--cpus", "2")
	return fc
}

// newFaultCluster starts the head alone, with the dead timeout deadAfter.
func newFaultCluster(t *testing.T, deadAfter time.Duration) *faultCluster {
	t.Helper()
	bin := buildCLI(t)
	return &faultCluster{bin: bin, head: startCoordinatorHead(t, bin, deadAfter), workers: map[string]*proc{}}
}

// addWorker starts a node that joins the cluster on port, with more
// flags (its CPUs, resources).
func (fc *faultCluster) addWorker(t *testing.T, id string, port int, flags ...string) {
	t.Helper()
	fc.workers[id] = startWorker(t, fc.bin, fc.head, id, port, flags...)
}

// newWatchedFaultCluster is startFaultCluster with its head in this test
// process, so that the test can watch the rows the GCS commits (the
// returned subscription to its tasks table, opened before any job runs).
// The workers and the driver are processes as in every fault cluster.
func newWatchedFaultCluster(t *testing.T) (*faultCluster, *gcs.Subscription) {
	t.Helper()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", DeadAfter: testDeadAfter,
		Node: nodeagent.Config{CPUs: -1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	tasks, err := head.Store.Subscribe(gcs.TableTasks, 4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tasks.Close)
	fc := &faultCluster{bin: buildCLI(t), head: head.Cluster.Address(), workers: map[string]*proc{}}
	fc.addWorker(t, "w1", freePort(t), "--cpus", "2")
	fc.addWorker(t, "w2", freePort(t), "--cpus", "2")
	return fc, tasks
}

// waitOutcomes waits until the GCS has committed the logged outcomes of
// one task: want counts them by kind (stash.KindWait, ...).
func waitOutcomes(t *testing.T, tasks *gcs.Subscription, want map[stash.Kind]int) {
	t.Helper()
	seen := map[string]map[stash.Kind]int{} // task ID -> kind -> outcome rows
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-tasks.C():
			if !ok {
				t.Fatal("the GCS subscription closed")
			}
			rec, isTask := ev.Value.(gcs.TaskRecord)
			if ev.Op != gcs.OpPut || !isTask || rec.State != stash.OutcomeState {
				continue
			}
			kind := stash.Kind(strings.TrimPrefix(rec.Function, stash.OutcomeFunctionPrefix))
			if seen[rec.ParentID] == nil {
				seen[rec.ParentID] = map[stash.Kind]int{}
			}
			seen[rec.ParentID][kind]++
			if maps.Equal(seen[rec.ParentID], want) {
				return
			}
		case <-timeout:
			t.Fatalf("the GCS committed no task's outcomes %v within 10 s (dropped events: %d); it has %v", want, tasks.Dropped(), seen)
		}
	}
}

// startCoordinatorHead starts a head that only coordinates (--cpus 0),
// with the dead timeout deadAfter, and returns its address.
func startCoordinatorHead(t *testing.T, bin string, deadAfter time.Duration) string {
	t.Helper()
	hp := freePortRange(t, 5)
	startHeadDeadAfter(t, bin, deadAfter, "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head")
	return fmt.Sprintf("127.0.0.1:%d", hp)
}

// startWorker starts a node with ID id on port that joins the head at
// head, with more flags (its CPUs, resources).
func startWorker(t *testing.T, bin, head, id string, port int, flags ...string) *proc {
	t.Helper()
	args := append([]string{"start", "--address", head, "--port", fmt.Sprint(port), "--node-id", id}, flags...)
	return startProc(t, bin, args...)
}

// startHeadAndWorker starts a head and one worker "w1", one CPU each,
// and returns the head's address.
func startHeadAndWorker(t *testing.T, bin string) string {
	t.Helper()
	hp, wp := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1")
	startWorker(t, bin, head, "w1", wp, "--cpus", "1")
	return head
}

// runJob starts a job on the cluster, with more flags for rayflow run;
// see runJobAt.
func (fc *faultCluster) runJob(t *testing.T, src string, flags ...string) (next func() string, wait func() (string, error)) {
	t.Helper()
	return runJobAt(t, fc.bin, fc.head, src, flags...)
}

// runJobAt starts `rayflow run --address heads [flags] FILE` of the
// program src and returns a function that reads its stdout line by line,
// and one that waits for it to end and returns all it printed.
func runJobAt(t *testing.T, bin, heads, src string, flags ...string) (next func() string, wait func() (string, error)) {
	t.Helper()
	args := append(append([]string{"run", "--address", heads}, flags...), writeProgram(t, src))
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = childAttr()
	stdout, _ := cmd.StdoutPipe()
	stderr := &testutil.Buffer{} // read while the job runs
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 100)
	var all strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
		close(lines)
	}()
	next = func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("job printed nothing more in 30 s; stderr:\n%s", stderr.String())
			return ""
		}
	}
	// wait reads the job's output to its end before it calls cmd.Wait,
	// which closes the pipe under a reader still at work.
	wait = func() (string, error) {
		drained := make(chan struct{})
		go func() {
			for range lines {
			}
			close(drained)
		}()
		var timedOut error
		select {
		case <-drained:
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			<-drained
			timedOut = fmt.Errorf("job did not finish in 90 s")
		}
		err := cmd.Wait()
		if timedOut != nil {
			err = timedOut
		}
		return all.String() + stderr.String(), err
	}
	return next, wait
}

func (fc *faultCluster) kill(t *testing.T, id string) {
	t.Helper()
	p := fc.workers[id]
	if p == nil {
		t.Fatalf("no worker %q", id)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// A node is killed while its tasks run and while it holds results the
// job reads later: the running tasks are run again elsewhere, the lost
// results are rebuilt from their lineage, and the job's answer is right.
func TestNodeKilledWhileTasksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
task big(i) { return nd.full([300000], float(i)) }
task slow(i) {
    time.sleep(0.4)
    return [i * 10, sys.node()]
}
pipeline main() {
    let bigs = [big(i) for i in range(6)]
    wait(bigs, num=6)
    let fs = [slow(i) for i in range(8)]
    time.sleep(0.1)
    print("kill", get(slow(99))[1])
    let total = 0
    for r in get(fs) { total += r[0] }
    let sums = 0.0
    for b in bigs { sums += nd.sum(get(b)) }
    print(total, sums)
}`)
	line := next()
	victim := strings.TrimPrefix(line, "kill ")
	if victim != "w1" && victim != "w2" {
		t.Fatalf("unexpected line %q", line)
	}
	fc.kill(t, victim)
	out, err := wait()
	if err != nil || !strings.Contains(out, "280 4500000.0") {
		t.Fatalf("job after %s was killed: %v\n%s", victim, err, out)
	}
}

// The node hosting an actor declared @restarts is killed: the actor is
// recreated elsewhere with its state restored, and its caller sees only
// a delay.
func TestActorHostKilledStateRestored(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
@restarts(2)
@resources(cpu=1)
actor Acc() {
    let total = 0
    method add(x) {
        total += x
        return total
    }
    method where() { return sys.node() }
}
pipeline main() {
    let a = Acc()
    for i in range(10) { a.add(i) }
    print("host", get(a.where()))
    time.sleep(1)
    for i in range(10) { a.add(i) }
    print("total", get(a.add(0)), get(a.where()))
}`)
	host := strings.TrimPrefix(next(), "host ")
	fc.kill(t, host)
	out, err := wait()
	if err != nil || !strings.Contains(out, "total 90 ") || strings.Contains(out, "total 90 "+host) {
		t.Fatalf("actor on %s killed: %v\n%s", host, err, out)
	}
}

// Without restarts, callers of an actor whose node died get an error that
// names the node and the reason.
func TestActorWithoutRestartsFailsClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
@resources(cpu=1)
actor Cell() {
    method where() { return sys.node() }
}
pipeline main() {
    let c = Cell()
    print("host", get(c.where()))
    time.sleep(1)
    get(c.where())
}`)
	host := strings.TrimPrefix(next(), "host ")
	fc.kill(t, host)
	out, err := wait()
	if err == nil || !strings.Contains(out, "died") || !strings.Contains(out, "restarts") || !strings.Contains(out, "127.0.0.1:") {
		t.Fatalf("want a clear error naming the dead node; got %v\n%s", err, out)
	}
}

// An actor with @checkpoint(every=N) is restored from its latest
// checkpoint plus the calls after it.
func TestActorRestoredFromCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	next, wait := fc.runJob(t, `
@restarts(2)
@checkpoint(every=5)
@resources(cpu=1)
actor Log() {
    let items = []
    method add(x) {
        items.append(x)
        return len(items)
    }
    method all() { return items }
    method where() { return sys.node() }
}
pipeline main() {
    let l = Log()
    for i in range(23) { l.add(i) }
    print("host", get(l.where()))
    time.sleep(1)
    for i in range(23, 30) { l.add(i) }
    print(get(l.all()) == list(range(30)), get(l.where()))
}`)
	host := strings.TrimPrefix(next(), "host ")
	fc.kill(t, host)
	out, err := wait()
	if err != nil || !strings.Contains(out, "true ") || strings.Contains(out, "true "+host) {
		t.Fatalf("actor with checkpoints on %s killed: %v\n%s", host, err, out)
	}
}

// An actor whose handle was passed to a task on another node is restored
// with the calls of every caller, in the order it ran them: the task
// keeps calling while the actor's host is killed, and its calls go on, in
// order and exactly once in the state, on the recreated actor.
func TestActorRestoredWithCallsFromOtherProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	fc.addWorker(t, "w3", freePort(t), "--cpus", "2")
	// The actor and the task each fill a node, so the task never runs on
	// the actor's host.
	next, wait := fc.runJob(t, `
@restarts(2)
@resources(cpu=2)
actor Acc() {
    let total = 0
    method add(x) {
        total += x
        return total
    }
    method where() { return sys.node() }
}
@resources(cpu=2)
task bump(a, n) {
    for i in range(n) {
        get(a.add(1))
        time.sleep(0.1)
    }
    return sys.node()
}
pipeline main() {
    let a = Acc()
    for i in range(10) { a.add(10) }
    print("host", get(a.where()))
    print("first bump on", get(bump(a, 5)))
    let b = bump(a, 40)
    time.sleep(1)
    print("second bump on", get(b))
    print("total", get(a.add(0)), get(a.where()))
}`)
	host := strings.TrimPrefix(next(), "host ")
	first := next()
	if strings.HasSuffix(first, host) {
		t.Fatalf("the task ran on the actor's host %s: %s", host, first)
	}
	fc.kill(t, host)
	out, err := wait()
	if err != nil || !strings.Contains(out, "total 145 ") || strings.Contains(out, "total 145 "+host) {
		t.Fatalf("actor on %s killed while a task on another node called it: %v\n%s", host, err, out)
	}
}

// A future passed to a task inside a list, whose value lived on a node
// that was killed: the reader cannot fetch it and keeps no lineage of it,
// so it asks the future's owner (the driver), which rebuilds it.
func TestFutureInsideValueRebuiltByItsOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc := startFaultCluster(t)
	fc.addWorker(t, "w3", freePort(t), "--cpus", "2")
	next, wait := fc.runJob(t, `
@resources(cpu=2)
task make(n) { return [sys.node(), [i * 7 for i in range(n)]] }

@resources(cpu=2)
task where(x) { return x[0] }

@resources(cpu=2)
task reader(box) {
    let v = get(box[0])
    return [sys.node(), len(v[1]), v[1][4999]]
}

pipeline main() {
    let f = make(5000)
    let made = get(where(f))
    print("made", made)
    # The test kills that node: read once the heads declared it dead.
    while made in sys.nodes() { time.sleep(0.05) }
    print("read", get(reader([f])))
}`)
	made := strings.TrimPrefix(next(), "made ")
	fc.kill(t, made)
	out, err := wait()
	if err != nil || !strings.Contains(out, ", 5000, 34993]") {
		t.Fatalf("value of a future in a list lost with %s: %v\n%s", made, err, out)
	}
}

// A task that used wait and is run again after its node died sees the
// same futures ready as the first time (the logged outcome), even though
// this time the other one finishes first: its result does not change.
func TestRerunTaskReplaysItsWait(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc, tasks := newWatchedFaultCluster(t)
	next, wait := fc.runJob(t, `
task nap(i, secs) {
    time.sleep(secs)
    return i
}

task pick() {
    # Which nap finishes first depends on the node, which is not a
    # replayed read: the run again, on the other node, would find the
    # other nap done first, were its wait not replayed.
    let on_w1 = sys.node() == "w1"
    let a = nap(1, 0 if on_w1 else 0.6)
    let b = nap(2, 0.6 if on_w1 else 0)
    let done = wait([a, b], num=1)
    let first = get(done[0][0])
    print("picked", first, "on", sys.node())
    time.sleep(6) # long enough to be killed running
    return first
}

pipeline main() {
    print("result", get(pick()))
}`)
	line := next()
	picked, node, ok := strings.Cut(strings.TrimPrefix(line, "picked "), " on ")
	if !ok || (picked != "1" && picked != "2") {
		t.Fatalf("first run: %q", line)
	}
	// An outcome lost with its node before anyone else held it cannot be
	// replayed (the print is not a commit point): kill once it is in the
	// GCS.
	waitOutcomes(t, tasks, map[stash.Kind]int{stash.KindWait: 1})
	fc.kill(t, node)
	out, err := wait()
	if err != nil || !strings.Contains(out, "result "+picked) {
		t.Fatalf("the task run again took another path than %s: %v\n%s", picked, err, out)
	}
	checkRanAgain(t, out, "picked ", node)
}

// A task run again after its node died reads the clock and draws random
// numbers as its first run did: the reads are logged outcomes, and the
// run again gets them back.
func TestRerunTaskReplaysItsReads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	fc, tasks := newWatchedFaultCluster(t)
	next, wait := fc.runJob(t, `
task reads() {
    let t = time.now()
    let r = random.random()
    let x = random.new().random()
    print("read", [t, r, x], "on", sys.node())
    time.sleep(6) # long enough to be killed running
    return [t, r, x]
}

pipeline main() {
    print("result", get(reads()))
}`)
	line := next()
	values, node, ok := strings.Cut(strings.TrimPrefix(line, "read "), " on ")
	if !ok || !strings.HasPrefix(values, "[") {
		t.Fatalf("first run: %q", line)
	}
	waitOutcomes(t, tasks, map[stash.Kind]int{stash.KindTime: 1, stash.KindRandom: 2})
	fc.kill(t, node)
	out, err := wait()
	if err != nil || !strings.Contains(out, "result "+values) {
		t.Fatalf("the task run again read other values than %s: %v\n%s", values, err, out)
	}
	checkRanAgain(t, out, "read ", node)
}

// checkRanAgain fails unless the job's output has two lines starting
// with prefix, the second from another node than dead: the kill caught
// the task running and it ran again, so the replay was tested.
func checkRanAgain(t *testing.T, out, prefix, dead string) {
	t.Helper()
	var runs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			runs = append(runs, l)
		}
	}
	if len(runs) != 2 || strings.HasSuffix(runs[1], " on "+dead) {
		t.Fatalf("want the task run twice, the second time off %s; ran:\n%s", dead, strings.Join(runs, "\n"))
	}
}
