package nodeagent

import "strings"

// EndJob ends a job this process drives while the process goes on (a
// REPL's input interrupted with Ctrl-C): on a cluster every live process
// stops the job's queued and running tasks and its actors and drops what
// it keeps for it (net_release.go); in an embedded cluster the job's
// queued and running tasks are cancelled. It waits a few seconds at most.
func (c *Cluster) EndJob(jobID string) {
	if c.net != nil {
		c.endJob(jobID)
		return
	}
	c.endNamedJob(jobID)
	prefix := jobID + "."
	ofJob := func(id string) bool { return strings.HasPrefix(id, prefix) }
	for _, n := range c.nodes {
		for _, t := range n.jobsTasks(ofJob) {
			t.Cancel(t.obj.Name() + " was cancelled: its input was interrupted")
		}
	}
}
