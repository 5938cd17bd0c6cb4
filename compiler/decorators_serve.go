package compiler

import (
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// The @serve decorator (spec/serving.md): an actor served over HTTP by
// `rayflow serve`. `rayflow run` records it and runs the program as
// without it.

// Serve is what @serve says about an actor.
type Serve struct {
	Pos   lang.Position
	Route string // "/policy": the URL path before /METHOD
	// Replicas is how many actors serve the route (default 1);
	// MinReplicas and MaxReplicas bound autoscaling (default: Replicas).
	Replicas, MinReplicas, MaxReplicas int
	// MaxBatch, when > 0, groups concurrent requests to a method into
	// one call of up to MaxBatch inputs, waiting at most BatchWaitMS
	// milliseconds after the first (default 10).
	MaxBatch, BatchWaitMS int
}

// Serving limits: what a decorator may ask for.
const (
	maxServeReplicas = 1000
	maxServeBatch    = 10000
	maxBatchWaitMS   = 60000
	// DefaultBatchWaitMS is batch_wait_ms when max_batch is given alone.
	DefaultBatchWaitMS = 10
)

// serveArgs are the arguments @serve takes, for suggestions.
var serveArgs = []string{"route", "replicas", "min_replicas", "max_replicas", "max_batch", "batch_wait_ms"}

// serve reads @serve(route="/r", replicas=, min_replicas=, max_replicas=,
// max_batch=, batch_wait_ms=).
func (c *compiler) serve(d *lang.Decorator, args []decoratorArg, a *Actor) {
	s := &Serve{Pos: d.Pos, Replicas: 1}
	given := map[string]bool{}
	for _, arg := range args {
		if arg.name == "" {
			c.errorf(arg.pos, "@serve takes named arguments, such as @serve(route=\"/policy\", replicas=2)")
			continue
		}
		given[arg.name] = true
		if arg.name == "route" {
			c.serveRoute(arg, s)
			continue
		}
		n, ok := arg.value.(int64)
		lo, hi, field := 1, maxServeReplicas, (*int)(nil)
		switch arg.name {
		case "replicas":
			field = &s.Replicas
		case "min_replicas":
			field = &s.MinReplicas
		case "max_replicas":
			field = &s.MaxReplicas
		case "max_batch":
			field, hi = &s.MaxBatch, maxServeBatch
		case "batch_wait_ms":
			field, lo, hi = &s.BatchWaitMS, 0, maxBatchWaitMS
		default:
			c.errorf(arg.pos, "unknown argument '%s' of @serve (it takes %s)%s", arg.name, strings.Join(serveArgs, "=, ")+"=", Suggest(arg.name, serveArgs))
			continue
		}
		if !ok || n < int64(lo) || n > int64(hi) {
			c.errorf(arg.pos, "%s= of @serve must be an int from %d to %d", arg.name, lo, hi)
			continue
		}
		*field = int(n)
	}
	if !given["route"] {
		c.errorf(d.Pos, "@serve needs a route, such as @serve(route=\"/%s\")", strings.ToLower(a.Name))
	}
	c.checkServeCounts(d, given, s)
	a.Serve = s
}

// serveRoute reads route="/a/b": one or more segments of letters,
// digits, '_' and '-', each after a '/'.
func (c *compiler) serveRoute(arg decoratorArg, s *Serve) {
	r, _ := arg.value.(string)
	ok := strings.HasPrefix(r, "/") && len(r) <= 200
	if ok {
		for _, seg := range strings.Split(r[1:], "/") {
			ok = ok && validActorName(seg)
		}
	}
	if !ok {
		c.errorf(arg.pos, "route= of @serve must be a path such as \"/policy\" or \"/models/policy\": segments of letters, digits, '_' and '-', each after a '/'")
		return
	}
	s.Route = r
}

// checkServeCounts checks that the counts of a @serve agree: min <=
// replicas <= max, and batch_wait_ms only with max_batch.
func (c *compiler) checkServeCounts(d *lang.Decorator, given map[string]bool, s *Serve) {
	if !given["min_replicas"] {
		s.MinReplicas = s.Replicas // equal bounds: no autoscaling unless asked
		if given["max_replicas"] {
			s.MinReplicas = min(s.MinReplicas, s.MaxReplicas)
		}
	}
	if !given["max_replicas"] {
		s.MaxReplicas = max(s.Replicas, s.MinReplicas)
	}
	if !given["replicas"] {
		s.Replicas = max(s.MinReplicas, min(s.Replicas, s.MaxReplicas))
	}
	if s.MinReplicas > s.Replicas || s.Replicas > s.MaxReplicas {
		c.errorf(d.Pos, "@serve needs min_replicas <= replicas <= max_replicas, got %d, %d and %d", s.MinReplicas, s.Replicas, s.MaxReplicas)
	}
	switch {
	case given["batch_wait_ms"] && s.MaxBatch == 0:
		c.errorf(d.Pos, "batch_wait_ms= of @serve needs max_batch=: it is how long a batch waits to fill; add max_batch=32")
	case s.MaxBatch > 0 && !given["batch_wait_ms"]:
		s.BatchWaitMS = DefaultBatchWaitMS
	}
}

// checkServe checks a served actor as a whole: its route is its own, and
// with max_batch each method takes one parameter (the list of inputs).
func (c *compiler) checkServe(a *Actor) {
	s := a.Serve
	if s == nil {
		return
	}
	if s.Route != "" {
		if prev, taken := c.serveRoutes[s.Route]; taken {
			c.errorf(s.Pos, "route %q is already served by the actor declared at %d:%d; give each @serve its own route", s.Route, prev.Line, prev.Column)
		} else {
			if c.serveRoutes == nil {
				c.serveRoutes = map[string]lang.Position{}
			}
			c.serveRoutes[s.Route] = s.Pos
		}
	}
	if s.MaxBatch > 0 {
		for _, name := range keysOf(a.Methods) {
			if m := a.Methods[name]; len(m.Params) != 1 {
				c.errorf(s.Pos, "with max_batch every method of a served actor takes one parameter, the list of inputs of a batch, but %s.%s takes %d", a.Name, name, len(m.Params))
			}
		}
	}
	if len(a.Methods) == 0 {
		c.errorf(s.Pos, "@serve on actor %s, which has no method to serve: routes are POST %s/METHOD", a.Name, s.Route)
	}
}
