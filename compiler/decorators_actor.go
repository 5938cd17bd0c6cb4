package compiler

import (
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// The decorators of named, detached and concurrent actors
// (spec/decorators.md): @name, @lifetime and @concurrency.

// DefaultNamespace is the namespace of a named actor whose @name gives
// none, and the one actors.get looks in by default.
const DefaultNamespace = "default"

// decoratorAdvice says, for a decorator used on the wrong kind of
// declaration, what to do instead.
func decoratorAdvice(name string) string {
	switch name {
	case "name", "lifetime", "concurrency":
		return "; declare an actor (actor Name(...) { ... }) to give it a name, a lifetime or concurrency"
	case "serve":
		return "; declare an actor (actor Name(...) { ... }) whose methods answer the route's requests"
	}
	return ""
}

// actorName reads @name("NAME") or @name("NAME", namespace="NS").
func (c *compiler) actorName(d *lang.Decorator, args []decoratorArg, a *Actor) {
	a.Namespace = DefaultNamespace
	for _, arg := range args {
		s, ok := arg.value.(string)
		switch {
		case arg.name == "" && ok && validActorName(s):
			a.ActorName = s
		case arg.name == "":
			c.errorf(arg.pos, "@name needs a non-empty string of letters, digits, '_' and '-', such as @name(\"policy\")")
		case arg.name == "namespace" && ok && validActorName(s):
			a.Namespace = s
		case arg.name == "namespace":
			c.errorf(arg.pos, "namespace= of @name must be a non-empty string of letters, digits, '_' and '-', such as namespace=\"serving\"")
		default:
			c.errorf(arg.pos, "unknown argument '%s' of @name; it takes a name and namespace=\"NS\"", arg.name)
		}
	}
	if a.ActorName == "" && len(args) == 0 {
		c.errorf(d.Pos, "@name takes the actor's name, such as @name(\"policy\")")
	}
}

// validActorName reports whether s can name an actor or a namespace:
// what a command line and a URL carry without quoting.
func validActorName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// lifetime reads @lifetime("detached").
func (c *compiler) lifetime(d *lang.Decorator, args []decoratorArg, a *Actor) {
	if len(args) != 1 || args[0].name != "" {
		c.errorf(d.Pos, "@lifetime takes one lifetime, such as @lifetime(\"detached\")")
		return
	}
	s, _ := args[0].value.(string)
	switch s {
	case "detached":
		a.Detached = true
	case "job":
	default:
		c.errorf(args[0].pos, "unknown lifetime %q; it is \"detached\" (outlives its job) or \"job\" (the default)%s", s, Suggest(s, []string{"detached", "job"}))
	}
}

// maxConcurrency is the most method calls an actor may run at once, by
// @concurrency or options(concurrency=...).
const maxConcurrency = 10000

// concurrency reads @concurrency(n), n >= 1.
func (c *compiler) concurrency(d *lang.Decorator, args []decoratorArg, a *Actor) {
	if len(args) != 1 || args[0].name != "" {
		c.errorf(d.Pos, "@concurrency takes one count, such as @concurrency(4)")
		return
	}
	n, ok := args[0].value.(int64)
	if !ok || n < 1 || n > maxConcurrency {
		c.errorf(args[0].pos, "@concurrency needs an int from 1 to %d, such as @concurrency(4): it is how many method calls may run at once", maxConcurrency)
		return
	}
	a.Concurrency = int(n)
}

// checkActorDecorators checks what the actor's decorators say together:
// a lifetime needs a name, and a concurrent actor cannot be restarted
// (its calls interleave, so no logged order replays them) unless it is
// served (its restart replays nothing).
func (c *compiler) checkActorDecorators(decs []*lang.Decorator, a *Actor) {
	if a.Concurrency == 0 {
		a.Concurrency = 1
	}
	for _, d := range decs {
		switch {
		case d.Name == "lifetime" && a.ActorName == "":
			c.errorf(d.Pos, "@lifetime needs @name: a detached actor is found again by its name; add @name(\"%s\")", strings.ToLower(a.Name))
		case d.Name == "concurrency" && a.Concurrency > 1 && a.Restarts > 0 && a.ReplaysCalls(): // a served actor replays nothing
			c.errorf(d.Pos, "@concurrency(%d) cannot go with @restarts: the calls of a concurrent actor interleave at their waits, so no logged order replays them into the same state; drop @restarts, or @concurrency", a.Concurrency)
		}
	}
}
