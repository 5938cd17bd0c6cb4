package nodeagent

import (
	"fmt"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// failOnPanic, deferred by the goroutines that complete objects, turns a
// bug in the node agent into an "internal" error on the object instead
// of a crash with a goroutine dump: the job fails with a message the user
// can report, and the process keeps serving.
func failOnPanic(o *objstore.Object) {
	if r := recover(); r != nil {
		internalError(o, r)
	}
}

// internalError fails an object with a bug report's worth of message.
func internalError(o *objstore.Object, r any) {
	o.Complete(exec.None, panicError(o.Name(), r), "")
}

// panicError is the error of a run of name that panicked with r: a bug
// report's worth of message.
func panicError(name string, r any) *exec.Error {
	return &exec.Error{Kind: exec.KindInternal,
		Msg: fmt.Sprintf("internal error in the node agent while running %s: %v; please report this as a bug with the program that caused it", name, r)}
}

// InlineLimit is the size up to which a result travels inline with its
// completion and is not counted by the object store.
const InlineLimit = objstore.InlineLimit
