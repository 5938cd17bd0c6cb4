package decision

import (
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// Placement is a placement policy for the calls of one site.
type Placement uint8

// The placement policies.
const (
	PlaceDefault  Placement = iota // the scheduler's: local first, then spill
	PlaceSpread                    // distinct nodes for the calls of the site
	PlaceLocality                  // next to the largest argument
	PlaceColocate                  // next to the argument With
)

// Site is what was decided for one call site.
type Site struct {
	// Group is the most calls from one caller that go to the runtime as
	// one scheduling unit (batch); 0 or 1 sends each call alone.
	Group int
	// Fuse: a call whose direct argument is the future of a call still
	// waiting in its caller's group joins that group, to run right after
	// it on the same worker.
	Fuse bool
	// Place is the placement policy; With the argument index for
	// PlaceColocate.
	Place Placement
	With  int
	// Adaptive: the runtime measures the site's calls and groups them
	// once it knows they cost less to run than to schedule (package
	// planner/adapt decides how many).
	Adaptive bool
	// Template: the site is in a template loop (Set.Templates); each of
	// its calls carries its slot (which call of the site it is in the
	// loop's iteration), and the runtime sends a call that leaves its
	// node where the same slot went last time, without asking the head.
	Template bool
	// PerNode: the site's group (Group calls at most, sent when the
	// caller next uses the runtime) is cut, when it is sent, into one
	// unit per slot of the cluster that its calls' demand fits (one per
	// CPU for a task of one CPU), and the units are placed as any group,
	// so they spread over the nodes (the rollouts bundle).
	PerNode bool
}

// Loop is a get-in-a-loop run ahead: the call Call, made once per
// iteration and gotten at once, is started up to Depth iterations early.
type Loop struct {
	Depth int
	Call  *lang.Call
	Site  *compiler.CallSite
}

// MaxGroup bounds a group of calls, whatever a hint says, so that one
// unit of work stays small enough to place, send and retry.
const MaxGroup = 4096

// Set is every decision for one program planned with one set of options.
type Set struct {
	// Spec is the canonical text of the options the set was planned
	// with (see planner.Options.Spec); two processes that plan the same
	// program with the same Spec make the same Set.
	Spec   string
	Sites  map[*compiler.CallSite]*Site
	Loops  map[*lang.For]*Loop
	Reduce map[*compiler.Func]int // tree_reduce arity of an associative task
	// Actors is the placement policy of the instances of an actor class
	// (PlaceSpread, from @hint(spread) on the actor).
	Actors map[*compiler.Actor]Placement
	// Templates maps each template loop (a *lang.For or *lang.While, the
	// outermost loops of a function's body) to its template sites: their
	// slots start again at each iteration of the loop.
	Templates map[lang.Node][]*compiler.CallSite
}

// New makes an empty Set for the options spec.
func New(spec string) *Set {
	return &Set{Spec: spec, Sites: map[*compiler.CallSite]*Site{}, Loops: map[*lang.For]*Loop{}, Reduce: map[*compiler.Func]int{},
		Actors: map[*compiler.Actor]Placement{}, Templates: map[lang.Node][]*compiler.CallSite{}}
}

// TemplateSites are the template sites of loop (a *lang.For or
// *lang.While), nil when it is not a template loop.
func (s *Set) TemplateSites(loop lang.Node) []*compiler.CallSite {
	if s == nil {
		return nil
	}
	return s.Templates[loop]
}

// ActorPlace is the placement policy of actor class a's instances (of
// its declaration's, for an actor made with options(...)).
func (s *Set) ActorPlace(a *compiler.Actor) Placement {
	if s == nil {
		return PlaceDefault
	}
	return s.Actors[a.Declaration()]
}

// Site is the decision for a call site, nil when there is none.
func (s *Set) Site(cs *compiler.CallSite) *Site {
	if s == nil || cs == nil {
		return nil
	}
	return s.Sites[cs]
}

// Loop is the decision for a for loop, nil when there is none.
func (s *Set) Loop(f *lang.For) *Loop {
	if s == nil {
		return nil
	}
	return s.Loops[f]
}

// ReduceArity is the arity of reduce trees over task f; 0 for a flat,
// left-to-right reduction.
func (s *Set) ReduceArity(f *compiler.Func) int {
	if s == nil {
		return 0
	}
	return s.Reduce[f]
}

// Grouped reports whether calls of the site wait in their caller's group.
func (d *Site) Grouped() bool { return d != nil && (d.Group > 1 || d.Fuse) }

// AdaptiveSites lists the sites whose calls are measured and grouped at
// run time.
func (s *Set) AdaptiveSites() []*compiler.CallSite {
	if s == nil {
		return nil
	}
	var out []*compiler.CallSite
	for cs, d := range s.Sites {
		if d.Adaptive {
			out = append(out, cs)
		}
	}
	return out
}

// Empty reports whether nothing is decided at all.
func (s *Set) Empty() bool {
	return s == nil || len(s.Sites) == 0 && len(s.Loops) == 0 && len(s.Reduce) == 0 && len(s.Actors) == 0 && len(s.Templates) == 0
}
