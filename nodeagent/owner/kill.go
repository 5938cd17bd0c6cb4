package owner

import (
	"strconv"
	"sync/atomic"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
)

// Kill marks an actor this process created or was handed as killed
// (kill, rayflow actor stop): it is never restarted, its calls not yet
// answered fail with err, and so does every call made on it later. Its
// host is told by the caller.
func (ow *Owner) Kill(a *Actor, err *exec.Error) {
	a.mu.Lock()
	a.restartsLeft = 0
	a.mu.Unlock()
	a.failPending(ow, err)
	a.mu.Lock()
	a.deadErr = err
	a.mu.Unlock()
}

// checkpoints numbers the checkpoints CheckpointNow asks for, for their
// IDs.
var checkpoints atomic.Uint64

// CheckpointNow asks the host of an actor this process created for a
// checkpoint now, whoever made its calls: a detached actor's owner does
// so at the end of each job, because the lineage of the job's calls,
// which a restart would replay, is deleted with the job. A served
// actor, whose restart replays nothing, needs none.
func (ow *Owner) CheckpointNow(a *Actor) {
	a.mu.Lock()
	if a.create == nil || a.addr == "" || a.deadErr != nil || !a.class.Info.ReplaysCalls() {
		a.mu.Unlock()
		return
	}
	addr, key, covered := a.addr, actorhost.Key(a.id, a.gen), a.logBase+len(a.log)
	a.mu.Unlock()
	id := a.id + ".ckpt" + strconv.FormatUint(checkpoints.Add(1), 10)
	ow.requestCheckpoint(a, addr, key, id, covered)
}
