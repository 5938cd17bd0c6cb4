package serve

import (
	"encoding/json"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// Every process that serves the applications (a head, or a node started
// with --serve-port) is an ingress, and reports in the GCS which version
// of each application it routes: a row of the serveapps table named
// ingressRowPrefix + its ID, written when what it routes changes and at
// least every reportEvery. A head stops an older version's replicas only
// once every live ingress (one that reported within ingressStale) routes
// the newer one, so that a rolling update drops no request at any
// ingress.

const (
	ingressRowPrefix = "@ingress/" // no application's name holds '@'
	reportEvery      = 2 * time.Second
	ingressStale     = 3 * reportEvery
)

// ingressReport is an ingress's row: when it wrote it (Unix
// nanoseconds) and, by application name, the Deployed stamp of the
// version it routes.
type ingressReport struct {
	At     int64            `json:"at"`
	Routes map[string]int64 `json:"routes"`
}

// reporter is what a host remembers of its last report. RunHost's
// goroutine owns it.
type reporter struct {
	last   map[string]int64
	wrote  time.Time
	failed bool
}

// reportRouted writes the host's report when what it routes changed
// since the last one, or the last one is getting old.
func (h *host) reportRouted(r rows) {
	routes := map[string]int64{}
	for name, m := range h.mounted {
		if m.app != nil {
			routes[name] = m.rec.Deployed
		}
	}
	if !h.report.failed && sameRoutes(routes, h.report.last) && time.Since(h.report.wrote) < reportEvery {
		return
	}
	blob, err := json.Marshal(ingressReport{At: time.Now().UnixNano(), Routes: routes})
	if err != nil {
		return
	}
	name := ingressRowPrefix + h.opts.ID
	prev := r.versions[name]
	ok, err := h.c.PutServeApp(gcs.ServeApp{Name: name, Version: prev + 1, Record: blob}, prev)
	h.report.failed = err != nil || !ok // tried again at the next sync
	if !h.report.failed {
		h.report.last, h.report.wrote = routes, time.Now()
	}
}

func sameRoutes(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// waitSwitched waits until every live ingress routes version now of its
// application (or a later one), or until deadline.
func (h *host) waitSwitched(now Record, deadline time.Time) {
	for time.Now().Before(deadline) {
		if h.allSwitched(now) {
			return
		}
		time.Sleep(h.opts.Poll / 2)
	}
}

// allSwitched reports whether no live ingress still routes a version of
// now's application older than now.
func (h *host) allSwitched(now Record) bool {
	r, err := readRows(h.c)
	if err != nil {
		return false
	}
	fresh := time.Now().Add(-ingressStale).UnixNano()
	for _, rep := range r.ingresses {
		if rep.At < fresh {
			continue // gone, or cut off: it routes nothing any more
		}
		if stamp, ok := rep.Routes[now.Name]; ok && stamp < now.Deployed {
			return false
		}
	}
	return true
}
