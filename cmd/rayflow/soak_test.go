package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The soak (issue 15, "memory that stays flat"): a head and two nodes as
// real processes run one long job whose every round gets a 160 KB result
// made on a node, then many small jobs one after another. After a
// warm-up, every process's resident memory stays flat: the median of
// the last third of its samples is within soakGrowth of the median of
// the middle third. Before results were released when their owner had
// fetched them, each node kept every result of the job until it ended
// (2,000 rounds took a node from 10 to 334 MiB).
//
// make test runs a short soak; make soak a long one (RAYFLOW_SOAK_ROUNDS
// rounds in the long job, RAYFLOW_SOAK_JOBS small jobs).

// soakGrowth is the most a process's resident memory may grow after
// warm-up.
const soakGrowth = 0.10

// soakSlack is growth in bytes that never counts. The resident memory
// of a Go process of some 20 MiB moves by several MiB with the
// collector's timing alone (its heap goal is twice the live heap), and a
// node's by 10 MiB when more of the job's rounds come to it: the short
// soak of make test allows 32 MiB, which the leak it guards against
// passes by hundreds (each node kept every 160 KB result: over 400 MiB in
// 3,000 rounds), so it catches gross leaks only; the long soak (make
// soak), whose processes settle, allows 1 MiB, so that a slow leak shows.
func soakSlack(rounds int) float64 {
	if rounds >= 10000 {
		return 1 << 20
	}
	return 32 << 20
}

// soakSetting reads a positive count from the environment variable name,
// def when it is not set.
func soakSetting(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive count", name, s)
	}
	return n
}

func TestSoakMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and runs for a while")
	}
	rounds := soakSetting(t, "RAYFLOW_SOAK_ROUNDS", 3000)
	jobs := soakSetting(t, "RAYFLOW_SOAK_JOBS", 300)
	bin := buildCLI(t)
	hp, p1, p2 := freePortRange(t, 5), freePort(t), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	cluster := map[string]*proc{
		"head": startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head"),
		"w1":   startWorker(t, bin, head, "w1", p1, "--cpus", "1"),
		"w2":   startWorker(t, bin, head, "w2", p2, "--cpus", "1"),
	}
	waitState(t, bin, head, "w1", "alive", 10*time.Second)
	waitState(t, bin, head, "w2", "alive", 10*time.Second)
	pids := map[string]int{}
	for name, p := range cluster {
		pids[name] = p.cmd.Process.Pid
	}

	t.Run("one long job", func(t *testing.T) {
		prog := writeProgram(t, fmt.Sprintf(`
task big(i) { return [float(i)] * 20000 }
pipeline main() {
    let s = 0.0
    for i in range(%d) { s = s + get(big(i))[0] }
    print(s)
}
`, rounds))
		cmd := exec.Command(bin, "run", "--address", head, prog)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		withDriver := map[string]int{"driver": cmd.Process.Pid}
		for name, pid := range pids {
			withDriver[name] = pid
		}
		s := sampleRSS(withDriver, 200*time.Millisecond)
		err := cmd.Wait()
		samples := s.stop()
		want := fmt.Sprintf("%d.0\n", rounds*(rounds-1)/2)
		if err != nil || out.String() != want {
			t.Fatalf("the job: %v, stdout %q (want %q)\n%s", err, out.String(), want, errOut.String())
		}
		checkFlat(t, samples, soakSlack(rounds))
	})

	t.Run("many jobs", func(t *testing.T) {
		prog := writeProgram(t, `
task big(i) { return [float(i)] * 20000 }
task sq(x) { return x * x }
pipeline main() {
    let s = 0
    for i in range(10) { s = s + get(sq(i)) + len(get(big(i))) }
    print(s)
}
`)
		s := sampleRSS(pids, 100*time.Millisecond)
		for j := 0; j < jobs; j++ {
			code, out, errOut := runIn(t, "", bin, nil, "run", "--address", head, prog)
			if code != 0 || out != "200285\n" {
				s.stop()
				t.Fatalf("job %d: exit %d, stdout %q\n%s", j, code, out, errOut)
			}
		}
		checkFlat(t, s.stop(), soakSlack(rounds))
	})
}

// rssSampler samples the resident memory of processes on a ticker.
type rssSampler struct {
	done    chan struct{}
	wg      sync.WaitGroup
	samples map[string][]int64 // by process name; written by the sampler until stop
}

// sampleRSS samples the processes named in pids every period until stop.
func sampleRSS(pids map[string]int, period time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), samples: map[string][]int64{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			for name, pid := range pids {
				if rss := readRSS(pid); rss > 0 {
					s.samples[name] = append(s.samples[name], rss)
				}
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the samples.
func (s *rssSampler) stop() map[string][]int64 {
	close(s.done)
	s.wg.Wait()
	return s.samples
}

// readRSS is the resident memory of process pid in bytes, 0 when it
// cannot be read (the process ended).
func readRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// checkFlat fails the test when a process's memory grew after warm-up:
// the first third of its samples is the warm-up, and the median of the
// last third may exceed the median of the middle third by soakGrowth
// and slack at most.
func checkFlat(t *testing.T, samples map[string][]int64, slack float64) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to read resident memory from")
	}
	for name, s := range samples {
		if len(s) < 9 {
			t.Errorf("%s: only %d samples of its memory", name, len(s))
			continue
		}
		n := len(s)
		middle, last := median(s[n/3:2*n/3]), median(s[2*n/3:])
		t.Logf("%s: RSS %.1f MiB after warm-up, %.1f MiB at the end (%d samples, max %.1f MiB)",
			name, mib(middle), mib(last), n, mib(slices.Max(s)))
		if float64(last) > float64(middle)*(1+soakGrowth)+slack {
			t.Errorf("%s: resident memory grew from %.1f MiB to %.1f MiB after warm-up (more than %.0f%%)",
				name, mib(middle), mib(last), soakGrowth*100)
		}
	}
}

// median is the median of s.
func median(s []int64) int64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c[len(c)/2]
}

// mib is n bytes in MiB.
func mib(n int64) float64 { return float64(n) / (1 << 20) }
