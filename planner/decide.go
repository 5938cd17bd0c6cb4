package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// Decision is one entry of what the planner decided about one hint at
// one place: applied (What says what it changes) or refused (What says
// why). `rayflow explain` prints them.
type Decision struct {
	Pos     lang.Position
	Hint    string
	Applied bool
	What    string
	Origin  string // the @hint or --opt that asked for it
	// Unused marks a refused hint of the source that nothing in the
	// program could use (no call of its task, no loop of its pipeline
	// making task calls): a REPL input, a program of its own, need not
	// call every declaration.
	Unused bool
}

// Line is the decision as explain prints it.
func (d Decision) Line() string {
	verdict := "refused"
	if d.Applied {
		verdict = "applied"
	}
	return fmt.Sprintf("%s:%d:%d: %s %s: %s (%s)", d.Pos.Filename, d.Pos.Line, d.Pos.Column, d.Hint, verdict, d.What, d.Origin)
}

// Report is every decision of one Decide call, in source order.
type Report struct {
	Spec      string
	Decisions []Decision
}

// Text prints the report, one decision a line.
func (r *Report) Text() string {
	if len(r.Decisions) == 0 {
		if r.Spec == "none" {
			return "no hints: --opt none turns every hint off\n"
		}
		return "no hints: the program asks for none (try --opt NAME)\n"
	}
	var b strings.Builder
	for _, d := range r.Decisions {
		b.WriteString(d.Line())
		b.WriteByte('\n')
	}
	return b.String()
}

// Refused lists the refused decisions.
func (r *Report) Refused() []Decision {
	var out []Decision
	for _, d := range r.Decisions {
		if !d.Applied {
			out = append(out, d)
		}
	}
	return out
}

// Decide makes every optimisation decision for prog with the options
// opt: which calls are grouped (batch, fuse), which loops run ahead
// (pipeline), which reductions are trees, and how calls are placed. Each
// hint asked for, in the source or by --opt, is applied where it is safe
// and refused with a reason elsewhere. Decide is deterministic: the same
// program and options give the same Set on every node.
func Decide(prog *compiler.Program, opt Opt) (*decision.Set, *Report) {
	d := &decider{prog: prog, opt: opt, set: decision.New(opt.Spec()), report: &Report{Spec: opt.Spec()}, used: map[*compiler.Hint]bool{}}
	if opt.None {
		return d.set, d.report
	}
	d.optReqs = opt.requests()
	sites := sortedSites(prog)
	d.chainNames(sites)
	for _, site := range sites {
		d.site(site)
	}
	for _, f := range prog.Funcs {
		d.loops(f)
	}
	d.templates()
	d.reductions()
	d.unused()
	sort.SliceStable(d.report.Decisions, func(i, j int) bool {
		a, b := d.report.Decisions[i].Pos, d.report.Decisions[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return d.set, d.report
}

// decider is the state of one Decide call.
type decider struct {
	prog        *compiler.Program
	opt         Opt
	optReqs     map[string]request
	set         *decision.Set
	report      *Report
	used        map[*compiler.Hint]bool // hints that matched somewhere
	calls       map[*compiler.CallSite]*lang.Call
	chains      map[*compiler.Func]map[string]bool // names fused calls take, per function
	assigned    map[*compiler.Func]*assignments    // what each function's assignments say
	effectsDone map[*compiler.Func]string          // effectsOf, per function
	loopSites   map[*compiler.CallSite]bool        // sites inside loops (inLoop), made on first use
}

func (d *decider) note(pos lang.Position, r request, applied bool, format string, args ...any) {
	if r.hint != nil {
		d.used[r.hint] = true
	}
	d.report.Decisions = append(d.report.Decisions, Decision{Pos: pos, Hint: r.name, Applied: applied, What: fmt.Sprintf(format, args...), Origin: r.origin()})
}

// noteUnused refuses h, a hint of the source nothing in the program
// could use (Decision.Unused).
func (d *decider) noteUnused(h *compiler.Hint, format string, args ...any) {
	d.note(h.Pos, request{name: h.Name, hint: h}, false, format, args...)
	d.report.Decisions[len(d.report.Decisions)-1].Unused = true
}

// requests are the hints asked for at a call of callee made in enclosing:
// the callee's own, the enclosing pipeline's, then --opt's.
func (d *decider) requests(callee, enclosing *compiler.Func) map[string]request {
	out := map[string]request{}
	if callee != nil {
		expand(callee.Hints, out)
	}
	if enclosing != nil && enclosing.Kind == "pipeline" {
		pipe := map[string]request{}
		expand(enclosing.Hints, pipe)
		for k, v := range pipe {
			if _, set := out[k]; !set {
				out[k] = v
			}
		}
	}
	for k, v := range d.optReqs {
		if _, set := out[k]; !set {
			out[k] = v
		}
	}
	if r, ok := out["adaptive"]; ok {
		// Adaptive decides grouping at run time, and takes the static
		// decisions that are safe and never slower: loops run ahead,
		// chains fused.
		for _, name := range []string{"pipeline", "fuse"} {
			if _, set := out[name]; !set {
				out[name] = request{name: name, hint: r.hint, via: "adaptive"}
			}
		}
	}
	return out
}

func sortedSites(prog *compiler.Program) []*compiler.CallSite {
	sites := make([]*compiler.CallSite, 0, len(prog.Sites))
	for _, s := range prog.Sites {
		sites = append(sites, s)
	}
	sort.Slice(sites, func(i, j int) bool {
		a, b := sites[i].Pos, sites[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return sites
}

// site decides grouping and placement for one task call site.
func (d *decider) site(site *compiler.CallSite) {
	if site.Kind != "task" || site.Func == nil || site.Options {
		return
	}
	reqs := d.requests(site.Func, site.Enclosing)
	dec := &decision.Site{}
	d.yieldToPlacement(site, reqs)
	if r, ok := reqs["batch"]; ok && !site.Func.Deterministic {
		// Its calls would wait behind one another: a program that
		// races them (wait with a timeout, the clock) could tell.
		d.note(site.Pos, r, false, "'%s' is nondeterministic (%s)", site.Callee, site.Func.NondeterministicReason())
	} else if size := r.intArg("size", 0); ok && size > 0 {
		dec.Group = min(size, decision.MaxGroup)
		d.note(site.Pos, r, true, "calls of '%s' go to the scheduler in groups of up to %d, one placement and one message per group", site.Callee, dec.Group)
	} else if ok {
		// batch(auto): the group size is measured, as adaptive does.
		dec.Adaptive = true
		d.note(site.Pos, r, true, "calls of '%s' are measured; if each runs for less than it costs to schedule, they go in groups sized to run ~1 ms", site.Callee)
	}
	if r, ok := reqs["fuse"]; ok {
		switch {
		case !site.Func.Deterministic:
			d.note(site.Pos, r, false, "'%s' is nondeterministic (%s)", site.Callee, site.Func.NondeterministicReason())
		case len(d.takesFuture(site)) > 0:
			dec.Fuse = true
			d.note(site.Pos, r, true, "this call of '%s' runs right after the call whose result it takes, on the same worker", site.Callee)
		case d.startsChain(site):
			dec.Fuse = true
			d.note(site.Pos, r, true, "this call of '%s' waits to be sent with the fused call that takes its result", site.Callee)
		case r.hint != nil:
			d.note(site.Pos, r, false, "no argument of this call of '%s' is the result of a task call", site.Callee)
		}
	}
	d.perNode(site, reqs, dec)
	d.placement(site, reqs, dec)
	if r, ok := reqs["adaptive"]; ok && dec.Group <= 1 && !dec.Adaptive && dec.Place == decision.PlaceDefault {
		if site.Func.Deterministic {
			dec.Adaptive = true
			d.note(site.Pos, r, true, "calls of '%s' are measured; if each runs for less than it costs to schedule, they go in groups sized to run ~1 ms", site.Callee)
		} else if r.hint != nil {
			d.note(site.Pos, r, false, "'%s' is nondeterministic (%s)", site.Callee, site.Func.NondeterministicReason())
		}
	}
	if dec.Group > 1 || dec.Fuse || dec.Adaptive || dec.Place != decision.PlaceDefault {
		d.set.Sites[site] = dec
	}
}

// yieldToPlacement drops from reqs the groupings adaptive turned on
// (fuse, its batch(auto)) at a site the source places (placedBy),
// noting why where the grouping would have applied.
func (d *decider) yieldToPlacement(site *compiler.CallSite, reqs map[string]request) {
	if r, ok := reqs["per_node"]; ok && explicit(r) && site.Func.Deterministic {
		// The source's per_node groups the site itself (perNode), in
		// place of its bundle's spread: adaptive's fuse gives way to it,
		// and nothing here is refused.
		if f, ok := reqs["fuse"]; ok && adaptive(f) {
			delete(reqs, "fuse")
		}
		return
	}
	for _, name := range []string{"fuse", "adaptive"} {
		r, ok := reqs[name]
		if !ok {
			continue
		}
		by := d.placedBy(site, r, reqs)
		if by == "" {
			continue
		}
		applies := site.Func.Deterministic
		if name == "fuse" {
			applies = applies && (len(d.takesFuture(site)) > 0 || d.startsChain(site))
		}
		if applies {
			d.note(site.Pos, r, false, "this call of '%s' is placed by %s, which a group placed as one would undo", site.Callee, by)
		}
		delete(reqs, name)
	}
}

// explicit reports whether r was asked for in the source (a @hint on
// the task or its pipeline, or a bundle there), not turned on by --opt
// or by adaptive.
func explicit(r request) bool { return r.hint != nil && r.via != "adaptive" }

// adaptive reports whether r is adaptive's own (batch(auto) at every
// site) or one it turned on (pipeline, fuse): adaptive decides what the
// program did not, so it gives way to what the source asks for.
func adaptive(r request) bool { return r.name == "adaptive" || r.via == "adaptive" }

// placedBy names the placement the source asks for at site (spread,
// locality, colocate, or template in a loop) that r, a grouping adaptive
// turned on, gives way to; "" when r stands.
func (d *decider) placedBy(site *compiler.CallSite, r request, reqs map[string]request) string {
	if !adaptive(r) {
		return ""
	}
	for _, name := range []string{"spread", "locality", "colocate", "template"} {
		p, ok := reqs[name]
		switch {
		case !ok || !explicit(p):
			continue
		case name == "colocate" && paramOf(site.Func, p.hint.StringArg("with")) < 0:
			continue // refused: it places nothing
		case name == "template" && !d.inLoop(site):
			continue
		}
		return p.origin()
	}
	return ""
}

// inLoop reports whether site is inside a for or while loop of its
// function's body, where template applies.
func (d *decider) inLoop(site *compiler.CallSite) bool {
	if d.loopSites == nil {
		d.loopSites = map[*compiler.CallSite]bool{}
		d.eachOutermostLoop(func(_ *compiler.Func, loop lang.Node) {
			lang.Walk(loop, func(n lang.Node) bool {
				if call, ok := n.(*lang.Call); ok && d.prog.Sites[call] != nil {
					d.loopSites[d.prog.Sites[call]] = true
				}
				return true
			})
		})
	}
	return d.loopSites[site]
}

// eachOutermostLoop calls visit with each outermost for or while loop of
// the program's function bodies (the loops nested in it are its own).
func (d *decider) eachOutermostLoop(visit func(f *compiler.Func, loop lang.Node)) {
	for _, f := range d.prog.Funcs {
		if f.Body == nil {
			continue
		}
		lang.Walk(f.Body, func(n lang.Node) bool {
			switch n.(type) {
			case *lang.For, *lang.While:
				visit(f, n)
				return false
			case *lang.Expr:
				return false // no loop inside an expression
			}
			return true
		})
	}
}

// perNode decides the rollouts bundle's grouping: the calls a caller
// makes at the site before it next uses the runtime (one iteration's
// rollouts, gathered by a get) go as one unit per CPU of the cluster,
// spread over its nodes: a node takes its share in one message, runs it
// as one unit and sends its results back in one. Applies to a
// deterministic callee at a site not grouped otherwise; there it
// supersedes the spread and template of its own bundle (the units are
// placed as groups), which are dropped without a note. A
// nondeterministic callee keeps spread and template, silently too: its
// calls could be raced (wait, the clock) and must not queue behind one
// another, and explain shows what it got.
func (d *decider) perNode(site *compiler.CallSite, reqs map[string]request, dec *decision.Site) {
	r, ok := reqs["per_node"]
	if !ok || dec.Grouped() || dec.Adaptive || !site.Func.Deterministic {
		return
	}
	dec.Group, dec.PerNode = decision.MaxGroup, true
	d.note(site.Pos, r, true, "the calls of '%s' made before the caller next waits go in one unit per CPU of the cluster, spread over its nodes: one message, one run and one message of results per unit", site.Callee)
	if s, ok := reqs["spread"]; ok && inPerNodeBundle(s) {
		delete(reqs, "spread")
	}
}

// inPerNodeBundle reports whether r comes from a bundle with per_node,
// which supersedes r where it applies.
func inPerNodeBundle(r request) bool { return slices.Contains(bundles[r.via], "per_node") }

// placement decides where the calls of a site go: the first of spread,
// locality and colocate asked for (a call runs in one place; the others
// are refused). At run time a hint that cannot be honoured (its node
// died or is full, the argument is a plain value) falls back to the
// default placement, so none changes results.
func (d *decider) placement(site *compiler.CallSite, reqs map[string]request, dec *decision.Site) {
	chosen := ""
	for _, name := range []string{"spread", "locality", "colocate"} {
		r, ok := reqs[name]
		if !ok {
			continue
		}
		if chosen != "" {
			d.note(site.Pos, r, false, "this call of '%s' is placed by %s already; a call runs in one place", site.Callee, chosen)
			continue
		}
		if dec.Grouped() || dec.Adaptive {
			d.note(site.Pos, r, false, "the calls of '%s' from this site go to the scheduler in groups (batch or fuse), and a group runs where it is placed as one", site.Callee)
			continue
		}
		switch name {
		case "spread":
			dec.Place = decision.PlaceSpread
			d.note(site.Pos, r, true, "the calls of '%s' from this site go to distinct nodes, round-robin over the nodes with room", site.Callee)
		case "locality":
			dec.Place = decision.PlaceLocality
			d.note(site.Pos, r, true, "each call of '%s' runs on the node holding its largest argument, when that node has room", site.Callee)
		case "colocate":
			with := ""
			if r.hint != nil {
				with = r.hint.StringArg("with")
			}
			i := paramOf(site.Func, with)
			if i < 0 {
				d.note(site.Pos, r, false, "%s", notAParameter(site.Func, with))
				continue
			}
			dec.Place, dec.With = decision.PlaceColocate, i
			d.note(site.Pos, r, true, "each call of '%s' runs on the node of its argument '%s' (the actor's node, or the node holding its object), when that node has room", site.Callee, with)
		}
		chosen = name
	}
}

// paramOf is the index of f's parameter name, -1 when it has none.
func paramOf(f *compiler.Func, name string) int {
	for i, p := range f.Params {
		if name != "" && p.Name == name {
			return i
		}
	}
	return -1
}

// notAParameter says why colocate's with= names nothing to be next to.
func notAParameter(f *compiler.Func, with string) string {
	names := make([]string, len(f.Params))
	for i, p := range f.Params {
		names[i] = p.Name
	}
	params := "it has none"
	if len(names) > 0 {
		params = "parameters: " + strings.Join(names, ", ")
	}
	if with == "" {
		return fmt.Sprintf("colocate needs with=NAME, a parameter of '%s'; %s", f.Name, params)
	}
	return fmt.Sprintf("'%s' is not a parameter of '%s'; %s", with, f.Name, params)
}

// chainNames finds, for each function, the local names that a call of
// a deterministic task with fuse asked for takes as a task's future: a
// call that sets one of them starts a fused chain.
func (d *decider) chainNames(sites []*compiler.CallSite) {
	d.chains = map[*compiler.Func]map[string]bool{}
	for _, site := range sites {
		if site.Kind != "task" || site.Func == nil || site.Options || !site.Func.Deterministic {
			continue
		}
		reqs := d.requests(site.Func, site.Enclosing)
		if r, ok := reqs["fuse"]; !ok || d.placedBy(site, r, reqs) != "" {
			continue
		}
		for _, name := range d.takesFuture(site) {
			if d.chains[site.Enclosing] == nil {
				d.chains[site.Enclosing] = map[string]bool{}
			}
			d.chains[site.Enclosing][name] = true
		}
	}
}

// startsChain reports whether the site's result is set to a name that a
// fused call takes.
func (d *decider) startsChain(site *compiler.CallSite) bool {
	names := d.chains[site.Enclosing]
	call := d.callOf(site)
	if names == nil || call == nil {
		return false
	}
	name, ok := d.assignmentsOf(site.Enclosing).setBy[call]
	return ok && names[name]
}

// takesFuture lists the arguments of the site that may be a task's
// future: local names that the enclosing function sets from a task call
// somewhere (let x = t(...), x = t(...)).
func (d *decider) takesFuture(site *compiler.CallSite) []string {
	call := d.callOf(site)
	if call == nil || site.Enclosing == nil || site.Enclosing.Body == nil {
		return nil
	}
	fromTask := d.assignmentsOf(site.Enclosing).fromTask
	var out []string
	for _, a := range call.Args {
		pf := lang.PostfixOf(a.Value)
		if pf != nil && len(pf.Suffixes) == 0 && pf.Primary.Ref != nil && pf.Primary.Ref.Kind == lang.RefLocal &&
			fromTask[pf.Primary.Name] && !slices.Contains(out, pf.Primary.Name) {
			out = append(out, pf.Primary.Name)
		}
	}
	sort.Strings(out)
	return out
}

// assignments is what a function's `let x = CALL` and `x = CALL`
// statements say, found in one walk of its body (per function, not per
// call site: a long function has many sites).
type assignments struct {
	fromTask map[string]bool       // names set from a task call somewhere
	setBy    map[*lang.Call]string // the name each such call is set to
}

// assignmentsOf walks f's body once and keeps what it found.
func (d *decider) assignmentsOf(f *compiler.Func) *assignments {
	if a, ok := d.assigned[f]; ok {
		return a
	}
	a := &assignments{fromTask: map[string]bool{}, setBy: map[*lang.Call]string{}}
	lang.Walk(f.Body, func(n lang.Node) bool {
		name, value := "", (*lang.Expr)(nil)
		switch n := n.(type) {
		case *lang.Expr:
			return false // no assignment inside an expression
		case *lang.Let:
			if len(n.Names) == 1 {
				name, value = n.Names[0], n.Value
			}
		case *lang.Simple:
			if n.Op == "=" && len(n.Targets) == 1 {
				name, value = nameOf(n.Targets[0]), n.Value
			}
		}
		if call := d.callIn(value); name != "" && call != nil {
			if _, seen := a.setBy[call]; !seen {
				a.setBy[call] = name
			}
			if s := d.prog.Sites[call]; s != nil && s.Kind == "task" {
				a.fromTask[name] = true
			}
		}
		return true
	})
	if d.assigned == nil {
		d.assigned = map[*compiler.Func]*assignments{}
	}
	d.assigned[f] = a
	return a
}

// callOf is the call expression of a site.
func (d *decider) callOf(site *compiler.CallSite) *lang.Call {
	if d.calls == nil {
		d.calls = map[*compiler.CallSite]*lang.Call{}
		for call, s := range d.prog.Sites {
			d.calls[s] = call
		}
	}
	return d.calls[site]
}

// callIn is the call e is, when e is just a call.
func (d *decider) callIn(e *lang.Expr) *lang.Call {
	if e == nil {
		return nil
	}
	pf := lang.PostfixOf(e)
	if pf == nil || len(pf.Suffixes) != 1 {
		return nil
	}
	return pf.Suffixes[0].Call
}

// nameOf is the name an expression is, or "".
func nameOf(e *lang.Expr) string {
	if pf := lang.PostfixOf(e); pf != nil && len(pf.Suffixes) == 0 {
		return pf.Primary.Name
	}
	return ""
}

// reductions decides the arity of reduce(f, futures) trees per task f.
func (d *decider) reductions() {
	callers := d.reducers()
	for _, f := range d.prog.Funcs {
		if f.Kind != "task" {
			continue
		}
		r, ok := d.reduceRequest(f, callers[f])
		if !ok {
			continue
		}
		switch {
		case len(f.Params) != 2:
			d.note(f.Pos, r, false, "'%s' takes %d arguments; a reduction combines two", f.Name, len(f.Params))
		case !f.Deterministic:
			d.note(f.Pos, r, false, "'%s' is nondeterministic (%s)", f.Name, f.NondeterministicReason())
		default:
			arity := r.intArg("arity", compiler.DefaultTreeReduceArity)
			d.set.Reduce[f] = arity
			d.note(f.Pos, r, true, "reduce(%s, futures) runs as a tree of arity %d (its shape depends only on the number of inputs)", f.Name, arity)
		}
		d.otherReduceHints(f, r, callers[f])
	}
}

// otherReduceHints refuses the tree_reduce hints of the other pipelines
// that reduce with f: the decision is one per task, taken from r.
func (d *decider) otherReduceHints(f *compiler.Func, r request, callers []*compiler.Func) {
	for _, c := range callers {
		if o, ok := d.requests(f, c)["tree_reduce"]; ok && o.hint != nil && o.hint != r.hint {
			d.note(o.hint.Pos, o, false, "reduce(%s, ...) is decided once per task, by %s", f.Name, r.origin())
		}
	}
}

// reduceRequest is the tree_reduce asked for task f: its own hint; else
// that of the first pipeline (in declaration order) that calls
// reduce(f, ...); else --opt's. A pipeline's hint and --opt speak only
// of tasks passed to reduce. The decision is per task, so a pipeline's
// hint holds wherever f is reduced.
func (d *decider) reduceRequest(f *compiler.Func, callers []*compiler.Func) (request, bool) {
	if r, ok := d.requests(f, nil)["tree_reduce"]; ok && r.hint != nil {
		return r, true
	}
	var fromOpt *request
	for _, c := range callers {
		r, ok := d.requests(f, c)["tree_reduce"]
		switch {
		case ok && r.hint != nil:
			return r, true
		case ok && fromOpt == nil:
			fromOpt = &r
		}
	}
	if fromOpt != nil {
		return *fromOpt, true
	}
	return request{}, false
}

// reducers maps each task passed by name to reduce(f, ...) to the
// functions that make those calls, in declaration order.
func (d *decider) reducers() map[*compiler.Func][]*compiler.Func {
	out := map[*compiler.Func][]*compiler.Func{}
	if !d.prog.Uses["reduce"] {
		return out // no reduce call anywhere (the compiler notes each builtin used)
	}
	for _, fn := range d.prog.Funcs {
		if fn.Body == nil {
			continue
		}
		lang.Walk(fn.Body, func(n lang.Node) bool {
			pf, ok := n.(*lang.Postfix)
			if !ok || !isBuiltinCall(pf, "reduce") || len(pf.Suffixes[0].Call.Args) == 0 {
				return true
			}
			g := d.globalOf(pf.Suffixes[0].Call.Args[0].Value)
			if g != nil && g.Kind == compiler.GlobalFunc && !slices.Contains(out[g.Func], fn) {
				out[g.Func] = append(out[g.Func], fn)
			}
			return true
		})
	}
	return out
}

// unused reports the hints of the source that matched nothing.
func (d *decider) unused() {
	for _, f := range d.prog.Funcs {
		for _, h := range f.Hints {
			if d.used[h] {
				continue
			}
			switch {
			case bundles[h.Name] != nil:
				d.note(h.Pos, request{name: h.Name, hint: h}, false, "none of what it turns on (%s) applies to the calls '%s' makes", strings.Join(bundles[h.Name], ", "), f.Name)
			case h.Name == "template":
				d.noteUnused(h, "no loop in '%s' makes task calls", f.Name)
			default:
				d.noteUnused(h, "no call of '%s' it could apply to", f.Name)
			}
		}
	}
	for _, a := range d.prog.Actors {
		for _, h := range a.Hints {
			// Only spread may stand on an actor (compiler.KnownHints).
			d.set.Actors[a] = decision.PlaceSpread
			d.note(h.Pos, request{name: h.Name, hint: h}, true, "instances of actor '%s' go to distinct nodes, round-robin over the nodes with room", a.Name)
		}
	}
}

// globalOf is the declaration an expression names, if it is just a name.
func (d *decider) globalOf(e *lang.Expr) *compiler.Global {
	pf := lang.PostfixOf(e)
	if pf == nil || len(pf.Suffixes) > 0 || pf.Primary.Ref == nil || pf.Primary.Ref.Kind != lang.RefGlobal {
		return nil
	}
	return d.prog.Globals[pf.Primary.Ref.Index]
}

// isBuiltinCall reports whether pf is a call of the built-in name.
func isBuiltinCall(pf *lang.Postfix, name string) bool {
	ref := pf.Primary.Ref
	return ref != nil && ref.Kind == lang.RefBuiltin && pf.Primary.Name == name && len(pf.Suffixes) == 1 && pf.Suffixes[0].Call != nil
}
