package httpapi

import (
	"embed"
	"strings"

	"github.com/valyala/fasthttp"
)

// The dashboard: a page at / that shows the cluster (nodes, jobs and
// their logs, actors, tasks, a job's timeline) and submits and stops
// jobs, from the API's own routes, polled by the page. Its files are
// plain HTML, CSS and JavaScript embedded in the binary: nothing to
// build, nothing fetched from another site. The guard (guard.go) covers
// it as every route: a browser logs in by opening /?token=TOKEN once;
// without the cookie, GET / answers the login page (loginPage) instead.
//
//go:embed dashboard/index.html dashboard/app.js dashboard/style.css dashboard/login.html
var dashboardFiles embed.FS

// dashboardAssets are the files the dashboard serves, by path.
var dashboardAssets = map[string]struct{ file, contentType string }{
	"/":                    {"dashboard/index.html", "text/html; charset=utf-8"},
	"/dashboard/app.js":    {"dashboard/app.js", "text/javascript; charset=utf-8"},
	"/dashboard/style.css": {"dashboard/style.css", "text/css; charset=utf-8"},
}

// dashboardCSP confines the page to this server: its own script and
// styles (no inline code), requests to its own API, no framing (a stop
// button inside another site's frame could be clicked for the user).
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// dashboardRoute serves the dashboard's files; false when the path is
// none of them.
func dashboardRoute(ctx *fasthttp.RequestCtx) bool {
	asset, ok := dashboardAssets[string(ctx.Path())]
	if !ok {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		methodNotAllowed(ctx, "GET")
		return true
	}
	body, err := dashboardFiles.ReadFile(asset.file)
	if err != nil { // embedded: cannot happen
		writeJSON(ctx, fasthttp.StatusInternalServerError, map[string]string{"error": err.Error()})
		return true
	}
	securityHeaders(ctx, dashboardCSP)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetContentType(asset.contentType)
	ctx.SetBody(body)
	return true
}

// securityHeaders are the headers of every page the dashboard serves.
func securityHeaders(ctx *fasthttp.RequestCtx, csp string) {
	ctx.Response.Header.Set("Content-Security-Policy", csp)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("X-Frame-Options", "DENY")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
}

// wantsLoginPage reports whether a refused request is a browser opening
// the dashboard, which gets the login page rather than JSON.
func wantsLoginPage(ctx *fasthttp.RequestCtx) bool {
	return (ctx.IsGet() || ctx.IsHead()) && string(ctx.Path()) == "/"
}

// loginCSP allows the login page nothing but its own inline style and a
// form that opens this server's /?token=.
const loginCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// loginPage answers an unauthenticated GET / with a form that opens
// /?token=TOKEN (which the guard turns into the login cookie), with
// status 401: a wrong token given says so. The page holds no data.
func loginPage(ctx *fasthttp.RequestCtx) {
	page, _ := dashboardFiles.ReadFile("dashboard/login.html")
	why := ""
	if len(ctx.QueryArgs().Peek("token")) > 0 {
		why = "That token is not this cluster's."
	}
	body := strings.Replace(string(page), "{{WHY}}", why, 1) // a constant text, never the request's
	securityHeaders(ctx, loginCSP)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusUnauthorized)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBodyString(body)
}
