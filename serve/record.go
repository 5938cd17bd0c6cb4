package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
)

// The applications deployed on a cluster are kept in its GCS, one row
// per application in the serveapps table (gcs.ServeApp: its version and
// its Record as JSON). The heads serve what it says (Host); `rayflow
// serve status` reads it and `rayflow serve delete` removes from it. A
// deploy writes version N+1 only while the row is at version N, so that
// of two deploys at the same moment the second fails (ErrConcurrentDeploy)
// rather than overwrite the first's record.

// Record is what the GCS keeps of an application deployed on a cluster.
type Record struct {
	Name   string            `json:"name"`
	File   string            `json:"file"`
	Source string            `json:"source"`
	Params map[string]string `json:"params,omitempty"`
	// HTTPHost and HTTPPort are where the heads serve the application.
	HTTPHost string `json:"http_host"`
	HTTPPort int    `json:"http_port"`
	// Deployed is when it was deployed (Unix nanoseconds): a head that
	// serves an older version mounts the new one.
	Deployed int64 `json:"deployed"`
	// Version counts the deploys of the application (Options.Version).
	Version     int                `json:"version"`
	Deployments []DeploymentRecord `json:"deployments"`
	// Scaled is, by route, how many replicas the deployment has now,
	// when autoscaling changed it (replicas 1..n): the head that scales
	// the application writes it at each scaling, at the same version,
	// and every other ingress routes to those replicas (scale.go).
	Scaled map[string]int `json:"scaled,omitempty"`
}

// DeploymentRecord is one served actor of an application.
type DeploymentRecord struct {
	Route    string   `json:"route"`
	Class    string   `json:"class"`
	Methods  []string `json:"methods"`
	Replicas []string `json:"replicas"` // the first replicas' names, in namespace "serve"
	// MaxReplicas bounds autoscaling: replicas len(Replicas)+1 ..
	// MaxReplicas are made when the load calls for them.
	MaxReplicas int `json:"max_replicas"`
}

// names are the names the deployment's replicas may have: the first
// ones, then those autoscaling may add.
func (d DeploymentRecord) names(app string, version int) []string {
	out := append([]string(nil), d.Replicas...)
	for i := len(d.Replicas) + 1; i <= d.MaxReplicas; i++ {
		out = append(out, ReplicaName(app, max(version, 1), d.Route, i))
	}
	return out
}

// Record describes the application, to be kept with Publish.
func (a *App) Record(host string, port int) Record {
	rec := Record{Name: a.name, File: a.file, Source: a.source, Params: a.params, HTTPHost: host, HTTPPort: port, Deployed: a.stamp, Version: a.version}
	for _, route := range a.routes {
		d := a.byRoute[route]
		dr := DeploymentRecord{Route: route, Class: d.class.Name(), Methods: methodNames(d.class), MaxReplicas: d.spec.MaxReplicas}
		for i := 1; i <= d.spec.Replicas; i++ {
			dr.Replicas = append(dr.Replicas, ReplicaName(a.name, a.version, route, i))
		}
		rec.Deployments = append(rec.Deployments, dr)
	}
	return rec
}

// Records returns the applications deployed on the cluster, by name.
func Records(c *nodeagent.Cluster) (map[string]Record, error) {
	rows, err := readRows(c)
	return rows.apps, err
}

// rows is what the serveapps table holds: the applications' records and
// the ingresses' reports (ingress.go), and the version of each row.
type rows struct {
	apps      map[string]Record
	ingresses map[string]ingressReport // by ingress ID
	versions  map[string]uint64        // by row name
}

// readRows reads the serveapps table, linearizably.
func readRows(c *nodeagent.Cluster) (rows, error) {
	return readRowsAs(context.Background(), c, false)
}

// readRowsAs reads the serveapps table: as a head has applied it when
// applied is set (a poll, given up when ctx is done), else
// linearizably.
func readRowsAs(ctx context.Context, c *nodeagent.Cluster, applied bool) (rows, error) {
	out := rows{apps: map[string]Record{}, ingresses: map[string]ingressReport{}, versions: map[string]uint64{}}
	var list []gcs.ServeApp
	var err error
	if applied {
		list, err = c.ServeAppsApplied(ctx)
	} else {
		list, err = c.ServeApps()
	}
	if err != nil {
		return out, fmt.Errorf("cannot read the applications from the GCS: %w", err)
	}
	for _, row := range list {
		out.versions[row.Name] = row.Version
		if id, ok := strings.CutPrefix(row.Name, ingressRowPrefix); ok {
			var rep ingressReport
			if json.Unmarshal(row.Record, &rep) == nil {
				out.ingresses[id] = rep
			}
			continue
		}
		var rec Record
		if err := json.Unmarshal(row.Record, &rec); err != nil {
			return out, fmt.Errorf("the GCS holds no valid record of application %s: %w", row.Name, err)
		}
		out.apps[row.Name] = rec
	}
	return out, nil
}

// ErrConcurrentDeploy is Publish's error when another deploy of the
// same application wrote its record since this one read it.
var ErrConcurrentDeploy = errors.New("another deploy of the application happened at the same time")

// Publish keeps rec in the GCS, in the place of the application of the
// same name: as its version rec.Version, only while the stored record is
// at the version before (none stored, for version 1); otherwise the
// error wraps ErrConcurrentDeploy. A route that another application
// serves on the same port is a *rayflow.UsageError.
func Publish(c *nodeagent.Cluster, rec Record) error {
	recs, err := Records(c)
	if err != nil {
		return err
	}
	for _, other := range recs {
		if other.Name == rec.Name || other.HTTPPort != rec.HTTPPort {
			continue
		}
		for _, od := range other.Deployments {
			for _, d := range rec.Deployments {
				if od.Route == d.Route {
					return &rayflow.UsageError{Msg: fmt.Sprintf("route %s is served on port %d by application %q already: delete it first ('rayflow serve delete %s') or use another port", d.Route, rec.HTTPPort, other.Name, other.Name)}
				}
			}
		}
	}
	blob, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	v := uint64(max(rec.Version, 1))
	ok, err := c.PutServeApp(gcs.ServeApp{Name: rec.Name, Version: v, Record: blob}, v-1)
	if err != nil {
		return fmt.Errorf("cannot write the application to the GCS: %w", err)
	}
	if !ok {
		return fmt.Errorf("application %s: %w (its record changed after this deploy read it): deploy again", rec.Name, ErrConcurrentDeploy)
	}
	return nil
}

// Delete removes the application named name from the cluster: its
// record, then its replicas (killed by name). It returns false when no
// such application is deployed.
func Delete(c *nodeagent.Cluster, name string) (bool, error) {
	recs, err := Records(c)
	if err != nil {
		return false, err
	}
	rec, ok := recs[name]
	if !ok {
		return false, nil
	}
	if err := c.DeleteServeApp(name); err != nil {
		return true, fmt.Errorf("cannot delete the application from the GCS: %w", err)
	}
	StopReplicas(c, rec, nil)
	return true, nil
}

// StopReplicas kills the replicas of rec that live, but for those keep
// names (nil: none).
func StopReplicas(c *nodeagent.Cluster, rec Record, keep map[string]bool) {
	th := c.NewThread("serve-" + rec.Name)
	for _, d := range rec.Deployments {
		for _, name := range d.names(rec.Name, rec.Version) {
			if keep[name] {
				continue
			}
			if h, err := c.LookupActor(th, Namespace, name); err == nil {
				_ = c.KillActor(th, h)
			}
		}
	}
}

// replicaNames are the names of rec's replicas.
func (rec Record) replicaNames() map[string]bool {
	out := map[string]bool{}
	for _, d := range rec.Deployments {
		for _, name := range d.names(rec.Name, rec.Version) {
			out[name] = true
		}
	}
	return out
}

// ReplicaStatus is one replica as `rayflow serve status` shows it.
type ReplicaStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"`   // "alive" or "missing"
	Address string `json:"address"` // the node it lives on, when known
}

// Status lists the replicas of each deployment of rec, with whether each
// lives and where: the first ones always, those autoscaling added while
// they live.
func Status(c *nodeagent.Cluster, rec Record) map[string][]ReplicaStatus {
	th := c.NewThread("serve-" + rec.Name)
	out := map[string][]ReplicaStatus{}
	for _, d := range rec.Deployments {
		for i, name := range d.names(rec.Name, rec.Version) {
			st := ReplicaStatus{Name: name, State: "missing"}
			if h, err := c.LookupActor(th, Namespace, name); err == nil {
				st.State, st.Address = "alive", nodeagent.ActorAddress(h)
			} else if i >= len(d.Replicas) {
				continue
			}
			out[d.Route] = append(out[d.Route], st)
		}
	}
	return out
}

// SortedNames returns the names of recs, sorted.
func SortedNames(recs map[string]Record) []string {
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
