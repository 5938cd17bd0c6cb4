package nodeagent

import (
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/owner"
)

// Named actors on a cluster: the heads keep the names.

func (nw *network) newNamedActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	return nil, exec.Errorf(exec.KindInternal, "named actors on a cluster: not yet")
}

func (nw *network) lookupNamed(namespace, name string) (*exec.ActorHandle, error) {
	return nil, notFoundError(namespace, name)
}

func (nw *network) forgetNamed(id string) {}

func (nw *network) killRemote(h *exec.ActorHandle, a *owner.Actor) error {
	return exec.Errorf(exec.KindInternal, "kill on a cluster: not yet")
}
