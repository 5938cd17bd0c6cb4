package httpapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/valyala/fasthttp"
)

// maxJobSource bounds the size of a submitted program.
const maxJobSource = 4 << 20

// Server is a running HTTP API.
type Server struct {
	ln      net.Listener
	srv     *fasthttp.Server
	cluster string // the head's cluster-protocol address
	token   []byte // the cluster token, which the API's own requests to the cluster prove
	nodeID  string // the head's node ID (Options.NodeID)
	// jobMaxMemory caps each job's bytes in each node's object store
	// (Options.JobMaxMemory).
	jobMaxMemory int64
	headID       string // who supervises this head's jobs in their records: nodeID, or "head"
	// store holds every head's jobs (jobs_table.go); ownStore when the
	// API opened it (no Options.Store), to close with it.
	store    *gcs.Store
	ownStore bool
	members  func() []gcs.NodeInfo // Options.Members
	started  time.Time             // when Serve started the API
	tls      *tls.Config           // the head's TLS, for the API's listener and its own connections to the cluster
	// jobsCtx is the context every job runs in; Close cancels it, so
	// that a head stops without waiting for its jobs to end.
	jobsCtx    context.Context
	cancelJobs context.CancelFunc
	jobs       jobTable
	jobWG      sync.WaitGroup // the jobs' supervisors
	wg         sync.WaitGroup // the serving goroutine and the jobs' watcher

	// metrics serves GET /metrics (metrics.go); nil: 404.
	metrics fasthttp.RequestHandler
}

// Options are what the API needs besides its addresses.
type Options struct {
	// Token is the cluster token every request must carry (guard.go);
	// empty only in tests of the API itself.
	Token []byte
	// TLS, when set, serves the API over HTTPS only, and the API's own
	// connections to the cluster (its jobs' drivers, status) use it too.
	TLS *tls.Config
	// Hosts are host names, besides IP addresses and localhost, that a
	// request's Host header may give.
	Hosts []string
	// Metrics, when set, serves GET /metrics (metrics.go).
	Metrics http.Handler
	// NodeID is the head's node, where the jobs' drivers run: a job's
	// driver_node_id, and the supervisor its jobs' records name. Empty:
	// the driver's own node ID.
	NodeID string
	// JobMaxMemory, when above 0, caps the bytes each job's objects may
	// take in each node's object store (`start --job-max-memory`), as
	// `run --max-memory` does for a driver of its own.
	JobMaxMemory int64
	// Members, when set, lists the nodes the head knows, alive or dead
	// (its membership, which hears every node's heartbeats): a job whose
	// supervising head it lists dead, or does not list at all once the
	// API has run for a while, is taken over. Nil: the head's row in the
	// GCS says.
	Members func() []gcs.NodeInfo
	// Store is the head's GCS replica, which keeps the jobs (their
	// records, sources and logs) for every head. Nil: a store of the
	// API's own, in memory (tests of the API alone).
	Store *gcs.Store
}

// Serve starts the API on addr for the cluster whose head is at cluster.
func Serve(addr, cluster string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: retryListener{ln}, cluster: cluster, token: opts.Token, tls: opts.TLS, nodeID: opts.NodeID, jobMaxMemory: opts.JobMaxMemory,
		headID: opts.NodeID, store: opts.Store, members: opts.Members, started: time.Now()}
	if s.headID == "" {
		s.headID = "head"
	}
	if s.store == nil {
		if s.store, err = gcs.Open(gcs.DefaultConfig()); err != nil {
			ln.Close()
			return nil, err
		}
		s.ownStore = true
	}
	s.metrics = metricsHandler(opts.Metrics)
	s.jobsCtx, s.cancelJobs = context.WithCancel(context.Background())
	s.jobs.byID = map[string]*job{}
	s.wg.Add(1)
	go s.watchJobs()
	if opts.TLS != nil {
		s.ln = tls.NewListener(s.ln, httpsConfig(opts.TLS))
	}
	s.srv = &fasthttp.Server{
		Handler:            newGuard(opts.Token, opts.Hosts).wrap(s.handle),
		Name:               "rayflow",
		MaxRequestBodySize: maxJobSource + 4096, // larger: 413
		ReadTimeout:        30 * time.Second,    // a request (or the first) must arrive whole within this
		WriteTimeout:       10 * time.Minute,    // a log's tail ends after this; the client asks again with ?offset=
		IdleTimeout:        time.Minute,
		MaxConnsPerIP:      64,
		Concurrency:        1024,
		ErrorHandler:       requestError,
		Logger:             quiet{}, // a stranger's bad requests do not fill the head's log
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.srv.Serve(s.ln)
	}()
	return s, nil
}

// httpsConfig is the head's TLS for the API's listener: the token, not a
// client certificate, authenticates a request (guard.go), so a browser or
// curl needs only to trust the server's certificate; a client
// certificate, when one is shown, must still be the CA's.
func httpsConfig(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	if c.ClientAuth == tls.RequireAndVerifyClientCert {
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the API.
func (s *Server) Close() error {
	// The jobs running stop (their tasks with them) and their logs'
	// tails end; then the server waits, a bounded time, for the answers
	// to go out.
	s.stopJobs(closeTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := s.srv.ShutdownWithContext(ctx)
	s.wg.Wait()
	if s.ownStore {
		s.store.Close()
	}
	return err
}

// closeTimeout bounds how long Close waits for requests in flight.
const closeTimeout = 5 * time.Second

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if s.jobsRoute(ctx) || s.stateRoute(ctx) || dashboardRoute(ctx) {
		return
	}
	switch string(ctx.Path()) {
	case "/api/status":
		if onlyMethod(ctx, "GET") {
			s.status(ctx)
		}
	case "/metrics":
		s.serveMetrics(ctx)
	default:
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": "not found; the API has /api/status, /api/version, /api/jobs/ and /metrics, and the dashboard is at /"})
	}
}

func (s *Server) status(ctx *fasthttp.RequestCtx) {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := head.FetchStatus(c, s.cluster, s.token, s.tls)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, st)
}

// paramText writes a JSON parameter value as the command line would.
func paramText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return fmt.Sprint(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// requestError answers a request fasthttp could not read.
func requestError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeJSON(ctx, fasthttp.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the body is larger than %d bytes", maxJobSource+4096)})
		return
	}
	writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
}

// quiet is a fasthttp logger that drops what it is given.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

func writeJSON(ctx *fasthttp.RequestCtx, code int, v any) {
	data, _ := json.Marshal(v)
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(data)
}
