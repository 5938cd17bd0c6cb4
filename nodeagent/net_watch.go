package nodeagent

import (
	"context"
	"time"

	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
)

// Watching for dead nodes: the heads push every membership change to the
// processes connected to them; on each push (and every 2 s, in case a
// push was lost) the watcher asks the heads which nodes are dead and
// tells the owner (package owner), which recovers what it had there.

// watchLoop looks for dead nodes until the network stops.
func (nw *network) watchLoop() {
	defer safe.Survive("the dead-node watcher", nw.stop, nw.watchLoop, nw.watchDone)
	// The heads push membership changes; the ticker is a fallback for a
	// push that was lost (a connection that broke at that moment).
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	// A first look at once: the lives of the nodes alive now are then
	// known before work is first sent to them (knowLife), and the first
	// chain of a driver does not wait for a look.
	nw.lookForDead()
	for {
		select {
		case <-nw.stop:
			return
		case <-nw.poke:
		case <-tick.C:
		}
		nw.lookForDead()
	}
}

// lookForDead asks the heads which nodes are dead and tells the owner of
// those newly so.
func (nw *network) lookForDead() {
	for _, addr := range nw.newlyDead() {
		nw.c.templates.forget(addr)
		nw.ow.NodeDied(addr)
	}
}

// newlyDead returns the addresses of nodes the heads declared dead since
// the last look.
func (nw *network) newlyDead() []string {
	if nw.injectPanic.Load() {
		panic("injected fault")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return nw.live.Look(ctx, nw.readMembership)
}

// readMembership reads the heads' membership table for the liveness
// tracker.
func (nw *network) readMembership(ctx context.Context) (string, []headclient.NodeState, error) {
	states, err := nw.nodeStates(ctx)
	if err != nil {
		return "", nil, err
	}
	return nw.hc.Order()[0], states, nil // the head that answered
}

// knowLife makes sure the watcher knows which life (epoch) of the node at
// addr is alive before work is first sent there. The watcher tells a node
// restarted on the same port by its new epoch; without the epoch of the
// life that got the work (a node that joined, or a job that started,
// since the last look) a restart within the dead timeout went unnoticed
// and the job waited for ever for its tasks (found by the restart test).
func (nw *network) knowLife(addr string) {
	if nw.live.Known(addr) {
		return
	}
	for _, dead := range nw.newlyDead() {
		nw.c.templates.forget(dead)
		go nw.ow.NodeDied(dead)
	}
}

// isDead reports whether the node at addr was declared dead.
func (nw *network) isDead(addr string) bool { return nw.live.IsDead(addr) }
