package nodeagent

import (
	"runtime"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// Results whose futures the program dropped (issue 15: a result is freed
// once no future refers to it anywhere).
//
// On a networked process that releases results (not KeepResults), every
// future a task call returns to the program is watched: when the runtime
// collects it, no value of the program refers to the result any more
// (a task that takes it as an argument holds the same future, so it is
// collected only after those are done with it). A result held by another
// process and never fetched here is then released there as a fetch would
// have released it (objstore.Object.Drop, the owner's release.go): at
// once, or when it comes in. A result shared with another process (inside
// a value, a group's) or lent to a task not done with it yet keeps its
// copy as before.

// watchDrop watches f, a future the program is given, for its collection.
func (c *Cluster) watchDrop(f *exec.Future) {
	if c.net == nil || c.cfg.KeepResults {
		return
	}
	if o := objstore.ObjectOf(f); o != nil {
		runtime.AddCleanup(f, dropObject, o)
	}
}

// dropObject releases, once it is ready, a result no future refers to.
func dropObject(o *objstore.Object) { o.OnReady(o.Drop) }
