package nodeagent

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
)

// Template loops on the run path (decision.Site.Template). A call made
// at a template site carries its slot (exec.TaskCall.Slot: which call of
// its site it is in the current iteration of its loop). When such a call
// leaves its node, the first time its site and slot are placed as usual
// (the head's global scheduler, or the embedded cluster's rule) and the
// place is remembered; in the later iterations the call is sent straight
// there, without a Place request, as long as that place is alive. A place
// that dies, or cannot be reached, is forgotten, and its calls are placed
// as usual again. Calls that run on their own node (local first) never
// look here. Where a call runs changes speed only, never results.

// templateKey is one call of a template loop's iteration.
type templateKey struct {
	site *exec.CallSite
	slot int
}

// templatePlaces is where each template call went: a process address in
// a networked cluster, a node ID in an embedded one. Safe for concurrent
// use: the spiller and the dead-node watcher both touch it.
type templatePlaces struct {
	mu    sync.Mutex
	where map[templateKey]string
	hits  int64 // calls sent to a remembered place, for the tests
}

// maxTemplateKeys bounds the calls remembered; beyond it the record
// starts again.
const maxTemplateKeys = 4096

// templateKeyOf is the key of a template call; ok is false for others.
func templateKeyOf(call *exec.TaskCall) (templateKey, bool) {
	if call == nil || call.Slot <= 0 || call.Site == nil {
		return templateKey{}, false
	}
	return templateKey{call.Site, call.Slot}, true
}

// lookup is where the same call went before, "" when unknown.
func (p *templatePlaces) lookup(call *exec.TaskCall) string {
	k, ok := templateKeyOf(call)
	if !ok {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	where := p.where[k]
	if where != "" {
		p.hits++
		if call.Func != nil && call.Func.Program() != nil {
			call.Func.Program().PlanStats.TemplateCalls.Add(1)
		}
	}
	return where
}

// remember records where a template call was placed.
func (p *templatePlaces) remember(call *exec.TaskCall, where string) {
	k, ok := templateKeyOf(call)
	if !ok || where == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.where == nil || len(p.where) >= maxTemplateKeys {
		p.where = map[templateKey]string{}
	}
	p.where[k] = where
}

// forget drops every call remembered at a place that died or could not
// be reached.
func (p *templatePlaces) forget(where string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, w := range p.where {
		if w == where {
			delete(p.where, k)
		}
	}
}

// reused is how many calls went to a remembered place.
func (p *templatePlaces) reused() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits
}
