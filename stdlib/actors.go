package stdlib

import (
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
)

// ActorsModule returns the actors module: actors.get(name, namespace=)
// returns a handle to the live actor of that name, made with @name by
// this job or another (spec/stdlib.md#actors).
func ActorsModule() *exec.Module {
	m := newModule("actors")
	m.AddFunc("get", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var name string
		namespace := compiler.DefaultNamespace
		if err := args.Unpack("name", &name, "namespace?", &namespace); err != nil {
			return exec.None, err
		}
		reg, err := th.Registry("actors.get")
		if err != nil {
			return exec.None, err
		}
		h, err := reg.LookupActor(th, namespace, name)
		if err != nil {
			return exec.None, err
		}
		return exec.ActorValue(h), nil
	}).Nondeterministic = true
	return m
}
