package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/httpapi"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/stash"
)

// DefaultHeadPort is the head's cluster port when --port is not given;
// its GCS replicas use the next ports (one per shard).
const DefaultHeadPort = 6379

var startFlags = flagSpec{"head": false, "address": true, "port": true, "http-port": true, "data-dir": true,
	"node-id": true, "cpus": true, "resources": true, "join": true, "dead-after": true, "gcs-shards": true,
	"bind": true, "lineage": true, "lineage-forward-bound": true}

// cmdStart runs a head (--head) or a node that joins one (--address) in
// the foreground until SIGINT or SIGTERM, then leaves the cluster.
func cmdStart(args []string, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args, startFlags, false)
	if err == nil && (inv.file != "" || len(inv.params) > 0) {
		err = fmt.Errorf("unexpected argument %q", inv.file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, usage)
		return exitUsage
	}
	_, isHead := inv.flags["head"]
	address, hasAddress := inv.flags["address"]
	if isHead == hasAddress {
		fmt.Fprintln(stderr, "error: rayflow start needs either --head or --address HEAD_ADDRESS")
		return exitUsage
	}
	if _, ok := inv.flags["port"]; !ok && isHead {
		inv.flags["port"] = strconv.Itoa(DefaultHeadPort)
	}
	node, listen, err := nodeConfig(inv, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isHead {
		return runHead(ctx, inv, node, listen, stdout, stderr)
	}
	heads := strings.Split(address, ",")
	c, err := nodeagent.JoinCluster(heads, listen, node)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "ready node %s at %s, joined %s\n", c.Head().ID, c.Address(), address)
	<-ctx.Done()
	c.Shutdown("the node is stopping")
	fmt.Fprintf(stdout, "node %s left the cluster\n", c.Head().ID)
	return exitOK
}

func runHead(ctx context.Context, inv *invocation, node nodeagent.Config, listen string, stdout, stderr io.Writer) int {
	cfg := nodeagent.HeadConfig{Node: node, Listen: listen, Join: inv.flags["join"]}
	if port, _ := strconv.Atoi(inv.flags["port"]); port > 0 {
		cfg.RaftAddr = fmt.Sprintf("%s:%d", bindHost(inv), port+1)
	}
	if d, ok := inv.flags["dead-after"]; ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			fmt.Fprintf(stderr, "error: --dead-after needs a duration such as 5s, got '%s'\n", d)
			return exitUsage
		}
		cfg.DeadAfter = dur
	}
	shards, err := inv.intFlag("gcs-shards")
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	cfg.Shards = shards
	head, err := nodeagent.StartHead(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	defer head.Close()
	httpAddr := ""
	if p, ok := inv.flags["http-port"]; ok {
		api, err := httpapi.Serve(bindHost(inv)+":"+p, head.Cluster.Address())
		if err != nil {
			fmt.Fprintf(stderr, "error: cannot serve the HTTP API: %v\n", err)
			return exitFailed
		}
		defer api.Close()
		httpAddr = ", http " + api.Addr()
	}
	role := ""
	if cfg.Join != "" {
		role = ", GCS replica joined to " + cfg.Join
	}
	fmt.Fprintf(stdout, "ready head %s at %s%s%s\n", head.Cluster.Head().ID, head.Cluster.Address(), httpAddr, role)
	<-ctx.Done()
	fmt.Fprintln(stdout, "head stopping")
	return exitOK
}

// nodeConfig reads the flags that describe this process's node.
func nodeConfig(inv *invocation, stdout io.Writer) (nodeagent.Config, string, error) {
	cfg := nodeagent.Config{Stdout: stdout, NodeID: inv.flags["node-id"], DataDir: inv.flags["data-dir"],
		Lineage: inv.flags["lineage"]}
	if _, err := stash.ParseMode(cfg.Lineage); err != nil {
		return cfg, "", err
	}
	bound, err := inv.intFlag("lineage-forward-bound")
	if err != nil {
		return cfg, "", err
	}
	cfg.ForwardBound = bound
	cpus, err := inv.intFlag("cpus")
	if err != nil {
		return cfg, "", err
	}
	cfg.CPUs = cpus
	if _, given := inv.flags["cpus"]; given && cpus == 0 {
		cfg.CPUs = -1 // a node that offers no CPUs (a head that only coordinates)
	}
	if spec, ok := inv.flags["resources"]; ok {
		res, err := resources.ParseSpec(spec)
		if err != nil {
			return cfg, "", fmt.Errorf("--resources: %v", err)
		}
		cfg.Resources = res.Map()
	}
	port := "0"
	if p, ok := inv.flags["port"]; ok {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return cfg, "", fmt.Errorf("--port needs a port number, got '%s'", p)
		}
		port = p
	}
	if cfg.NodeID == "" && port != "0" {
		cfg.NodeID = "node-" + port
	}
	if cfg.NodeID == "" {
		cfg.NodeID = fmt.Sprintf("node-%d", os.Getpid())
	}
	return cfg, bindHost(inv) + ":" + port, nil
}

// bindHost is the address listeners bind to: 127.0.0.1 unless --bind.
func bindHost(inv *invocation) string {
	if h, ok := inv.flags["bind"]; ok {
		return h
	}
	return "127.0.0.1"
}
