package serve

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/stdlib"
	"github.com/valyala/fasthttp"
)

// The HTTP contract (spec/serving.md): `POST /ROUTE/METHOD` with a JSON
// array (positional arguments) or object (keyword arguments) answers
// the method's result as JSON; an error answers 4xx or 5xx with
// {"error": MESSAGE, "kind": KIND}. Nothing else is served.

// MaxBodySize is the largest request body the ingress reads.
const MaxBodySize = 8 << 20

// Mux answers the routes of the applications mounted on it, on one
// HTTP port. Its lock guards apps: Mount and Unmount write, requests
// read. refreshHost, set before it serves, is never changed.
type Mux struct {
	mu   sync.RWMutex
	apps map[string]*App // by application name
	// refreshHost, when set, has the mux's host read the applications'
	// records and mount what they say, and returns once it has (or
	// after a bound): a request whose replica was stopped calls it
	// before it looks for the version now served (App.retryTarget).
	refreshHost func()
}

// refresh has the mux's host, if it has one, serve what the records say
// now.
func (m *Mux) refresh() {
	if m.refreshHost != nil {
		m.refreshHost()
	}
}

// NewMux returns a mux with the applications apps.
func NewMux(apps ...*App) *Mux {
	m := &Mux{apps: map[string]*App{}}
	for _, a := range apps {
		m.apps[a.name] = a
		a.mux.Store(m)
	}
	return m
}

// Mount puts app on the mux, in the place of the application of the
// same name if there is one, which it returns (nil if none).
func (m *Mux) Mount(app *App) (old *App) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old = m.apps[app.name]
	m.apps[app.name] = app
	app.mux.Store(m)
	if old != nil && old != app {
		old.superseded.Store(true)
	}
	return old
}

// Unmount takes the application named name off the mux and returns it
// (nil if it was not there) and how many are left.
func (m *Mux) Unmount(name string) (*App, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.apps[name]
	delete(m.apps, name)
	if old != nil {
		old.superseded.Store(true)
	}
	return old, len(m.apps)
}

// app returns the application named name on the mux (nil if none).
func (m *Mux) app(name string) *App {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.apps[name]
}

// find returns the deployment and method a path names, among the
// mounted applications.
func (m *Mux) find(path string) (*App, *deployment, string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, a := range m.apps {
		if d, method, ok := a.route(path); ok {
			return a, d, method, true
		}
	}
	return nil, nil, "", false
}

// routes lists every mounted route, sorted.
func (m *Mux) routes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []string
	for _, a := range m.apps {
		out = append(out, a.Routes()...)
	}
	sort.Strings(out)
	return out
}

// Server returns a fasthttp server that answers the mux's routes.
func (m *Mux) Server() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:              m.Handler,
		Name:                 "rayflow-serve",
		MaxRequestBodySize:   MaxBodySize,
		NoDefaultContentType: true,
		ErrorHandler:         answerBadRequest,
		Logger:               quiet{},
	}
}

// answerBadRequest answers a request fasthttp could not read: 413 for a
// body over MaxBodySize, else 400.
func answerBadRequest(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		answerError(ctx, fasthttp.StatusRequestEntityTooLarge, "too_large", "the body is larger than the limit of 8 MiB")
		return
	}
	answerError(ctx, fasthttp.StatusBadRequest, "bad_request", "cannot read the request: "+err.Error())
}

// quiet drops fasthttp's log lines: every failure is answered to its
// client.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

// Handler answers one request.
func (m *Mux) Handler(ctx *fasthttp.RequestCtx) {
	a, d, method, ok := m.find(string(ctx.Path()))
	if !ok {
		answerError(ctx, fasthttp.StatusNotFound, "not_found", "no such route: "+string(ctx.Path())+"; the routes are POST "+strings.Join(m.routes(), ", POST "))
		return
	}
	ctx.Response.Header.Set("X-Rayflow-Deployed", a.stampText)
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		answerError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use POST with a JSON array or object of arguments")
		return
	}
	a.answer(ctx, d, method)
}

// answer calls the method a request names and answers its result.
func (a *App) answer(ctx *fasthttp.RequestCtx, d *deployment, method string) {
	d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	args, kw, err := decodeArgs(ctx.PostBody())
	if err != nil {
		answerError(ctx, fasthttp.StatusBadRequest, "bad_request", err.Error())
		return
	}
	var v exec.Value
	if b := d.methods[method]; b != nil {
		input, err := batchInput(d, method, args, kw)
		if err != nil {
			answerError(ctx, fasthttp.StatusBadRequest, "bad_request", err.Error())
			return
		}
		v, err = b.call(input)
		if err != nil {
			answerExecError(ctx, err)
			return
		}
	} else if v, err = a.call(d, method, args, kw); err != nil {
		answerExecError(ctx, err)
		return
	}
	out, err := stdlib.EncodeJSON(v)
	if err != nil {
		answerError(ctx, fasthttp.StatusInternalServerError, errorKind(err), "the result of "+d.class.Name()+"."+method+" is not JSON: "+errorMessage(err))
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(out)
}

// route finds the deployment and method a path names: the route is the
// path up to its last '/', the method what follows.
func (a *App) route(path string) (*deployment, string, bool) {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return nil, "", false
	}
	d := a.byRoute[path[:i]]
	if d == nil {
		return nil, "", false
	}
	method := path[i+1:]
	if _, ok := d.class.Methods[method]; !ok {
		return nil, "", false
	}
	return d, method, true
}

// decodeArgs reads a request body: a JSON array is the positional
// arguments, a JSON object the keyword arguments; an empty body is no
// argument.
func decodeArgs(body []byte) ([]exec.Value, []exec.Kwarg, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, nil
	}
	v, err := stdlib.DecodeJSON(string(body))
	if err != nil {
		return nil, nil, errors.New("the body is not JSON: " + errorMessage(err))
	}
	switch v.Kind() {
	case exec.ListKind:
		return v.AsList().Elems, nil, nil
	case exec.MapKind:
		m := v.AsMap()
		kw := make([]exec.Kwarg, m.Len())
		for i, k := range m.Keys() {
			kw[i] = exec.Kwarg{Name: k.AsString(), Value: m.Values()[i]}
		}
		return nil, kw, nil
	}
	return nil, nil, errors.New("the body must be a JSON array (positional arguments) or object (keyword arguments), not a " + v.TypeName())
}

// batchInput is a request's one input to a batched method: its one
// positional argument, or its keyword argument named as the method's
// parameter.
func batchInput(d *deployment, method string, args []exec.Value, kw []exec.Kwarg) (exec.Value, error) {
	param := d.class.Methods[method].Info.Params[0].Name
	switch {
	case len(args) == 1 && len(kw) == 0:
		return args[0], nil
	case len(args) == 0 && len(kw) == 1 && kw[0].Name == param:
		return kw[0].Value, nil
	}
	return exec.None, errors.New(d.class.Name() + "." + method + " is batched: each request gives one input, as [INPUT] or {\"" + param + "\": INPUT}")
}

// answerExecError answers a failed call: 400 when the arguments did not
// fit the method, 503 when no replica could answer, 504 on a timeout,
// else 500; kind is the rayflow error kind (spec/errors.md).
func answerExecError(ctx *fasthttp.RequestCtx, err error) {
	kind := errorKind(err)
	status := fasthttp.StatusInternalServerError
	var e *exec.Error
	switch {
	case errors.As(err, &e) && e.Task == "" && e.Cause == nil && (kind == exec.KindType || kind == exec.KindName):
		status = fasthttp.StatusBadRequest // bound before the call ran
	case kind == exec.KindLost:
		status = fasthttp.StatusServiceUnavailable
	case kind == exec.KindTimeout:
		status = fasthttp.StatusGatewayTimeout
	}
	answerError(ctx, status, kind, errorMessage(err))
}

// innermost returns the error a method raised behind the "task" errors
// that carried it.
func innermost(err error) *exec.Error {
	var e *exec.Error
	if !errors.As(err, &e) {
		return nil
	}
	for e.Cause != nil {
		e = e.Cause
	}
	return e
}

func errorKind(err error) string {
	if e := innermost(err); e != nil {
		return e.Kind
	}
	return exec.KindInternal
}

func errorMessage(err error) string {
	if e := innermost(err); e != nil {
		return e.Msg
	}
	return err.Error()
}

// answerError writes {"error": msg, "kind": kind} with status.
func answerError(ctx *fasthttp.RequestCtx, status int, kind, msg string) {
	m := exec.NewMap(2)
	_ = m.Set(exec.Str("error"), exec.Str(msg))
	_ = m.Set(exec.Str("kind"), exec.Str(kind))
	body, _ := stdlib.EncodeJSON(exec.MapValue(m))
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(body)
}
