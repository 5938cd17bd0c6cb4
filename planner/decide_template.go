package planner

import (
	"fmt"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// templates decides template for every function: the task call sites
// inside each outermost for or while loop of its body (comprehensions
// and nested loops included) reuse, iteration after iteration, the
// placements the same calls got before. A slot is counted per site
// within one iteration of the outermost loop, so the calls of a nested
// loop keep distinct slots (and distinct places).
func (d *decider) templates() {
	ahead := d.aheadSites()
	d.eachOutermostLoop(func(f *compiler.Func, loop lang.Node) { d.templateLoop(f, loop, ahead) })
}

// templateLoop decides template for the task call sites of one loop.
func (d *decider) templateLoop(f *compiler.Func, loop lang.Node, ahead map[*compiler.CallSite]bool) {
	lang.Walk(loop, func(n lang.Node) bool {
		call, ok := n.(*lang.Call)
		if !ok {
			return true
		}
		site := d.prog.Sites[call]
		if site == nil || site.Kind != "task" || site.Func == nil || site.Options {
			return true
		}
		r, ok := d.requests(site.Func, f)["template"]
		if !ok {
			return true
		}
		dec := d.set.Sites[site]
		if dec != nil && dec.PerNode && inPerNodeBundle(r) {
			return true // its bundle sends it in units per node (decide.go)
		}
		if why := whyNotTemplate(site, dec, ahead[site]); why != "" {
			d.note(site.Pos, r, false, "%s", why)
			return true
		}
		if dec == nil {
			dec = &decision.Site{}
			d.set.Sites[site] = dec
		}
		dec.Template = true
		d.set.Templates[loop] = append(d.set.Templates[loop], site)
		at := loopPos(loop)
		d.note(site.Pos, r, true, "the calls of '%s' from this site go where the same call went in an earlier iteration of the loop at %d:%d, without asking the head", site.Callee, at.Line, at.Column)
		return true
	})
}

// whyNotTemplate says why a site's calls cannot reuse earlier
// placements, or "".
func whyNotTemplate(site *compiler.CallSite, dec *decision.Site, ahead bool) string {
	switch {
	case dec.Grouped():
		return fmt.Sprintf("the calls of '%s' from this site go to the scheduler in groups (batch or fuse), and a group is placed as one", site.Callee)
	case dec != nil && (dec.Place == decision.PlaceLocality || dec.Place == decision.PlaceColocate):
		return fmt.Sprintf("each call of '%s' from this site is placed next to its argument of the moment (locality or colocate)", site.Callee)
	case ahead:
		return fmt.Sprintf("the calls of '%s' from this site are started ahead of their iteration (pipeline), so they have no place in one", site.Callee)
	}
	return ""
}

// aheadSites are the sites whose calls loops run ahead (pipeline).
func (d *decider) aheadSites() map[*compiler.CallSite]bool {
	out := map[*compiler.CallSite]bool{}
	for _, l := range d.set.Loops {
		out[l.Site] = true
	}
	return out
}

// loopPos is where a for or while loop starts.
func loopPos(loop lang.Node) lang.Position {
	switch l := loop.(type) {
	case *lang.For:
		return l.Pos
	case *lang.While:
		return l.Pos
	}
	return lang.Position{}
}
