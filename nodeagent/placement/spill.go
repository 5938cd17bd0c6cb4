package placement

import "github.com/rayflow/rayflow/nodeagent/resources"

// ShouldSpill is the local scheduler's half of bottom-up scheduling: it
// reports whether a task submitted on the local node should go to the
// global scheduler (true) or run here (false).
//
// A task runs locally when the node is alive, has the demand free right now
// and its queue is shorter than queueLimit. Running locally is the fast
// path: no network hop, and the task's arguments were most likely produced
// here. The local scheduler spills otherwise, because
//
//   - when the demand is not free, a queue elsewhere may be shorter, and
//     only the global scheduler sees every node;
//   - when the queue is at the limit, the node is overloaded even if a
//     resource looks free (its queued tasks are about to take it); the
//     limit bounds how long a task can wait here while others sit idle;
//   - when the node can never hold the demand (its total is too small),
//     waiting here would be forever.
//
// A queueLimit of zero or less disables the queue check.
func ShouldSpill(local NodeState, demand resources.Resources, queueLimit int) bool {
	if !local.Alive || !demand.Fits(local.Available) {
		return true
	}
	return queueLimit > 0 && local.QueueLen >= queueLimit
}
