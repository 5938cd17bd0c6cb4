package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	name      string
	asJSON    bool
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
	fs.Var(&addressList{&f.address}, "address", "deploy to the cluster whose heads are at these addresses, which serves the application until 'rayflow serve delete' (default: serve from this process, until SIGINT or SIGTERM)")
	fs.StringVar(&f.httpHost, "http-host", "127.0.0.1", "the `HOST` the HTTP ingress binds (0.0.0.0 for every interface)")
	fs.IntVar(&f.httpPort, "http-port", defaultServePort, "the `PORT` the HTTP ingress listens on (without --address, 0 is any free port, printed on the ready line)")
	fs.StringVar(&f.name, "name", "", "the application's `NAME` (default: FILE's name without .rayflow)")
	fs.Var(newCount(&f.cpus, 0), "cpus", "CPUs per node of the embedded cluster (default: this machine's)")
	fs.Var(newCount(&f.nodes, 0), "nodes", "nodes of the embedded cluster (default 1)")
	switchVar(fs, &f.asJSON, "json", "", "serve status: print one JSON object")
	fs.StringVar(&f.bind, "bind", "", "with --address: the `HOST` this process listens on for the cluster's answers while it deploys (default: the interface it reaches the heads from)")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	return fs
}

// cmdServe runs `rayflow serve FILE`, `serve status` and `serve delete`
// (spec/serving.md).
func cmdServe(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "status" || args[0] == "delete") {
		return cmdServeAdmin(args[0], args[1:], stdout, stderr)
	}
	var f serveFlags
	fs := f.flagSet()
	cl, err := parseCommand(fs, args, fileAndParams)
	if err != nil {
		return usageExit("serve", err, stdout, stderr)
	}
	if err := f.check(fs, cl.file); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
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
	if fs.Changed("address") {
		return f.deploy(cluster, prog, cl.params, stdout, stderr)
	}
	app, err := serve.Deploy(cluster, prog, serve.Options{Name: f.name, Params: cl.params, Log: stderr})
	if err != nil {
		return deployFailed(err, prog, stderr)
	}
	defer app.Close()
	return serveHTTP(serve.NewMux(app), net.JoinHostPort(f.httpHost, strconv.Itoa(f.httpPort)), app.Routes(), stdout, stderr)
}

// check checks the flags that go together, and names the application.
func (f *serveFlags) check(fs *pflag.FlagSet, file string) error {
	if fs.Changed("address") && (fs.Changed("cpus") || fs.Changed("nodes")) {
		return errors.New("--cpus and --nodes configure the embedded cluster; with --address the cluster's nodes were configured by 'rayflow start'")
	}
	if f.httpPort < 0 || f.httpPort > 65535 || (f.httpPort == 0 && fs.Changed("address")) {
		return fmt.Errorf("--http-port must be from 1 to 65535 (0, any free port, only without --address), not %d", f.httpPort)
	}
	if f.name == "" {
		f.name = appName(file)
	}
	return nil
}

// appName makes an application's name from its file's: letters, digits,
// '_' and '-' of its base name without the extension.
func appName(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, base)
	if name == "" {
		return "app"
	}
	return name[:min(len(name), 64)]
}

func deployFailed(err error, prog *rayflow.Program, stderr io.Writer) int {
	fmt.Fprint(stderr, rayflow.FormatError(err, prog.Source))
	var ue *rayflow.UsageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailed
}

// cluster starts the embedded cluster, or connects to the one at
// --address; nil (and the exit code) when it cannot.
func (f *serveFlags) cluster(fs *pflag.FlagSet, stdout, stderr io.Writer) (*nodeagent.Cluster, int) {
	if !fs.Changed("address") {
		// Without lineage: an embedded node does not fail, so nothing
		// would ever be rebuilt from it, and a server that kept each
		// request's would grow with every request.
		c, err := nodeagent.NewCluster(nodeagent.Config{Nodes: f.nodes, CPUs: f.cpus, Stdout: stdout, Lineage: "off"})
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

// serveHTTP answers the mux's routes on addr until SIGINT or SIGTERM,
// after printing a line that begins with "ready".
func serveHTTP(mux *serve.Mux, addr string, routes []string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "error: cannot listen on %s: %v\n", addr, err)
		return exitFailed
	}
	srv := mux.Server()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "ready: serving http://%s (POST %s)\n", ln.Addr(), strings.Join(routes, ", POST "))
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

// deploy deploys the application to the cluster (its replicas detached
// named actors the heads own, its record in the GCS), waits for a head
// to serve it, and returns. A redeploy is a new version: its replicas
// start beside the old version's, which the head stops once the new one
// serves and the old one's requests are answered.
func (f *serveFlags) deploy(c *nodeagent.Cluster, prog *rayflow.Program, params map[string]string, stdout, stderr io.Writer) int {
	recs, err := serve.Records(c)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	version := 1
	if old, ok := recs[f.name]; ok {
		version = max(old.Version, 1) + 1
	}
	stamp := time.Now().UnixNano()
	app, err := serve.Deploy(c, prog, serve.Options{Name: f.name, Version: version, Deployed: stamp, Params: params})
	if err != nil {
		if moved, now := versionMoved(c, f.name, version-1); moved {
			// Another deploy made this version's replicas first.
			err = fmt.Errorf("application %s: %w (now version %d): deploy again", f.name, serve.ErrConcurrentDeploy, now)
		}
		return deployFailed(err, prog, stderr)
	}
	defer app.Close()
	rec := app.Record(f.httpHost, f.httpPort)
	if err := serve.Publish(c, rec); err != nil {
		if _, now := versionMoved(c, f.name, version-1); now != version { // else the replicas' names are the record's
			serve.StopReplicas(c, rec, nil)
		}
		return deployFailed(err, prog, stderr)
	}
	url := "http://" + net.JoinHostPort(f.reachHost(), strconv.Itoa(f.httpPort))
	if !waitServed(url+app.Routes()[0], stamp, 20*time.Second) {
		fmt.Fprintf(stderr, "warning: application %s is deployed, but %s does not serve it yet (does a head run on that host, and is the port free?)\n", f.name, url)
	}
	fmt.Fprintf(stdout, "deployed application %s version %d: %s (POST %s)\n", f.name, version, url, strings.Join(app.Routes(), ", POST "))
	return exitOK
}

// versionMoved reports whether the application's record is no longer at
// version read (0: none), and the version it is at now (0: none, or
// unknown).
func versionMoved(c *nodeagent.Cluster, name string, read int) (bool, int) {
	recs, err := serve.Records(c)
	if err != nil {
		return false, 0
	}
	now := 0
	if rec, ok := recs[name]; ok {
		now = max(rec.Version, 1)
	}
	return now != read, now
}

// reachHost is the host this process reaches the heads' HTTP ingress at:
// --http-host, or for an address of every interface or of this machine,
// the first head's host.
func (f *serveFlags) reachHost() string {
	if f.httpHost != "0.0.0.0" && f.httpHost != "::" && f.httpHost != "" {
		return f.httpHost
	}
	host, _, err := net.SplitHostPort(f.address[0])
	if err != nil {
		return "127.0.0.1"
	}
	return host
}

// waitServed waits until url answers as a serving port does for the
// version stamped stamp (405 to a GET of a route, with its stamp in
// X-Rayflow-Deployed), at most within.
func waitServed(url string, stamp int64, within time.Duration) bool {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("X-Rayflow-Deployed") == strconv.FormatInt(stamp, 10) {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// cmdServeAdmin runs `rayflow serve status` and `rayflow serve delete
// [NAME]` against a cluster.
func cmdServeAdmin(verb string, args []string, stdout, stderr io.Writer) int {
	var f serveFlags
	fs := f.flagSet()
	if err := fs.Parse(gnuArgs(fs, args)); err != nil {
		return usageExit("serve", err, stdout, stderr)
	}
	words := fs.Args()
	if (verb == "status" && len(words) > 0) || len(words) > 1 {
		return usageExit("serve", fmt.Errorf("unexpected argument '%s'", words[len(words)-1]), stdout, stderr)
	}
	if !fs.Changed("address") {
		addr, ok := localHeadAddress()
		if !ok {
			fmt.Fprintln(stderr, "error: no head runs on this machine: give --address HEAD_ADDRESS (the address 'rayflow start --head' printed)")
			return exitUsage
		}
		f.address = []string{addr}
		_ = fs.Set("address", addr)
	}
	c, code := f.cluster(fs, io.Discard, stderr)
	if c == nil {
		return code
	}
	defer c.Shutdown("done")
	if verb == "delete" {
		return serveDelete(c, words, stdout, stderr)
	}
	return serveStatus(c, f.asJSON, stdout, stderr)
}

// serveStatus prints each application, its routes and its replicas.
func serveStatus(c *nodeagent.Cluster, asJSON bool, stdout, stderr io.Writer) int {
	recs, err := serve.Records(c)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	type routeJSON struct {
		Route    string                `json:"route"`
		Class    string                `json:"class"`
		Methods  []string              `json:"methods"`
		Replicas []serve.ReplicaStatus `json:"replicas"`
	}
	type appJSON struct {
		Name     string          `json:"name"`
		File     string          `json:"file"`
		URL      string          `json:"url"`
		ServedBy []serve.Ingress `json:"served_by"`
		Routes   []routeJSON     `json:"routes"`
	}
	out := struct {
		Applications []appJSON `json:"applications"`
	}{Applications: []appJSON{}}
	servedBy, err := serve.ServedBy(c)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	for _, name := range serve.SortedNames(recs) {
		rec := recs[name]
		st := serve.Status(c, rec)
		a := appJSON{Name: name, File: rec.File, URL: "http://" + net.JoinHostPort(rec.HTTPHost, strconv.Itoa(rec.HTTPPort)), ServedBy: servedBy[name]}
		if a.ServedBy == nil {
			a.ServedBy = []serve.Ingress{}
		}
		for _, d := range rec.Deployments {
			a.Routes = append(a.Routes, routeJSON{Route: d.Route, Class: d.Class, Methods: d.Methods, Replicas: st[d.Route]})
		}
		out.Applications = append(out.Applications, a)
	}
	if asJSON {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	if len(out.Applications) == 0 {
		fmt.Fprintln(stdout, "no application is deployed")
	}
	for _, a := range out.Applications {
		fmt.Fprintf(stdout, "application %s (%s) at %s\n", a.Name, a.File, a.URL)
		fmt.Fprintf(stdout, "  served by %s\n", describeIngresses(a.ServedBy))
		for _, r := range a.Routes {
			fmt.Fprintf(stdout, "  %s  actor %s, methods %s\n", r.Route, r.Class, strings.Join(r.Methods, ", "))
			for _, rep := range r.Replicas {
				fmt.Fprintf(stdout, "    %-24s %-8s %s\n", rep.Name, rep.State, rep.Address)
			}
		}
	}
	return exitOK
}

// serveDelete removes the application named (every one without a name).
func serveDelete(c *nodeagent.Cluster, words []string, stdout, stderr io.Writer) int {
	recs, err := serve.Records(c)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
	names := words
	if len(names) == 0 {
		names = serve.SortedNames(recs)
	}
	for _, name := range names {
		found, err := serve.Delete(c, name)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitFailed
		case !found:
			fmt.Fprintf(stderr, "error: no application named %q is deployed (rayflow serve status lists them)\n", name)
			return exitFailed
		}
		fmt.Fprintf(stdout, "deleted application %s\n", name)
	}
	return exitOK
}

// describeIngresses says which processes serve an application: "head at
// http://127.0.0.1:8000, w1 at http://..." or "no process yet", and
// those whose port is taken: "; port taken at w2 (http://...)".
func describeIngresses(list []serve.Ingress) string {
	var serving, taken []string
	for _, in := range list {
		if in.State == serve.IngressPortTaken {
			taken = append(taken, in.ID+" ("+in.URL+")")
		} else {
			serving = append(serving, in.ID+" at "+in.URL)
		}
	}
	out := "no process yet"
	if len(serving) > 0 {
		out = strings.Join(serving, ", ")
	}
	if len(taken) > 0 {
		out += "; port taken at " + strings.Join(taken, ", ")
	}
	return out
}
