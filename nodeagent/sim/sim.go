package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/internal/metrics"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Config is one simulated run.
type Config struct {
	Nodes  int // simulated nodes (default 10)
	Shards int // GCS shards (default 4)
	// CPUs each simulated node offers (default 8).
	CPUs int
	// HeartbeatEvery is each agent's heartbeat interval (default 500 ms,
	// the node agent's).
	HeartbeatEvery time.Duration
	// Drivers ask the head to place tasks, each with its own connection
	// and Batch tasks per Place message (defaults 4 and 32).
	Drivers, Batch int
	// Duration is the measured window, after registration and one
	// heartbeat interval of warm-up (default 3 s).
	Duration time.Duration
	// Port is the head's cluster port; its GCS shards' Raft transports
	// take the next Shards ports, as `rayflow start --head --port` does.
	Port int
	// Register is how many agents register at once (default 32; the
	// head's transport holds at most 64 handshakes per IP).
	Register int
	// DataDir, when set, makes the head's GCS durable there (its Raft
	// log and snapshots on disk), as `rayflow start --data-dir` does.
	DataDir string
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Nodes, 10)
	def(&c.Shards, 4)
	def(&c.CPUs, 8)
	def(&c.Drivers, 4)
	def(&c.Batch, 32)
	def(&c.Register, 32)
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = 500 * time.Millisecond
	}
	if c.Duration <= 0 {
		c.Duration = 3 * time.Second
	}
}

// Result is what the head handled in the measured window.
type Result struct {
	Nodes, Shards int
	Window        time.Duration
	RegisterTime  time.Duration // all agents registered, from the first dial
	Heartbeats    int64         // heartbeats the head answered
	Placements    int64         // tasks the head placed (Place requests answered)
	Tasks         int64         // empty tasks the agents ran
	GCSWrites     int64         // node-table writes the head made: one per heartbeat
	RaftEntries   int64         // Raft log entries its GCS shards applied
	PlaceCalls    int64         // Place messages (Batch tasks each)
	CPUSeconds    float64       // CPU of the whole process (head, agents, drivers)
	RSSBytes      int64         // the process's resident set at the end
	HeapBytes     uint64        // live heap at the end
	Goroutines    int
	Errors        int64 // heartbeats or placements that failed
	FirstErr      string
}

// PerSec is n per second of the window.
func (r *Result) PerSec(n int64) float64 { return float64(n) / r.Window.Seconds() }

// String is one line of the table bench/sim prints.
func (r *Result) String() string {
	return fmt.Sprintf("%5d %6d %10.0f %10.0f %10.0f %10.0f %9.0f %6.2f %7.0f %7.0f %6.1f %5d",
		r.Nodes, r.Shards, r.PerSec(r.Heartbeats), r.PerSec(r.Placements), r.PerSec(r.Tasks),
		r.PerSec(r.GCSWrites), r.PerSec(r.RaftEntries), r.CPUSeconds/r.Window.Seconds(),
		float64(r.RSSBytes)/(1<<20), float64(r.HeapBytes)/(1<<20), r.RegisterTime.Seconds(), r.Errors)
}

// Header names the columns of String.
const Header = "nodes shards     hb/s  placed/s    tasks/s  gcs-wr/s  raft-ent/s  cores  RSS-MiB heap-MiB reg-s  errs"

// counters are what agents and drivers count, shared as atomics.
type counters struct {
	heartbeats, placements, tasks, placeCalls, errors atomic.Int64
	firstErr                                          atomic.Value // string
}

func (c *counters) fail(err error) {
	c.errors.Add(1)
	c.firstErr.CompareAndSwap(nil, err.Error())
}

// agent is one simulated node: its connection to the head and its epoch.
type agent struct {
	id    string
	conn  *transport.Conn
	epoch uint64
	total resources.Resources
	ran   atomic.Int64 // empty tasks run
}

// run runs one empty task at once.
func (a *agent) run() { a.ran.Add(1) }

// Run starts a head on cfg.Port, cfg.Nodes agents and cfg.Drivers
// drivers, measures cfg.Duration and stops everything.
func Run(cfg Config) (*Result, error) {
	cfg.defaults()
	token := make([]byte, 32)
	rand.Read(token)
	h, err := nodeagent.StartHead(nodeagent.HeadConfig{
		Node:   nodeagent.Config{NodeID: "head", CPUs: -1, Token: token, Stdout: io.Discard, DataDir: cfg.DataDir},
		Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)), Shards: cfg.Shards,
		RaftAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port+1)),
	})
	if err != nil {
		return nil, fmt.Errorf("start the head: %w", err)
	}
	defer h.Close()
	addr := h.Cluster.Address()
	var cnt counters
	start := time.Now()
	agents, err := registerAll(addr, token, &cfg)
	defer func() {
		for _, a := range agents {
			a.conn.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	res := &Result{Nodes: cfg.Nodes, Shards: cfg.Shards, RegisterTime: time.Since(start)}
	byID := make(map[string]*agent, len(agents))
	for _, a := range agents {
		byID[a.id] = a
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		offset := cfg.HeartbeatEvery * time.Duration(i) / time.Duration(len(agents))
		go pprof.Do(context.Background(), pprof.Labels("role", "agent"), func(context.Context) {
			defer wg.Done()
			a.heartbeatLoop(cfg.HeartbeatEvery, offset, stop, &cnt)
		})
	}
	drivers, err := startDrivers(addr, token, &cfg, byID, stop, &wg, &cnt)
	defer func() {
		for _, d := range drivers {
			d.Close()
		}
	}()
	if err != nil {
		close(stop)
		wg.Wait()
		return nil, err
	}
	time.Sleep(cfg.HeartbeatEvery) // warm-up: every agent heartbeats once
	before := snapshot(&cnt)
	time.Sleep(cfg.Duration)
	after := snapshot(&cnt)
	close(stop)
	wg.Wait()
	after.sub(before, res)
	res.RSSBytes = rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapBytes = ms.HeapAlloc
	res.Goroutines = runtime.NumGoroutine()
	if s, ok := cnt.firstErr.Load().(string); ok {
		res.FirstErr = s
	}
	return res, nil
}

// registerAll dials the head and registers cfg.Nodes agents, cfg.Register
// at a time.
func registerAll(addr string, token []byte, cfg *Config) ([]*agent, error) {
	agents := make([]*agent, cfg.Nodes)
	total, err := resources.FromMap(map[string]float64{resources.CPU: float64(cfg.CPUs)})
	if err != nil {
		return nil, err
	}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	errs := make([]error, cfg.Register)
	for w := 0; w < cfg.Register; w++ {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("role", "agent"), func(context.Context) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.Nodes || errs[w] != nil {
					return
				}
				agents[i], errs[w] = register(addr, token, i, total)
			}
		})
	}
	wg.Wait()
	kept := agents[:0]
	for _, a := range agents {
		if a != nil {
			kept = append(kept, a)
		}
	}
	return kept, errors.Join(errs...)
}

// register dials the head as simulated node i and registers it. Its
// address is a made-up one (10.x.y.z:30999) that nobody dials: the head
// checks an address's form, and dials only heads.
func register(addr string, token []byte, i int, total resources.Resources) (*agent, error) {
	id := fmt.Sprintf("sim-%04d", i)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, addr, transport.Options{NodeID: id, Token: token})
	if err != nil {
		return nil, fmt.Errorf("agent %s: dial the head: %w", id, err)
	}
	self := fmt.Sprintf("10.%d.%d.%d:30999", 1+i>>16&255, i>>8&255, i&255)
	body := append([]byte{wire.GCSRegister}, wire.EncodeRegister(id, self, total.Map(), false)...)
	reply, err := conn.Call(ctx, transport.GCSRequest, body)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("agent %s: register: %w", id, err)
	}
	epoch := codec.NewDecoder(reply.Payload).Uvarint()
	return &agent{id: id, conn: conn, epoch: epoch, total: total}, nil
}

// heartbeatLoop heartbeats every interval, first after offset, until
// stop: the agent is idle (its tasks end as they start), so it reports
// all of its CPUs free, which releases what the head reserved on it.
func (a *agent) heartbeatLoop(every, offset time.Duration, stop chan struct{}, cnt *counters) {
	select {
	case <-time.After(offset):
	case <-stop:
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		st := placement.NodeState{ID: a.id, Alive: true, Total: a.total, Available: a.total}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := a.conn.Call(ctx, transport.Heartbeat, wire.EncodeHeartbeat(a.id, a.epoch, st, 0))
		cancel()
		if err != nil {
			cnt.fail(fmt.Errorf("heartbeat of %s: %w", a.id, err))
		} else {
			cnt.heartbeats.Add(1)
		}
		select {
		case <-tick.C:
		case <-stop:
			return
		}
	}
}

// startDrivers dials the head as cfg.Drivers drivers, each asking it to
// place cfg.Batch empty tasks at a time until stop and handing each
// placed task to the agent chosen.
func startDrivers(addr string, token []byte, cfg *Config, byID map[string]*agent, stop chan struct{}, wg *sync.WaitGroup, cnt *counters) ([]*transport.Conn, error) {
	demand, err := resources.FromMap(map[string]float64{resources.CPU: 1})
	if err != nil {
		return nil, err
	}
	reqs := make([]wire.PlaceRequest, cfg.Batch)
	for i := range reqs {
		reqs[i] = wire.PlaceRequest{Name: "empty", Demand: demand}
	}
	payload := wire.EncodePlaceRequests(reqs)
	var conns []*transport.Conn
	for d := 0; d < cfg.Drivers; d++ {
		var conn *transport.Conn
		var err error
		pprof.Do(context.Background(), pprof.Labels("role", "driver"), func(context.Context) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err = transport.Dial(ctx, addr, transport.Options{NodeID: fmt.Sprintf("driver-%d", d), Token: token})
		})
		if err != nil {
			return conns, fmt.Errorf("driver %d: dial the head: %w", d, err)
		}
		conns = append(conns, conn)
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("role", "driver"), func(context.Context) {
			defer wg.Done()
			drive(conn, payload, cfg.Batch, byID, stop, cnt)
		})
	}
	return conns, nil
}

// drive places batches of empty tasks until stop.
func drive(conn *transport.Conn, payload []byte, batch int, byID map[string]*agent, stop chan struct{}, cnt *counters) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		reply, err := conn.Call(ctx, transport.Place, payload)
		cancel()
		if err != nil {
			cnt.fail(fmt.Errorf("place: %w", err))
			continue
		}
		results, err := wire.DecodePlaceResults(reply.Payload, batch)
		if err != nil {
			cnt.fail(err)
			continue
		}
		cnt.placeCalls.Add(1)
		for _, r := range results {
			if r.Err != nil {
				cnt.fail(r.Err)
				continue
			}
			cnt.placements.Add(1)
			if a := byID[r.Node]; a != nil {
				a.run()
				cnt.tasks.Add(1)
			}
		}
	}
}

// sample is the counters at one moment.
type sample struct {
	at                                         time.Time
	heartbeats, placements, tasks, calls, errs int64
	raftEntries                                int64
	cpu                                        float64
}

func snapshot(c *counters) sample {
	return sample{at: time.Now(), heartbeats: c.heartbeats.Load(), placements: c.placements.Load(),
		tasks: c.tasks.Load(), calls: c.placeCalls.Load(), errs: c.errors.Load(),
		raftEntries: raftEntries(), cpu: cpuSeconds()}
}

// sub writes s less before into r.
func (s sample) sub(before sample, r *Result) {
	r.Window = s.at.Sub(before.at)
	r.Heartbeats = s.heartbeats - before.heartbeats
	r.Placements = s.placements - before.placements
	r.Tasks = s.tasks - before.tasks
	r.PlaceCalls = s.calls - before.calls
	r.Errors = s.errs - before.errs
	r.GCSWrites = r.Heartbeats // Membership.Heartbeat writes the node's row once
	r.RaftEntries = s.raftEntries - before.raftEntries
	r.CPUSeconds = s.cpu - before.cpu
}

// raftEntries is how many Raft entries this process's GCS replicas have
// applied (the count of the rayflow_gcs_apply_seconds histogram).
func raftEntries() int64 {
	var m dto.Metric
	if err := metrics.GCSApply.Write(&m); err != nil {
		return 0
	}
	return int64(m.GetHistogram().GetSampleCount())
}

// cpuSeconds is the CPU time (user and system) this process used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// rss is this process's resident set size, from /proc (0 elsewhere).
func rss() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
