package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// guard checks every request before the API sees it (DESIGN.md,
// Security and HTTP):
//   - the cluster token, as `Authorization: Bearer TOKEN` or as the
//     cookie a browser gets by opening /?token=TOKEN once (which
//     redirects to the same page without it); the cookie holds a MAC of
//     the token, not the token. A GET of / (the dashboard) without
//     either answers the login page (dashboard.go), a form that opens
//     /?token=, with the same 401; every other route answers JSON;
//   - a request with a body sends it as application/json, which a
//     cross-site form or a text/plain fetch cannot do without the
//     browser asking first;
//   - Host names this server by an IP address, localhost or a name it
//     was told (Options.Hosts), so that a page of another site whose
//     name was rebound to this address cannot use the browser's cookie;
//   - Origin, when sent, is this server (same Host).
//
// Without a token (tests of the API itself) only the last three apply.
type guard struct {
	token  []byte
	cookie string // the cookie's value: a MAC of the token
	hosts  map[string]bool
}

// cookieName is the cookie a browser logs in with.
const cookieName = "rayflow_session"

func newGuard(token []byte, hosts []string) *guard {
	g := &guard{token: token, hosts: map[string]bool{"localhost": true}}
	for _, h := range hosts {
		g.hosts[strings.ToLower(h)] = true
	}
	if len(token) > 0 {
		m := hmac.New(sha256.New, token)
		m.Write([]byte("rayflow dashboard cookie v1"))
		g.cookie = hex.EncodeToString(m.Sum(nil))
	}
	return g
}

// wrap returns next behind the guard.
func (g *guard) wrap(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if code, why := g.check(ctx); code != 0 {
			if code == fasthttp.StatusUnauthorized {
				ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="rayflow"`)
				if wantsLoginPage(ctx) {
					loginPage(ctx) // a person opening the dashboard: a form for the token
					return
				}
			}
			writeJSON(ctx, code, map[string]string{"error": why})
			return
		}
		if g.login(ctx) {
			return
		}
		next(ctx)
	}
}

// check returns the status code and reason that refuse the request, or
// 0 when it may go on.
func (g *guard) check(ctx *fasthttp.RequestCtx) (int, string) {
	if !g.hostAllowed(string(ctx.Host())) {
		return fasthttp.StatusForbidden, "the Host header does not name this server"
	}
	if origin := ctx.Request.Header.Peek("Origin"); len(origin) > 0 && !sameOrigin(string(origin), string(ctx.Host())) {
		return fasthttp.StatusForbidden, "requests from another site's pages are refused"
	}
	if len(ctx.PostBody()) > 0 || ctx.IsPost() || ctx.IsPut() {
		ct := strings.ToLower(strings.TrimSpace(strings.Split(string(ctx.Request.Header.ContentType()), ";")[0]))
		if ct != "application/json" && len(ctx.PostBody()) > 0 {
			return fasthttp.StatusUnsupportedMediaType, "the body must be sent as Content-Type: application/json"
		}
	}
	if len(g.token) == 0 || g.authorized(ctx) {
		return 0, ""
	}
	return fasthttp.StatusUnauthorized, "this cluster needs its token: send Authorization: Bearer TOKEN (the token is in the head's DATA_DIR/token, or in --token-file)"
}

// authorized reports whether the request carries the token or the
// login cookie, or is the login itself (/?token=TOKEN).
func (g *guard) authorized(ctx *fasthttp.RequestCtx) bool {
	if auth := string(ctx.Request.Header.Peek("Authorization")); strings.HasPrefix(auth, "Bearer ") {
		return hmac.Equal([]byte(strings.TrimSpace(auth[len("Bearer "):])), g.token)
	}
	if c := ctx.Request.Header.Cookie(cookieName); len(c) > 0 {
		return hmac.Equal(c, []byte(g.cookie))
	}
	if t := ctx.QueryArgs().Peek("token"); len(t) > 0 && ctx.IsGet() {
		return hmac.Equal(t, g.token)
	}
	return false
}

// login answers a GET with ?token=TOKEN (already checked): it sets the
// cookie and redirects to the same path without the token, so that the
// token leaves the address bar and the history.
func (g *guard) login(ctx *fasthttp.RequestCtx) bool {
	if len(g.token) == 0 || !ctx.IsGet() || len(ctx.QueryArgs().Peek("token")) == 0 {
		return false
	}
	var c fasthttp.Cookie
	c.SetKey(cookieName)
	c.SetValue(g.cookie)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	ctx.Response.Header.SetCookie(&c)
	ctx.QueryArgs().Del("token")
	target := string(ctx.Path())
	if q := ctx.QueryArgs().String(); q != "" {
		target += "?" + q
	}
	ctx.Redirect(target, fasthttp.StatusSeeOther)
	return true
}

// hostAllowed reports whether a Host header names this server.
func (g *guard) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	return net.ParseIP(host) != nil || g.hosts[host]
}

// sameOrigin reports whether an Origin header is this server's.
func sameOrigin(origin, host string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(origin, scheme); ok {
			return strings.EqualFold(rest, host)
		}
	}
	return false
}

// retryListener keeps accepting when the process is out of file
// descriptors (EMFILE, ENFILE): fasthttp ends its accept loop on any
// error that is not a timeout, which left the API dead for good after a
// burst of connections.
type retryListener struct {
	net.Listener
}

func (l retryListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err == nil || !(errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)) {
			return c, err
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}
