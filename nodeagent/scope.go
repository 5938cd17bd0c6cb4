package nodeagent

import (
	"errors"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// scope is how far a process's work reaches beyond its own nodes, decided
// once in NewCluster: nowhere (localScope, an embedded cluster, which may
// still have several in-process nodes) or a cluster over the network
// (*network). The Cluster asks its scope instead of testing which kind of
// process it is.
type scope interface {
	// address is where this process serves the cluster protocol ("" when
	// it serves none).
	address() string
	// nodeIDs lists the nodes work can run on.
	nodeIDs() []string
	// checkFeasible fails a demand that no node could ever meet, or leaves
	// that to the global scheduler where one decides.
	checkFeasible(name string, demand resources.Resources) error
	// spill runs a ready task that its origin node has no room for.
	spill(t *task, origin *Node)
	// spillGroup runs a group whose outside arguments are ready, as one
	// unit, somewhere its origin node is not.
	spillGroup(g *taskGroup, origin *Node)
	// newActor creates an actor somewhere in the scope; (nil, nil) leaves
	// it to this process's own nodes.
	newActor(th *exec.Thread, call *exec.TaskCall, demand resources.Resources) (*exec.ActorHandle, error)
	// routeOutput sends a thread's prints to the driver at addr.
	routeOutput(th *exec.Thread, addr string)
	// registerProgram makes a program loadable by the other nodes.
	registerProgram(p *exec.Program, source string) error
	// putStats and getStats keep the adaptive planner's statistics of
	// a program in the GCS (nil, nil: none kept).
	putStats(key string, blob []byte) error
	getStats(key string) ([]byte, error)
	// noteJob and endJob track the jobs this process drives, released
	// when they end.
	noteJob(jobID string)
	endJob(jobID string)
	// cancelTree cancels the subtrees of roots in the rest of the scope
	// (this process's own nodes have done so), waiting a bounded time.
	cancelTree(roots []string)
	// close leaves the scope.
	close()
}

// localScope is the scope of an embedded cluster: its own nodes only.
type localScope struct{ c *Cluster }

func (localScope) address() string { return "" }

func (s localScope) nodeIDs() []string {
	ids := make([]string, len(s.c.nodes))
	for i, n := range s.c.nodes {
		ids[i] = n.ID
	}
	return ids
}

func (s localScope) checkFeasible(name string, demand resources.Resources) error {
	return s.c.feasible(name, demand)
}

// snapshot is what the global scheduler's rule sees of this process's
// nodes now.
func (c *Cluster) snapshot() *placement.Snapshot {
	snap := &placement.Snapshot{Nodes: make([]placement.NodeState, len(c.nodes))}
	for i, n := range c.nodes {
		snap.Nodes[i] = n.state()
	}
	return snap
}

// spill places the task on the in-process node the global scheduler's
// rule picks, honouring its placement hint when it can.
func (s localScope) spill(t *task, origin *Node) {
	c := s.c
	if n := c.node(c.templates.lookup(t.call)); n != nil {
		n.enqueue(t) // where the same call of the template loop went
		return
	}
	c.placements.Add(1)
	d, err := c.placeEmbedded(t, origin, c.snapshot())
	if err != nil {
		origin.enqueue(t) // cannot happen for a task that passed the feasibility check at submit
		return
	}
	c.templates.remember(t.call, d.Node)
	c.node(d.Node).enqueue(t)
}

func (localScope) newActor(*exec.Thread, *exec.TaskCall, resources.Resources) (*exec.ActorHandle, error) {
	return nil, nil
}

func (localScope) routeOutput(*exec.Thread, string)            {}
func (localScope) registerProgram(*exec.Program, string) error { return nil }

// An embedded cluster keeps statistics only when its GCS outlives the
// run (a --data-dir): otherwise no later run could read them, and the
// run would wait for its GCS to open for nothing.
func (s localScope) putStats(key string, blob []byte) error {
	if s.c.cfg.DataDir == "" {
		return nil
	}
	st, err := s.c.GCS()
	if err != nil {
		return nil // no GCS (lineage off): nothing is kept
	}
	return st.PutStats(key, blob).ErrorTimeout(5 * time.Second)
}

func (s localScope) getStats(key string) ([]byte, error) {
	if s.c.cfg.DataDir == "" {
		return nil, nil
	}
	st, err := s.c.GCS()
	if err != nil {
		return nil, nil
	}
	b, err := st.GetStats(key)
	if errors.Is(err, gcs.ErrNotFound) {
		return nil, nil
	}
	return b, err
}
func (localScope) noteJob(string)      {}
func (localScope) endJob(string)       {}
func (localScope) close()              {}
func (localScope) cancelTree([]string) {}
