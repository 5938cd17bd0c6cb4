package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/cmd/rayflow/internal/tty"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/serve"
	"github.com/spf13/pflag"
)

// serveFlags are the flags of `rayflow serve`.
type serveFlags struct {
	address   []string
	bind      string
	httpHost  string
	httpPort  int
	cpus      int
	nodes     int
	tokenFile string
	tls       tlsFlags
}

// defaultServePort is where `rayflow serve` listens unless --http-port
// says otherwise (Ray Serve's port).
const defaultServePort = 8000

func (f *serveFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("serve")
	fs.Var(&addressList{&f.address}, "address", "create the replicas on the cluster whose heads are at these addresses (default: an embedded cluster in this process)")
	fs.StringVar(&f.bind, "bind", "", "with --address: the `HOST` this process listens on for the cluster's results (default: the interface it reaches the heads from)")
	fs.StringVar(&f.httpHost, "http-host", "127.0.0.1", "the `HOST` the HTTP ingress binds (0.0.0.0 for every interface)")
	fs.IntVar(&f.httpPort, "http-port", defaultServePort, "the `PORT` the HTTP ingress listens on (0: any free port, printed on the ready line)")
	fs.Var(newCount(&f.cpus, 0), "cpus", "CPUs per node of the embedded cluster (default: this machine's)")
	fs.Var(newCount(&f.nodes, 0), "nodes", "nodes of the embedded cluster (default 1)")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	return fs
}

// cmdServe runs `rayflow serve FILE`: it deploys every @serve actor of
// FILE as replicas and answers their routes over HTTP until SIGINT or
// SIGTERM (spec/serving.md).
func cmdServe(args []string, stdout, stderr io.Writer) int {
	var f serveFlags
	fs := f.flagSet()
	cl, err := parseCommand(fs, args, fileAndParams)
	if err != nil {
		return usageExit("serve", err, stdout, stderr)
	}
	if fs.Changed("address") && (fs.Changed("cpus") || fs.Changed("nodes")) {
		fmt.Fprintln(stderr, "error: --cpus and --nodes configure the embedded cluster; with --address the cluster's nodes were configured by 'rayflow start'")
		return exitUsage
	}
	if f.httpPort < 0 || f.httpPort > 65535 {
		fmt.Fprintf(stderr, "error: --http-port must be from 0 to 65535, not %d\n", f.httpPort)
		return exitUsage
	}
	prog, code := load(cl.file, stderr)
	if prog == nil {
		return code
	}
	cluster, code := f.cluster(fs, stdout, stderr)
	if cluster == nil {
		return code
	}
	defer cluster.Shutdown("serving has stopped")
	app, err := serve.Deploy(cluster, prog, serve.Options{Params: cl.params, Log: stderr})
	if err != nil {
		fmt.Fprint(stderr, rayflow.FormatError(err, prog.Source))
		var ue *rayflow.UsageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	defer app.Close()
	return serveHTTP(app, net.JoinHostPort(f.httpHost, strconv.Itoa(f.httpPort)), stdout, stderr)
}

// cluster starts the embedded cluster, or connects to the one at
// --address; nil (and the exit code) when it cannot.
func (f *serveFlags) cluster(fs *pflag.FlagSet, stdout, stderr io.Writer) (*nodeagent.Cluster, int) {
	if !fs.Changed("address") {
		c, err := nodeagent.NewCluster(nodeagent.Config{Nodes: f.nodes, CPUs: f.cpus, Stdout: stdout})
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return nil, exitFailed
		}
		return c, exitOK
	}
	token, _, err := clientToken(f.tokenFile, f.address)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, exitUsage
	}
	tlsCfg, err := f.tls.config(true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, exitUsage
	}
	warnPlain(stderr, f.bind, tlsCfg)
	c, err := nodeagent.ConnectDriverAt(f.address, f.bind, nodeagent.Config{Stdout: stdout, Token: token, TLS: tlsCfg, SafeOutput: tty.IsTerminal(stdout)})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, exitFailed
	}
	return c, exitOK
}

// serveHTTP answers the application's routes on addr until SIGINT or
// SIGTERM, after printing a line that begins with "ready".
func serveHTTP(app *serve.App, addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot listen on %s: %v\n", addr, err)
		return exitFailed
	}
	srv := app.Server()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "ready: serving http://%s (POST %s)\n", ln.Addr(), strings.Join(app.Routes(), ", POST "))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		_ = srv.Shutdown()
		<-served
		fmt.Fprintln(stderr, "serving stopped")
		return exitOK
	case err := <-served:
		fmt.Fprintf(stderr, "error: the HTTP ingress stopped: %v\n", err)
		return exitFailed
	}
}
