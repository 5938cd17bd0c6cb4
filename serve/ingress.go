package serve

import (
	"encoding/json"
	"maps"
	"net"
	"sort"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
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
// version it routes and the URL it serves it at.
type ingressReport struct {
	At     int64             `json:"at"`
	Routes map[string]int64  `json:"routes"`
	URLs   map[string]string `json:"urls,omitempty"`
	// Head is set in a head's report: the serving head of least ID
	// scales the application (scale.go).
	Head bool `json:"head,omitempty"`
	// Load is, by application name and route, the requests in flight
	// (queued or running) at this ingress, those not zero.
	Load map[string]map[string]int64 `json:"load,omitempty"`
	// Taken is, by application name, the URL of an application this
	// ingress would serve but whose port another process holds.
	Taken map[string]string `json:"taken,omitempty"`
}

// reporter is what a host remembers of its last report. RunHost's
// goroutine owns it.
type reporter struct {
	last     map[string]int64
	lastLoad map[string]map[string]int64
	lastTook map[string]string
	wrote    time.Time
	failed   bool
	// routed is set while its last report written routes something: a
	// host that routes nothing, and said so or never said anything,
	// writes nothing (a node of a cluster that serves nothing costs the
	// GCS no write).
	routed bool
}

// reportRouted writes the host's report when what it routes, its load
// or the ports it found taken changed since the last one (its load is
// written at most once a sync: no write per request), or the last one
// is getting old.
func (h *host) reportRouted(r rows) {
	routes, urls, taken := map[string]int64{}, map[string]string{}, map[string]string{}
	load := map[string]map[string]int64{}
	for name, m := range h.mounted {
		if !m.served {
			taken[name] = h.url(m.addr)
			continue
		}
		routes[name] = m.rec.Deployed
		urls[name] = h.url(m.addr)
		if l := m.app.load(); len(l) > 0 {
			load[name] = l
		}
	}
	if len(routes) == 0 && len(taken) == 0 && !h.report.routed {
		return
	}
	same := maps.Equal(routes, h.report.last) && maps.EqualFunc(load, h.report.lastLoad, maps.Equal[map[string]int64]) &&
		maps.Equal(taken, h.report.lastTook)
	if !h.report.failed && same && time.Since(h.report.wrote) < reportEvery {
		return
	}
	blob, err := json.Marshal(ingressReport{At: time.Now().UnixNano(), Routes: routes, URLs: urls, Head: !h.opts.Node, Load: load, Taken: taken})
	if err != nil {
		return
	}
	name := ingressRowPrefix + h.opts.ID
	prev := r.versions[name]
	ok, err := h.c.PutServeApp(gcs.ServeApp{Name: name, Version: prev + 1, Record: blob}, prev)
	h.report.failed = err != nil || !ok // tried again at the next sync
	if !h.report.failed {
		h.report.last, h.report.wrote, h.report.routed = routes, time.Now(), len(routes)+len(taken) > 0
		h.report.lastLoad, h.report.lastTook = load, taken
	}
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

// url is where clients reach the ingress listening on addr: on this
// process's cluster host when it listens on every interface.
func (h *host) url(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if h.self != "" {
			host = h.self
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Ingress is a process that serves an application: its node's ID, the
// URL it serves the application at, and its state: IngressServing, or
// IngressPortTaken when another process holds that port.
type Ingress struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	State string `json:"state"`
}

// The states of an Ingress.
const (
	IngressServing   = "serving"
	IngressPortTaken = "port taken"
)

// ServedBy lists, by application name, the processes that serve it now
// or would but for their port being taken (those whose report is
// fresh), sorted by ID.
func ServedBy(c *nodeagent.Cluster) (map[string][]Ingress, error) {
	r, err := readRows(c)
	if err != nil {
		return nil, err
	}
	out := map[string][]Ingress{}
	fresh := time.Now().Add(-ingressStale).UnixNano()
	for id, rep := range r.ingresses {
		if rep.At < fresh {
			continue
		}
		for name := range rep.Routes {
			out[name] = append(out[name], Ingress{ID: id, URL: rep.URLs[name], State: IngressServing})
		}
		for name, url := range rep.Taken {
			out[name] = append(out[name], Ingress{ID: id, URL: url, State: IngressPortTaken})
		}
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	}
	return out, nil
}
