package nodeagent

import (
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// What a process that serves requests (package serve) needs of the
// runtime beyond what a program uses.

// AwaitResult waits up to timeout for f to be ready and reports whether
// it is. Unlike the runtime's Wait, it logs nothing for a replay: its
// caller is no task whose lineage a restart would run again (the ingress
// of `rayflow serve`, whose every request would otherwise leave a row).
func AwaitResult(f *exec.Future, timeout time.Duration) bool {
	o := objstore.ObjectOf(f)
	if o == nil {
		return false
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-o.Done():
		return true
	case <-timer.C:
		return false
	}
}

// KeptCalls counts what this process keeps of the method calls it made
// on actors in other processes, for their restarts: the calls logged by
// the actors it created, the places of calls in their actors' order, and
// the calls kept on actors it was handed. They grow with the calls to an
// actor whose restart replays them; for a served actor (@serve, whose
// restart is fresh) they stay at the calls in flight (serve's tests).
// An embedded cluster keeps none.
func (c *Cluster) KeptCalls() (logged, places, kept int) {
	if c.net == nil {
		return 0, 0, 0
	}
	places, kept = c.net.ow.Orders().Len()
	return c.net.ow.LoggedCalls(), places, kept
}
