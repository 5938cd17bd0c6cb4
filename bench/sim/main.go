// Command sim runs the simulated control plane (package nodeagent/sim)
// over a grid of node counts and GCS shard counts and prints one line a
// run: what the real head handled per second with that many simulated
// nodes heartbeating and drivers asking it to place empty tasks.
//
//	go run ./bench/sim -nodes 10,100,1000 -shards 1,4,8 -duration 3s
//
// -cpuprofile profiles the last run (the whole process: the head's
// goroutines carry no pprof label, the agents' role=agent and the
// drivers' role=driver).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/rayflow/rayflow/nodeagent/sim"
)

func main() {
	nodes := flag.String("nodes", "10,100,1000", "simulated node counts, comma-separated")
	shards := flag.String("shards", "1,4,8", "GCS shard counts, comma-separated")
	duration := flag.Duration("duration", 3*time.Second, "measured window of each run")
	hb := flag.Duration("heartbeat", 500*time.Millisecond, "each agent's heartbeat interval")
	drivers := flag.Int("drivers", 4, "drivers asking the head to place tasks")
	batch := flag.Int("batch", 32, "tasks per Place message")
	cpus := flag.Int("cpus", 8, "CPUs each simulated node offers")
	port := flag.Int("port", 30000, "the first run's head port (each run takes the next 20)")
	dataDir := flag.String("data-dir", "", "make each run's GCS durable under a new directory in `DIR`")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the last run to `FILE`")
	mutexprofile := flag.String("mutexprofile", "", "write a profile of lock contention over every run to `FILE`")
	flag.Parse()
	if *mutexprofile != "" {
		runtime.SetMutexProfileFraction(10)
		defer writeProfile("mutex", *mutexprofile)
	}
	ns, err1 := ints(*nodes)
	ss, err2 := ints(*shards)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "error: -nodes and -shards take comma-separated counts")
		os.Exit(2)
	}
	fmt.Println(sim.Header)
	p := *port
	for i, n := range ns {
		for j, s := range ss {
			last := i == len(ns)-1 && j == len(ss)-1
			if last && *cpuprofile != "" {
				f, err := os.Create(*cpuprofile)
				if err != nil {
					fmt.Fprintln(os.Stderr, "error:", err)
					os.Exit(1)
				}
				pprof.StartCPUProfile(f)
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
			dir := ""
			if *dataDir != "" {
				var err error
				if dir, err = os.MkdirTemp(*dataDir, "sim-"); err != nil {
					fmt.Fprintln(os.Stderr, "error:", err)
					os.Exit(1)
				}
			}
			r, err := sim.Run(sim.Config{Nodes: n, Shards: s, Duration: *duration, HeartbeatEvery: *hb,
				Drivers: *drivers, Batch: *batch, CPUs: *cpus, Port: p, DataDir: dir})
			if dir != "" {
				os.RemoveAll(dir)
			}
			p += 20
			if err != nil {
				fmt.Fprintf(os.Stderr, "error: %d nodes, %d shards: %v\n", n, s, err)
				return
			}
			fmt.Println(r)
			if r.FirstErr != "" {
				fmt.Fprintf(os.Stderr, "  first error: %s\n", r.FirstErr)
			}
		}
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// writeProfile writes the named runtime profile to file.
func writeProfile(name, file string) {
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return
	}
	defer f.Close()
	pprof.Lookup(name).WriteTo(f, 0)
}
