//go:build chaos

package main

// The chaos test, in the spirit of Ray's chaos_many_tasks_kill_raylet and
// chaos_many_actors_kill_raylet: a head that only coordinates (--cpus 0)
// and a few worker nodes run as separate processes; for a while (two
// minutes by default) a background loop SIGKILLs a random worker every
// 2-6 s and starts a new one in its place, while jobs with many tasks and
// jobs with many actors run back to back against the cluster. Every
// job's printed result is checked exactly; retries are generous
// (@retries(10), @restarts(5)), so any failed or wrong job is a bug.
//
//	make chaos                                   # the full run
//	RAYFLOW_CHAOS_SECONDS=30 make chaos          # a shorter one
//
// Knobs (environment):
//
//	RAYFLOW_CHAOS_SECONDS  how long the killing goes on (120)
//	RAYFLOW_CHAOS_WORKERS  worker nodes (4)
//	RAYFLOW_CHAOS_RESTART  how a killed worker comes back: "new" (a new
//	                       node ID and port, as Ray's chaos tests do),
//	                       "same" (the same node ID and port, as a
//	                       supervisor restarting it would), or "mixed"
//	                       (at random one of those or a new node ID on
//	                       the dead node's port; the default)
//	RAYFLOW_CHAOS_SEED     seed of the random choices (the time)
//	RAYFLOW_CHAOS_JOB_TIMEOUT  seconds after which a job counts as hung
//	                       and gets SIGQUIT, for its stacks (120)
//
// The processes' output goes to a log directory that is kept, and named,
// when the test fails.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const chaosTasksProgram = `
@retries(10)
task leaf(i) {
    time.sleep(0.02)
    return i * i
}

# 8 KB: more than the inline limit, so the value stays on the node that
# made it and is fetched from there when read.
@retries(10)
task block(i) {
    time.sleep(0.02)
    return nd.full([1024], float(i))
}

@retries(10)
task combine(a, b) { return a + b }

@retries(10)
task total(b) { return nd.sum(b) }

# Nested tasks: this task owns its children.
@retries(10)
task fanout(i) {
    let fs = [leaf(i * 10 + k) for k in range(4)]
    return sum(get(fs))
}

pipeline main(n: int = 200, blocks: int = 40, nests: int = 20) {
    let sq = [leaf(i) for i in range(n)]
    let bs = [block(i) for i in range(blocks)]
    let nest = [fanout(i) for i in range(nests)]
    # A tree reduction whose arguments are futures living on nodes.
    let level = bs
    while len(level) > 1 {
        let next = []
        for j in range(0, len(level) - 1, 2) { next.append(combine(level[j], level[j + 1])) }
        if len(level) % 2 == 1 { next.append(level[len(level) - 1]) }
        level = next
    }
    time.sleep(1)
    let s = sum(get(sq))
    let t = get(total(level[0]))
    let u = sum(get(nest))
    # The blocks, read again at the end: some lived on nodes killed since.
    let v = 0.0
    for b in bs { v += nd.sum(get(b)) }
    print(s, t, u, v)
}
`

// 2646700 = sum of i*i for i < 200; 798720.0 = 1024 * (0 + ... + 39);
// 1011080 = sum of (10i+k)^2 for i < 20, k < 4.
const chaosTasksWant = "2646700 798720.0 1011080 798720.0"

const chaosActorsProgram = `
@restarts(5)
@resources(cpu=1)
actor Counter(k) {
    let total = 0
    let calls = 0
    let history = []
    method add(x) {
        total += x * k
        calls += 1
        history.append(x)
        return total
    }
    method state() { return [k, total, calls, history == list(range(calls))] }
}

@restarts(5)
actor Log(name) {
    let items = []
    method push(x) {
        items.append(name + str(x))
        return len(items)
    }
    method all() { return items }
}

# A handle passed to tasks: the feeders' calls are replayed too, each
# exactly once and in its feeder's order.
@restarts(5)
actor Tally() {
    let seen = []
    method inc(x) {
        seen.append(x)
        return len(seen)
    }
    method all() { return seen }
}

# A feeder lives long (its calls wait out actor restarts), so under chaos
# it can lose its node more often than the default 3 retries allow.
@retries(10)
@resources(cpu=1)
task feed(t, tag, calls) {
    for i in range(calls) {
        get(t.inc(tag * 1000 + i))
        time.sleep(0.05)
    }
    return calls
}

pipeline main(actors: int = 3, calls: int = 60) {
    let cs = [Counter(j + 1) for j in range(actors)]
    let lg = Log("x")
    let tl = Tally()
    let feeders = [feed(tl, f, 20) for f in range(2)]
    let results = [[] for j in range(actors)]
    let pushes = []
    for i in range(calls) {
        for j in range(actors) { results[j].append(cs[j].add(i)) }
        pushes.append(lg.push(i))
        if i % 10 == 9 { time.sleep(0.5) }
    }
    # Every call's answer is the running total after exactly that call:
    # a call lost, run twice or run out of order shows here.
    let bad = []
    for j in range(actors) {
        let got = get(results[j])
        let want = 0
        for i in range(calls) {
            want += i * (j + 1)
            if got[i] != want { bad.append(["add", j, i, got[i], want]) }
        }
    }
    let p = get(pushes)
    if p != list(range(1, calls + 1)) { bad.append(["push", p]) }
    let items = get(lg.all())
    if items != ["x" + str(i) for i in range(calls)] { bad.append(["items", items]) }
    get(feeders)
    let seen = get(tl.all())
    for f in range(2) {
        let mine = [x for x in seen if x >= f * 1000 and x < f * 1000 + 1000]
        if mine != [f * 1000 + i for i in range(20)] { bad.append(["feed", f, mine]) }
    }
    if len(seen) != 40 { bad.append(["tally", len(seen)]) }
    print(len(bad) == 0, [get(c.state()) for c in cs], len(items))
    if len(bad) > 0 { print("wrong:", bad) }
}
`

const chaosActorsWant = "true [[1, 1770, 60, true], [2, 3540, 60, true], [3, 5310, 60, true]] 60"

// chaosProc is one rayflow process of the chaos cluster.
type chaosProc struct {
	id   string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// chaosCluster is the head and the worker slots.
type chaosCluster struct {
	t      *testing.T
	bin    string
	logDir string
	head   string

	mu      sync.Mutex
	procs   []*chaosProc // every process started, for the final cleanup
	workers []*chaosProc // the current process of each worker slot
	gen     []int        // restarts of each slot
	events  []string
	start   time.Time
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func (cc *chaosCluster) logf(format string, args ...any) {
	line := fmt.Sprintf("%6.1fs ", time.Since(cc.start).Seconds()) + fmt.Sprintf(format, args...)
	cc.mu.Lock()
	cc.events = append(cc.events, line)
	cc.mu.Unlock()
	cc.t.Log(line)
}

// spawn starts `rayflow ARGS...`, its output going to a log file, and
// waits for its ready line.
func (cc *chaosCluster) spawn(id string, port int, args ...string) (*chaosProc, error) {
	logf, err := os.OpenFile(filepath.Join(cc.logDir, id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "=== %s rayflow %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(cc.bin, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &chaosProc{id: id, port: port, cmd: cmd, done: make(chan struct{})}
	cc.mu.Lock()
	cc.procs = append(cc.procs, p)
	cc.mu.Unlock()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if !once && strings.HasPrefix(sc.Text(), "ready") {
				once = true
				close(ready)
			}
		}
		io.Copy(logf, stdout)
		cmd.Wait()
		fmt.Fprintf(logf, "=== %s exited: %v\n", time.Now().Format(time.RFC3339Nano), cmd.ProcessState)
		logf.Close()
		close(p.done)
	}()
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("rayflow %s exited before it was ready (see %s)", strings.Join(args, " "), logf.Name())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("rayflow %s printed no ready line in 20 s (see %s)", strings.Join(args, " "), logf.Name())
	}
}

// startWorker starts the process of slot i: generation 0 is "w<i>" on a
// fresh port; a restart keeps the node ID and the port, or takes a new ID
// on the same port, or a new ID and a new port.
func (cc *chaosCluster) startWorker(i int, keepID, keepPort bool) error {
	cc.mu.Lock()
	old := cc.workers[i]
	cc.mu.Unlock()
	id, port := fmt.Sprintf("w%d", i), 0
	if old != nil && keepID {
		id = old.id
	} else if old != nil {
		id = fmt.Sprintf("w%dg%d", i, cc.gen[i])
	}
	if old != nil && keepPort {
		port = old.port
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	var p *chaosProc
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		p, err = cc.spawn(id, port, "start", "--address", cc.head, "--port", fmt.Sprint(port), "--cpus", "2", "--node-id", id)
		if err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond) // the port may linger a moment
	}
	if err != nil {
		return err
	}
	cc.mu.Lock()
	cc.workers[i] = p
	cc.mu.Unlock()
	return nil
}

// killLoop kills a random worker every 2-6 s and restarts it, until stop.
func (cc *chaosCluster) killLoop(rng *rand.Rand, mode string, stop <-chan struct{}, kills *int) error {
	for {
		select {
		case <-stop:
			return nil
		case <-time.After(time.Duration(2000+rng.Intn(4000)) * time.Millisecond):
		}
		i := rng.Intn(len(cc.workers))
		cc.mu.Lock()
		victim := cc.workers[i]
		cc.gen[i]++
		cc.mu.Unlock()
		victim.cmd.Process.Signal(syscall.SIGKILL)
		<-victim.done
		*kills++
		keepID, keepPort := false, false
		switch {
		case mode == "same":
			keepID, keepPort = true, true
		case mode == "mixed":
			switch rng.Intn(3) {
			case 0: // a supervisor restarting it as it was
				keepID, keepPort = true, true
			case 1: // a new node that got the dead one's port
				keepPort = true
			}
		}
		// Sometimes the new process comes back before the heads have
		// noticed the old one's death, sometimes after.
		pause := time.Duration(rng.Intn(1500)) * time.Millisecond
		time.Sleep(pause)
		if err := cc.startWorker(i, keepID, keepPort); err != nil {
			return fmt.Errorf("restarting slot %d: %v", i, err)
		}
		cc.mu.Lock()
		now := cc.workers[i]
		cc.mu.Unlock()
		cc.logf("killed %s (port %d), restarted after %s as %s (port %d)", victim.id, victim.port, pause, now.id, now.port)
	}
}

// jobResult is one job of the run.
type jobResult struct {
	kind    string
	started time.Duration
	took    time.Duration
	ok      bool
	detail  string
}

// runJob runs one job and checks its output exactly. A job still running
// after timeout gets SIGQUIT, so that its goroutines' stacks (where it
// hangs) are in the report, in a file of the log directory.
func (cc *chaosCluster) runJob(kind, prog, want string, timeout time.Duration) jobResult {
	start := time.Now()
	cmd := exec.Command(cc.bin, "run", "--address", cc.head, prog)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := jobResult{kind: kind, started: start.Sub(cc.start)}
	if err := cmd.Start(); err != nil {
		r.detail = err.Error()
		return r
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	hung := false
	select {
	case err = <-done:
	case <-time.After(timeout):
		hung = true
		cc.dumpHung(kind, r.started)
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
	}
	r.took = time.Since(start)
	got := strings.TrimSpace(stdout.String())
	switch {
	case hung:
		r.detail = fmt.Sprintf("did not finish within %s; stdout %q", timeout, got)
	case err != nil:
		r.detail = fmt.Sprintf("%v; stdout %q", err, got)
	case got != want:
		r.detail = fmt.Sprintf("printed %q, want %q", got, want)
	default:
		r.ok = true
		return r
	}
	name := filepath.Join(cc.logDir, fmt.Sprintf("job-%s-%.0fs.stderr", kind, r.started.Seconds()))
	os.WriteFile(name, []byte(stderr.String()), 0o644)
	msg := stderr.String()
	if len(msg) > 3000 {
		msg = msg[:3000] + "\n... (all of it in " + name + ")"
	}
	r.detail += "; stderr:\n" + msg
	return r
}

// dumpHung keeps what a hung job's cluster looked like: the status
// table, and with RAYFLOW_CHAOS_DEBUG set, every worker's goroutines
// (SIGQUIT: their stacks go to their logs, and they die).
func (cc *chaosCluster) dumpHung(kind string, started time.Duration) {
	out, _ := exec.Command(cc.bin, "status", "--address", cc.head).CombinedOutput()
	name := filepath.Join(cc.logDir, fmt.Sprintf("status-%s-%.0fs.txt", kind, started.Seconds()))
	os.WriteFile(name, out, 0o644)
	if os.Getenv("RAYFLOW_CHAOS_DEBUG") == "" {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, w := range cc.workers {
		if w != nil {
			w.cmd.Process.Signal(syscall.SIGQUIT)
		}
	}
}

// rss reads a process's resident memory and open files.
func rss(pid int) (kb int, fds int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		fds = len(ents)
	}
	return kb, fds
}

// strays lists the running processes started from bin.
func strays(bin string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if args[0] == bin {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				continue // a zombie not reaped yet is not running
			}
			out = append(out, fmt.Sprintf("%d %s", pid, strings.Join(args, " ")))
		}
	}
	return out
}

func durStats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	r := func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
	return fmt.Sprintf("min %s, median %s, mean %s, max %s", r(ds[0]), r(ds[len(ds)/2]), r(sum/time.Duration(len(ds))), r(ds[len(ds)-1]))
}

func TestChaosKillWorkersWhileJobsRun(t *testing.T) {
	seconds := envInt("RAYFLOW_CHAOS_SECONDS", 120)
	nworkers := envInt("RAYFLOW_CHAOS_WORKERS", 4)
	mode := os.Getenv("RAYFLOW_CHAOS_RESTART")
	if mode == "" {
		mode = "mixed"
	}
	if mode != "new" && mode != "same" && mode != "mixed" {
		t.Fatalf("RAYFLOW_CHAOS_RESTART=%q: want new, same or mixed", mode)
	}
	jobTimeout := time.Duration(envInt("RAYFLOW_CHAOS_JOB_TIMEOUT", 120)) * time.Second
	seed := int64(envInt("RAYFLOW_CHAOS_SEED", int(time.Now().UnixNano()%1e9)))
	rng := rand.New(rand.NewSource(seed))
	t.Logf("chaos: %d s, %d workers, restarts %s, seed %d", seconds, nworkers, mode, seed)

	logDir, err := os.MkdirTemp("", "rayflow-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	cc := &chaosCluster{t: t, bin: buildCLI(t), logDir: logDir, workers: make([]*chaosProc, nworkers),
		gen: make([]int, nworkers), start: time.Now()}
	defer func() {
		if t.Failed() {
			t.Logf("process logs kept in %s", logDir)
		} else {
			os.RemoveAll(logDir)
		}
	}()
	// Whatever happens, no process outlives the test.
	defer func() {
		cc.mu.Lock()
		procs := append([]*chaosProc(nil), cc.procs...)
		cc.mu.Unlock()
		// The workers first, so that they can leave the cluster cleanly;
		// then the head.
		stopAll := func(head bool) {
			for _, p := range procs {
				if (p.id == "head") == head {
					p.cmd.Process.Signal(syscall.SIGTERM)
				}
			}
			for _, p := range procs {
				if (p.id == "head") != head {
					continue
				}
				select {
				case <-p.done:
				case <-time.After(10 * time.Second):
					t.Errorf("%s did not stop within 10 s of SIGTERM; its stacks are in %s.log", p.id, p.id)
					p.cmd.Process.Signal(syscall.SIGQUIT)
					select {
					case <-p.done:
					case <-time.After(3 * time.Second):
						p.cmd.Process.Kill()
						<-p.done
					}
				}
			}
		}
		stopAll(false)
		stopAll(true)
		time.Sleep(200 * time.Millisecond)
		if left := strays(cc.bin); len(left) > 0 {
			t.Errorf("rayflow processes left running after the test:\n%s", strings.Join(left, "\n"))
		} else {
			t.Logf("ps: no rayflow process of this test is left running")
		}
	}()

	hp := freePortRange(t, 5)
	cc.head = fmt.Sprintf("127.0.0.1:%d", hp)
	head, err := cc.spawn("head", hp, "start", "--head", "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head")
	if err != nil {
		t.Fatal(err)
	}
	for i := range cc.workers {
		if err := cc.startWorker(i, false, false); err != nil {
			t.Fatal(err)
		}
	}
	tasksProg := writeProgram(t, chaosTasksProgram)
	actorsProg := filepath.Join(filepath.Dir(tasksProg), "actors.rayflow")
	if err := os.WriteFile(actorsProg, []byte(chaosActorsProgram), 0o644); err != nil {
		t.Fatal(err)
	}

	// One job of each kind before the chaos: the baseline time per job.
	for _, j := range []struct{ kind, prog, want string }{{"tasks", tasksProg, chaosTasksWant}, {"actors", actorsProg, chaosActorsWant}} {
		r := cc.runJob(j.kind, j.prog, j.want, time.Minute)
		if !r.ok {
			t.Fatalf("%s job before any kill: %s", j.kind, r.detail)
		}
		t.Logf("baseline %s job: %s", j.kind, r.took.Round(10*time.Millisecond))
	}
	rss0, fds0 := rss(head.cmd.Process.Pid)

	// The head's memory and open files, sampled through the run.
	var samples []string
	maxRSS, maxFDs := rss0, fds0
	sampleStop := make(chan struct{})
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-sampleStop:
				return
			case <-tick.C:
				kb, fds := rss(head.cmd.Process.Pid)
				maxRSS, maxFDs = max(maxRSS, kb), max(maxFDs, fds)
				if i%15 == 0 {
					samples = append(samples, fmt.Sprintf("%.0fs: %d MB, %d fds", time.Since(cc.start).Seconds(), kb/1024, fds))
				}
			}
		}
	}()

	// The heads' view of the nodes, polled each second; changes go to
	// status.log in the log directory.
	statusStop := make(chan struct{})
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		f, err := os.Create(filepath.Join(logDir, "status.log"))
		if err != nil {
			return
		}
		defer f.Close()
		last := ""
		for {
			select {
			case <-statusStop:
				return
			case <-time.After(time.Second):
			}
			out, err := exec.Command(cc.bin, "status", "--address", cc.head, "--json").Output()
			var st statusJSON
			line := ""
			if err != nil {
				line = "status failed: " + err.Error()
			} else if json.Unmarshal(out, &st) == nil {
				var alive []string
				for _, n := range st.Nodes {
					if n.State == "alive" {
						alive = append(alive, n.ID)
					}
				}
				line = "alive: " + strings.Join(alive, " ")
			}
			if line != last {
				fmt.Fprintf(f, "%6.1fs %s\n", time.Since(cc.start).Seconds(), line)
				last = line
			}
		}
	}()

	cc.start = time.Now()
	deadline := cc.start.Add(time.Duration(seconds) * time.Second)
	stop := make(chan struct{})
	killDone := make(chan error, 1)
	kills := 0
	go func() { killDone <- cc.killLoop(rng, mode, stop, &kills) }()

	// Two streams of jobs at once, back to back: tasks and actors.
	var mu sync.Mutex
	var results []jobResult
	var wg sync.WaitGroup
	for _, j := range []struct{ kind, prog, want string }{{"tasks", tasksProg, chaosTasksWant}, {"actors", actorsProg, chaosActorsWant}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				r := cc.runJob(j.kind, j.prog, j.want, jobTimeout)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.ok {
					cc.logf("%s job ok in %s", r.kind, r.took.Round(10*time.Millisecond))
				} else {
					cc.logf("%s job FAILED after %s: %s", r.kind, r.took.Round(10*time.Millisecond), r.detail)
					if os.Getenv("RAYFLOW_CHAOS_DEBUG") != "" {
						head.cmd.Process.Signal(syscall.SIGQUIT) // its stacks go to head.log
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-killDone; err != nil {
		t.Errorf("kill loop: %v", err)
	}
	chaosTook := time.Since(cc.start)

	// After the chaos, with every worker alive, one more job of each kind.
	for _, j := range []struct{ kind, prog, want string }{{"tasks", tasksProg, chaosTasksWant}, {"actors", actorsProg, chaosActorsWant}} {
		r := cc.runJob(j.kind, j.prog, j.want, time.Minute)
		if !r.ok {
			t.Errorf("%s job after the chaos: %s", j.kind, r.detail)
		} else {
			t.Logf("%s job after the chaos: %s", j.kind, r.took.Round(10*time.Millisecond))
		}
	}
	close(sampleStop)
	<-sampleDone
	close(statusStop)
	<-statusDone
	rssEnd, fdsEnd := rss(head.cmd.Process.Pid)

	// The report.
	byKind := map[string][]time.Duration{}
	failed := map[string]int{}
	total := map[string]int{}
	for _, r := range results {
		total[r.kind]++
		if r.ok {
			byKind[r.kind] = append(byKind[r.kind], r.took)
		} else {
			failed[r.kind]++
			t.Errorf("%s job started at %.1fs failed after %s: %s", r.kind, r.started.Seconds(), r.took.Round(10*time.Millisecond), r.detail)
		}
	}
	t.Logf("chaos run: %s, %d workers killed and restarted (%s)", chaosTook.Round(time.Second), kills, mode)
	if kills == 0 {
		t.Errorf("no worker was killed: this was a load test, not a chaos test")
	}
	for _, kind := range []string{"tasks", "actors"} {
		t.Logf("%s jobs: %d run, %d failed; time per good job: %s", kind, total[kind], failed[kind], durStats(byKind[kind]))
	}
	t.Logf("head: RSS %d MB after the baseline jobs, at most %d MB, %d MB at the end; open files %d, at most %d, %d at the end",
		rss0/1024, maxRSS/1024, rssEnd/1024, fds0, maxFDs, fdsEnd)
	t.Logf("head samples: %s", strings.Join(samples, "; "))
	if n := len(results) + 2; rssEnd > rss0 {
		t.Logf("head RSS grew by %d KB per job over %d jobs", (rssEnd-rss0)/n, n)
	}
	if total["tasks"] == 0 || total["actors"] == 0 {
		t.Errorf("jobs run: %v; want some of each kind", total)
	}
	// Bounded: the head keeps no per-job or per-task state that grows
	// without limit. The bounds are generous; a leak of every task's
	// specification or every connection would cross them.
	if rssEnd > 3*rss0+200*1024 {
		t.Errorf("head RSS grew from %d MB to %d MB", rss0/1024, rssEnd/1024)
	}
	if fdsEnd > fds0+100 {
		t.Errorf("head open files grew from %d to %d", fds0, fdsEnd)
	}
}
