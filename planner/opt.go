package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
)

// Opt is what `--opt` asks for: hints turned on program-wide wherever
// they are eligible, each with its default arguments, or None (every
// hint off, those in the source included). The zero Opt plans with the
// hints written in the source only.
type Opt struct {
	None  bool
	Names map[string]bool
}

// OptNames are the hints --opt may turn on program-wide. colocate is not
// among them: it needs to be told what to be next to.
var OptNames = []string{"adaptive", "batch", "fuse", "locality", "map_reduce", "parameter_server", "pipeline", "rollouts", "spread", "template", "tree_reduce"}

// Default is what a program runs with when --opt is not given: adaptive
// (measured on the benchmarks of spec/hints.md never more than 5% slower
// than --opt none), with the hints of its source.
var Default = Opt{Names: map[string]bool{"adaptive": true}}

// EveryHint is the --opt value that turns every hint on wherever it is
// eligible (the bundles aside: they only name sets of these).
func EveryHint() string {
	var names []string
	for _, n := range OptNames {
		if bundles[n] == nil {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// ParseOpt parses the value of --opt: "none", or hint names separated by
// commas; the empty string is Default.
func ParseOpt(text string) (Opt, error) {
	if strings.TrimSpace(text) == "" {
		return Default, nil
	}
	var o Opt
	for _, name := range strings.Split(text, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "none":
			o.None = true
		case name == "colocate":
			return Opt{}, fmt.Errorf("colocate needs to know what to be next to; write @hint(colocate, with=NAME) on the task")
		case !slices.Contains(OptNames, name):
			return Opt{}, fmt.Errorf("unknown optimisation '%s'%s; known: none, %s", name, compiler.Suggest(name, OptNames), strings.Join(OptNames, ", "))
		default:
			if o.Names == nil {
				o.Names = map[string]bool{}
			}
			o.Names[name] = true
		}
	}
	if o.None && len(o.Names) > 0 {
		return Opt{}, fmt.Errorf("none turns every hint off; it cannot be combined with %s", strings.Join(o.list(), ","))
	}
	return o, nil
}

// Spec is the canonical text of o: "" (the source's hints), "none", or
// the names sorted and joined by commas. Plans made with equal specs of
// one program are equal.
func (o Opt) Spec() string {
	if o.None {
		return "none"
	}
	return strings.Join(o.list(), ",")
}

func (o Opt) list() []string {
	names := make([]string, 0, len(o.Names))
	for n := range o.Names {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// bundles are what each paradigm hint turns on (spec/hints.md).
var bundles = map[string][]string{
	"rollouts":         {"per_node", "spread", "pipeline", "template"},
	"parameter_server": {"pipeline", "template", "locality"},
	"map_reduce":       {"batch", "fuse", "tree_reduce", "locality"},
}

// request is one hint asked for: by a @hint (Hint, at its position) or
// by --opt (Hint nil).
type request struct {
	name string
	hint *compiler.Hint
	via  string // "" for the hint itself, else the bundle or "--opt"
}

// origin says where a request came from, for explain.
func (r request) origin() string {
	switch {
	case r.hint == nil:
		return "--opt " + r.via
	case r.via != "":
		return fmt.Sprintf("@hint(%s) at %d:%d", r.via, r.hint.Pos.Line, r.hint.Pos.Column)
	}
	return fmt.Sprintf("@hint(%s) at %d:%d", r.name, r.hint.Pos.Line, r.hint.Pos.Column)
}

// intArg is an int argument of the request's hint, or def.
func (r request) intArg(name string, def int) int {
	if r.hint == nil || r.via != "" {
		return def
	}
	return r.hint.IntArg(name, def)
}

// expand turns hints into requests, bundles into what they turn on.
func expand(hints []*compiler.Hint, into map[string]request) {
	for _, h := range hints {
		if parts, ok := bundles[h.Name]; ok {
			for _, p := range parts {
				if _, set := into[p]; !set {
					into[p] = request{name: p, hint: h, via: h.Name}
				}
			}
			continue
		}
		into[h.Name] = request{name: h.Name, hint: h}
	}
}

// optRequests are the requests --opt makes program-wide.
func (o Opt) requests() map[string]request {
	out := map[string]request{}
	for _, n := range o.list() {
		if parts, ok := bundles[n]; ok {
			for _, p := range parts {
				out[p] = request{name: p, via: n}
			}
			continue
		}
		out[n] = request{name: n, via: n}
	}
	return out
}

// AppliedAlone lists the --opt values, one hint or bundle each (adaptive,
// the default, aside), under which Decide applies to prog some hint that
// this --opt asked for: the ways a test can force each hint on alone
// where it changes something.
func AppliedAlone(prog *compiler.Program) []string {
	var out []string
	for _, name := range OptNames {
		if name == "adaptive" {
			continue
		}
		opt, err := ParseOpt(name)
		if err != nil {
			panic(err) // OptNames parse by construction
		}
		_, report := Decide(prog, opt)
		for _, d := range report.Decisions {
			if d.Applied && d.Origin == "--opt "+name {
				out = append(out, name)
				break
			}
		}
	}
	return out
}
