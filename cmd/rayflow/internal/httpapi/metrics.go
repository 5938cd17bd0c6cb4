package httpapi

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// metricsHandler adapts a process's metrics handler (Prometheus's, a
// net/http one) to fasthttp; nil stays nil.
func metricsHandler(h http.Handler) fasthttp.RequestHandler {
	if h == nil {
		return nil
	}
	return fasthttpadaptor.NewFastHTTPHandler(h)
}

// serveMetrics answers GET /metrics, behind the guard like every route.
func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) {
	switch {
	case s.metrics == nil:
		ctx.Error("not found: this server has no metrics", fasthttp.StatusNotFound)
	case !ctx.IsGet() && !ctx.IsHead():
		ctx.Error("use GET", fasthttp.StatusMethodNotAllowed)
	default:
		s.metrics(ctx)
	}
}

// MetricsServer serves only GET /metrics, for a node, which has no HTTP
// API (`rayflow start --address ... --metrics-port P`); the same guard
// as the API's checks every request (token, Host, Origin).
type MetricsServer struct {
	ln  net.Listener
	srv *fasthttp.Server
	api *Server // for its handle: the /metrics route and nothing else
}

// ServeMetrics starts a metrics server on addr; opts.Metrics is what it
// serves.
func ServeMetrics(addr string, opts Options) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MetricsServer{ln: retryListener{ln}, api: &Server{metrics: metricsHandler(opts.Metrics)}}
	if opts.TLS != nil {
		m.ln = tls.NewListener(m.ln, httpsConfig(opts.TLS))
	}
	m.srv = &fasthttp.Server{
		Handler:            newGuard(opts.Token, opts.Hosts).wrap(m.handle),
		Name:               "rayflow",
		MaxRequestBodySize: 4096,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       time.Minute,
		IdleTimeout:        time.Minute,
		MaxConnsPerIP:      16,
		Concurrency:        64,
		ErrorHandler:       requestError,
		Logger:             quiet{},
	}
	go m.srv.Serve(m.ln)
	return m, nil
}

func (m *MetricsServer) handle(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) != "/metrics" {
		ctx.Error("not found; this server has only /metrics", fasthttp.StatusNotFound)
		return
	}
	m.api.serveMetrics(ctx)
}

// Addr is the address the server listens on.
func (m *MetricsServer) Addr() string { return m.ln.Addr().String() }

// Close stops the server.
func (m *MetricsServer) Close() error { return m.srv.Shutdown() }
