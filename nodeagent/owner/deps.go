package owner

import (
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// FailedDependency is the error a call named name (its object's name,
// "task 'add1'") fails with before it is sent to another node, when one
// of its arguments is a future whose task already failed here: the error
// the call fails with where it runs, embedded or not
// (exec.DependencyError). Nil when no argument failed here; a future
// held elsewhere travels as a reference, and a failed one fails the call
// the same way where it runs.
func FailedDependency(name string, args []exec.Value) *exec.Error {
	for i, a := range args {
		if a.Kind() != exec.FutureKind {
			continue
		}
		o := objstore.ObjectOf(a.AsFuture())
		if o == nil || !o.IsReady() || o.RemoteLocation() != "" || o.Big() != nil {
			continue // not failed here (a failed object is never big)
		}
		if _, err := o.Result(); err != nil {
			return exec.DependencyError(name, i, o.Name(), err)
		}
	}
	return nil
}
