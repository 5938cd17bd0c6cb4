package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/httpapi"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/serve"
	"github.com/spf13/pflag"
)

// DefaultHTTPPort is the port of a head's HTTP API when --http-port is
// not given (Ray's dashboard port).
const DefaultHTTPPort = 8265

// DefaultHeadPort is the head's cluster port when --port is not given;
// its GCS replicas use the next ports (one per shard).
const DefaultHeadPort = 6379

// startFlags are the flags of `rayflow start`.
type startFlags struct {
	head           bool
	address        []string // the heads a node joins
	port, httpPort int
	metricsPort    int // --metrics-port, when given
	servePort      int // --serve-port (a node's ingress of rayflow serve); 0: each application on its deployed port
	dataDir        string
	nodeID         string
	cpus           int
	resources      map[string]float64
	join           string
	deadAfter      time.Duration
	removeDeadHead time.Duration
	shards         int
	bind           string
	lineage        string
	forwardBound   int
	memoryLimit    int64 // --memory-limit; 0: the default
	jobMaxMemory   int64 // --job-max-memory; 0: no cap
	tokenFile      string
	tls            tlsFlags
}

func (f *startFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("start")
	switchVar(fs, &f.head, "head", "", "start a head: the GCS and the cluster's coordination")
	fs.Var(&addressList{&f.address}, "address", "start a node that joins the heads at these addresses")
	fs.Var(&portValue{&f.port}, "port", fmt.Sprintf("the cluster `PORT` (default %d with --head, else any free port); a head's GCS replicas use the next ports", DefaultHeadPort))
	fs.Var(&portValue{&f.httpPort}, "http-port", fmt.Sprintf("serve the HTTP API and the dashboard on `PORT` (head only; default %d; 0 for any free port)", DefaultHTTPPort))
	fs.Var(&portValue{&f.metricsPort}, "metrics-port", "serve Prometheus metrics at /metrics on `PORT` (0 for any free port; a head serves them on its HTTP API too)")
	fs.Var(&portValue{&f.servePort}, "serve-port", "serve every application of `rayflow serve` on `PORT` instead of its deployed port (default: a head serves each on its deployed port, a node each one whose replica it holds)")
	fs.StringVar(&f.bind, "bind", "127.0.0.1", "the `HOST` listeners bind to; with 0.0.0.0 (every interface) the node advertises the address it reaches its heads from (a first head: its first address that is not loopback)")
	fs.StringVar(&f.dataDir, "data-dir", "", "keep the node's state and spill files under `DIR`")
	fs.StringVar(&f.nodeID, "node-id", "", "the node's `ID` (default node-PORT, or node-PID)")
	fs.Var(newCount(&f.cpus, 0), "cpus", "CPUs the node offers; 0 for none, a head that only coordinates (default: this machine's)")
	fs.Var(&resourcesValue{&f.resources}, "resources", "extra resources the node offers, such as gpu=1,memory=16GiB")
	fs.StringVar(&f.join, "join", "", "join the GCS replica group of the cluster of the head at `ADDR`, any live head (head only)")
	fs.Var(&durationValue{d: &f.deadAfter, example: "5s", positive: true}, "dead-after", fmt.Sprintf("mark a node dead after this long without heartbeats (head only; default %s)", head.DefaultDeadAfter))
	fs.Var(&memoryValue{&f.memoryLimit}, "memory-limit", "the process's memory limit, such as 4GiB: past 90% of it in live heap, the running work of the job that holds the most is stopped with a memory error, so that the node survives (default: 90% of RAM)")
	fs.Var(&memoryValue{&f.jobMaxMemory}, "job-max-memory", "cap the bytes the objects of each job submitted to the HTTP API may take in each node's object store, as `run --max-memory` does (head only; default: no cap)")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	fs.Var(&durationValue{d: &f.removeDeadHead, example: "30s"}, "remove-dead-head-after", fmt.Sprintf("remove from the GCS a head unreachable this long, so a new head can take its place; 0 never (head only; default %s)", head.DefaultRemoveDeadHeadAfter))
	fs.Var(newCount(&f.shards, 0), "gcs-shards", fmt.Sprintf("the number of GCS shards (head only; default %d)", gcs.DefaultConfig().Shards))
	fs.Var(&lineageValue{&f.lineage}, "lineage", "how task lineage reaches the GCS: stash (default), sync or off")
	fs.Var(newCount(&f.forwardBound, 0), "lineage-forward-bound", "the lineage stash's forwarding bound (default 8)")
	return fs
}

// cmdStart runs a head (--head) or a node that joins one (--address) in
// the foreground until SIGINT or SIGTERM, then leaves the cluster.
func cmdStart(args []string, stdout, stderr io.Writer) int {
	var f startFlags
	fs := f.flagSet()
	if _, err := parseCommand(fs, args, noArgs); err != nil {
		return usageExit("start", err, stdout, stderr)
	}
	if f.head == fs.Changed("address") {
		fmt.Fprintln(stderr, "error: rayflow start needs either --head or --address HEAD_ADDRESS")
		return exitUsage
	}
	if !fs.Changed("port") && f.head {
		f.port = DefaultHeadPort
	}
	node, listen := f.nodeConfig(fs, stdout)
	tlsCfg, err := f.tls.config(true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	node.TLS = tlsCfg
	warnPlain(stderr, f.bind, tlsCfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.head {
		token, from, err := headToken(f.tokenFile, f.dataDir, f.join)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitFailed
		}
		node.Token = token
		return f.runHead(ctx, fs, node, listen, from, stdout, stderr)
	}
	token, _, err := clientToken(f.tokenFile, f.address)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	node.Token = token
	address := strings.Join(f.address, ",")
	c, err := nodeagent.JoinCluster(f.address, listen, node)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	stops := []func(){func() { c.Shutdown("the node is stopping") }}
	metricsAddr, stopMetrics, err := f.serveMetrics(fs, c, node)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		stopWithin(stopTimeout, stderr, stops)
		return exitFailed
	}
	stops = append(stops, stopMetrics)
	stops = append(stops, hostApplicationsWith(c, stderr, serve.HostOptions{ID: c.Head().ID, Node: true, Port: f.servePort}))
	fmt.Fprintf(stdout, "ready node %s at %s, joined %s%s\n", c.Head().ID, c.Address(), address, metricsAddr)
	<-ctx.Done()
	stopWithin(stopTimeout, stderr, stops)
	fmt.Fprintf(stdout, "node %s left the cluster\n", c.Head().ID)
	return exitOK
}

func (f *startFlags) runHead(ctx context.Context, fs *pflag.FlagSet, node nodeagent.Config, listen, tokenFrom string, stdout, stderr io.Writer) int {
	cfg := nodeagent.HeadConfig{Node: node, Listen: listen, Join: f.join, DeadAfter: f.deadAfter, Shards: f.shards,
		RemoveDeadHeadAfter: f.removeDeadHead}
	if !fs.Changed("remove-dead-head-after") {
		cfg.RemoveDeadHeadAfter = head.DefaultRemoveDeadHeadAfter
	}
	if f.port > 0 {
		cfg.RaftAddr = net.JoinHostPort(f.bind, fmt.Sprint(f.port+1))
		// Bound to every interface: the other heads dial this one's
		// advertised address (nodeagent.AdvertiseHost).
		if adv := nodeagent.AdvertiseHost(f.bind, []string{f.join}); adv != f.bind {
			cfg.RaftAdvertise = net.JoinHostPort(adv, fmt.Sprint(f.port+1))
		}
	}
	head, err := nodeagent.StartHead(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	// What stops with the head, last first: its HTTP API (which ends the
	// jobs it runs), then the head itself.
	stops := []func(){head.Close}
	defer func() { stopWithin(stopTimeout, stderr, stops) }()
	httpAddr := ""
	httpPort := f.httpPort
	if !fs.Changed("http-port") {
		httpPort = DefaultHTTPPort
	}
	api, err := httpapi.Serve(net.JoinHostPort(f.bind, fmt.Sprint(httpPort)), head.Cluster.Address(),
		httpapi.Options{Token: node.Token, TLS: node.TLS, Metrics: head.Cluster.MetricsHandler(), NodeID: head.Cluster.Head().ID, JobMaxMemory: f.jobMaxMemory,
			Store: head.Store, Members: head.Membership.All})
	switch {
	case err != nil && fs.Changed("http-port"):
		fmt.Fprintf(stderr, "error: cannot serve the HTTP API: %v\n", err)
		return exitFailed
	case err != nil:
		// The default port is taken (another head on this machine):
		// this head serves no HTTP API rather than not starting.
		fmt.Fprintf(stderr, "warning: no HTTP API: port %d is in use (give --http-port PORT): %v\n", httpPort, err)
	default:
		stops = append(stops, func() { api.Close() })
		httpAddr = ", http " + api.Addr()
		if withdraw, _, err := publishHTTPToken(portOf(api.Addr()), node.Token); err == nil {
			stops = append(stops, withdraw)
		}
	}
	stops = append(stops, hostApplicationsWith(head.Cluster, stderr, serve.HostOptions{ID: head.Cluster.Head().ID, Port: f.servePort}))
	metricsAddr, stopMetrics, err := f.serveMetrics(fs, head.Cluster, node)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	stops = append(stops, stopMetrics)
	httpAddr += metricsAddr
	role := ""
	if cfg.Join != "" {
		role = ", GCS replica joined to " + cfg.Join
	}
	withdraw, published, err := publishHeadToken(portOf(head.Cluster.Address()), node.Token)
	if err != nil {
		fmt.Fprintf(stderr, "warning: commands on this machine will not find the cluster token by themselves: %v\n", err)
	} else {
		stops = append(stops, withdraw)
	}
	if tokenFrom == "" { // a token of this run only
		tokenFrom = published + " (new; give --data-dir to keep it)"
	}
	fmt.Fprintf(stdout, "ready head %s at %s%s%s, token %s\n", head.Cluster.Head().ID, head.Cluster.Address(), httpAddr, role, tokenFrom)
	<-ctx.Done()
	fmt.Fprintln(stdout, "head stopping")
	return exitOK
}

// hostApplicationsWith serves the applications deployed with `rayflow
// serve --address` (serve.RunHostWith: a head's ingress, or a node's)
// until the returned function stops it.
func hostApplicationsWith(c *nodeagent.Cluster, stderr io.Writer, opts serve.HostOptions) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve.RunHostWith(ctx, c, stderr, opts)
	}()
	return func() { cancel(); <-done }
}

// serveMetrics serves the process's metrics on --metrics-port, when
// given, behind the cluster token; it returns what the ready line adds
// (", metrics ADDR", or "") and how to stop.
func (f *startFlags) serveMetrics(fs *pflag.FlagSet, c *nodeagent.Cluster, node nodeagent.Config) (string, func(), error) {
	if !fs.Changed("metrics-port") {
		return "", func() {}, nil
	}
	m, err := httpapi.ServeMetrics(net.JoinHostPort(f.bind, fmt.Sprint(f.metricsPort)),
		httpapi.Options{Token: node.Token, TLS: node.TLS, Metrics: c.MetricsHandler()})
	if err != nil {
		return "", nil, fmt.Errorf("cannot serve metrics: %v", err)
	}
	return ", metrics " + m.Addr(), func() { m.Close() }, nil
}

// stopTimeout bounds how long a head or node takes to stop after SIGINT
// or SIGTERM: what has not stopped by then (a job that does not end, a
// peer that does not answer) is left to the process's exit.
const stopTimeout = 10 * time.Second

// stopWithin runs stops, last first, and returns when they are done or
// after within, whichever comes first.
func stopWithin(within time.Duration, stderr io.Writer, stops []func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	select {
	case <-done:
	case <-time.After(within):
		fmt.Fprintf(stderr, "warning: not everything stopped within %s; exiting anyway\n", within)
	}
}

// nodeConfig is the configuration of this process's node, and the
// address its cluster port listens on.
func (f *startFlags) nodeConfig(fs *pflag.FlagSet, stdout io.Writer) (nodeagent.Config, string) {
	cfg := nodeagent.Config{Stdout: stdout, NodeID: f.nodeID, DataDir: f.dataDir, Lineage: f.lineage,
		ForwardBound: f.forwardBound, CPUs: f.cpus, Resources: f.resources, MemoryLimit: f.memoryLimit}
	if fs.Changed("cpus") && f.cpus == 0 {
		cfg.CPUs = -1 // a node that offers no CPUs (a head that only coordinates)
	}
	if cfg.NodeID == "" && f.port != 0 {
		cfg.NodeID = fmt.Sprintf("node-%d", f.port)
	}
	if cfg.NodeID == "" {
		cfg.NodeID = fmt.Sprintf("node-%d", os.Getpid())
	}
	return cfg, net.JoinHostPort(f.bind, fmt.Sprint(f.port))
}
