package nodeagent

import "github.com/rayflow/rayflow/nodeagent/objstore"

// Progress counts for a driver.
//
// A process counts in Stats the tasks it runs. A driver on a cluster runs
// none: its tasks and method calls run on the nodes, so its counts of
// running and finished work stayed at zero and `rayflow run --address`
// showed "0 running, 0 done" however far the job was. A driver therefore
// counts the work it submitted as it ends, when each result (or error)
// comes back, and the actors it created; work in flight is what it
// submitted and has not heard back about. Work submitted by tasks on the
// nodes (nested calls) is counted on those nodes, not here.

// Progress is a snapshot of a run's counts, as the progress line shows
// them.
type Progress struct {
	Submitted, Running, Done, Failed, Actors int64
	// InFlight is set on a driver of a cluster: Running then counts the
	// work submitted and not finished yet, queued or running on a node.
	InFlight bool
}

// Progress returns the run's counts so far.
func (c *Cluster) Progress() Progress {
	s := &c.stats
	p := Progress{Submitted: s.Submitted.Load(), Running: s.Running.Load(), Done: s.Done.Load(),
		Failed: s.Failed.Load(), Actors: s.Actors.Load()}
	if c.isDriver() {
		p.InFlight = true
		p.Running = max(p.Submitted-p.Done-p.Failed, 0)
	}
	return p
}

// isDriver reports whether this process is a driver on a cluster.
func (c *Cluster) isDriver() bool { return c.net != nil && c.net.cfg.Driver }

// countAtDriver counts, on a driver, the end of work it submitted: done
// or failed when its object is ready. Elsewhere the node that runs the
// work counts it.
func (c *Cluster) countAtDriver(o *objstore.Object) {
	if !c.isDriver() {
		return
	}
	o.OnReady(func() { c.countEnd(o) })
}

// countGroupAtDriver is countAtDriver for the calls of a group, with
// one wait for the group (whenEachReady), not one per call.
func (c *Cluster) countGroupAtDriver(tasks []*task) {
	if !c.isDriver() {
		return
	}
	whenEachReady(tasks, c.countEnd)
}

// countEnd counts the end of the work of o, ready: done or failed.
func (c *Cluster) countEnd(o *objstore.Object) {
	if o.Failed() {
		c.stats.Failed.Add(1)
	} else {
		c.stats.Done.Add(1)
	}
}

// countActorAtDriver counts, on a driver, an actor it created on a node.
func (c *Cluster) countActorAtDriver() {
	if c.isDriver() {
		c.stats.Actors.Add(1)
	}
}

// countCallAtDriver counts, on a driver, a method call it made on an
// actor hosted by a node: submitted now, done or failed when it returns.
func (c *Cluster) countCallAtDriver(o *objstore.Object) {
	if !c.isDriver() {
		return
	}
	c.stats.Submitted.Add(1)
	c.countAtDriver(o)
}
