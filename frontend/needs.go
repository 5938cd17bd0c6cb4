package frontend

import (
	"sort"
	"strings"
	"sync"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/stdlib"
)

// A need is a name a program takes from outside the standard library:
// "name" for a Go function (a member of a global module, as the
// embedding API registers them) or a module, "module.member" for a
// member of a module.

// standardModules are the standard library's modules, made once: they
// hold no state (their members are builtins that keep theirs on the
// thread), so every program shares them. Callers copy the slice.
var standardModules = sync.OnceValue(stdlib.Modules)

// standard is what the standard library puts in scope, made once and
// shared by every compilation without extra modules (a Universe is only
// read by the compiler).
var standard = sync.OnceValue(func() *compiler.Universe { return exec.Universe(standardModules()) })

// withStandard returns a new slice of the standard library's modules
// then extra, and what they put in scope: the shared standard() when
// extra is empty.
func withStandard(extra []*exec.Module) ([]*exec.Module, *compiler.Universe) {
	std := standardModules()
	modules := make([]*exec.Module, 0, len(std)+len(extra))
	modules = append(append(modules, std...), extra...)
	if len(extra) == 0 {
		return modules, standard()
	}
	return modules, exec.Universe(modules)
}

// Needs lists, sorted, the names cp uses that the standard library does
// not provide: what a process must have registered to load cp.
func Needs(cp *compiler.Program) []string {
	var needs []string
	for use := range cp.Uses {
		if !provides(standard(), use) {
			needs = append(needs, use)
		}
	}
	sort.Strings(needs)
	return needs
}

// Missing lists the needs that the standard library plus extra do not
// provide, in the order given.
func Missing(needs []string, extra []*exec.Module) []string {
	if len(needs) == 0 {
		return nil
	}
	_, u := withStandard(extra)
	var missing []string
	for _, n := range needs {
		if !provides(u, n) {
			missing = append(missing, n)
		}
	}
	return missing
}

// provides reports whether u has the need n.
func provides(u *compiler.Universe, n string) bool {
	if mod, member, ok := strings.Cut(n, "."); ok {
		_, has := u.Modules[mod][member]
		return has
	}
	_, builtin := u.Builtins[n]
	_, module := u.Modules[n]
	return builtin || module
}

// Describe names needs for a person: "Go function 'double'",
// "'geo.dist'" (a module named with its members is not named again).
func Describe(needs []string) string {
	var parts []string
	for _, n := range needs {
		switch {
		case strings.Contains(n, "."):
			parts = append(parts, "'"+n+"'")
		case !hasMember(needs, n):
			parts = append(parts, "Go function '"+n+"'")
		}
	}
	return strings.Join(parts, ", ")
}

func hasMember(needs []string, mod string) bool {
	for _, n := range needs {
		if strings.HasPrefix(n, mod+".") {
			return true
		}
	}
	return false
}
