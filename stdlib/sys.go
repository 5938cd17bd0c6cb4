package stdlib

import (
	"runtime"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/version"
)

// nodeNamer is implemented by a runtime whose threads may run on no node
// of the cluster (a cluster's driver): NodeOf names the node sys.node()
// gives them.
type nodeNamer interface {
	NodeOf(th *exec.Thread) string
}

// SysModule returns the sys module: where the code runs. node, nodes and
// cpu_count depend on the cluster, so they count as nondeterministic.
func SysModule() *exec.Module {
	m := newModule("sys")
	m.Members["version"] = exec.Str(version.Version)
	m.AddFunc("node", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		if th == nil {
			return exec.Str(""), nil
		}
		if r, ok := th.Runtime.(nodeNamer); ok {
			return exec.Str(r.NodeOf(th)), nil
		}
		return exec.Str(th.NodeID), nil
	}).Nondeterministic = true
	m.AddFunc("nodes", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		if th == nil {
			return strList(nil), nil
		}
		if th.Runtime == nil {
			return strList([]string{th.NodeID}), nil
		}
		return strList(th.Runtime.Nodes()), nil
	}).Nondeterministic = true
	m.AddFunc("cpu_count", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		return exec.Int(int64(runtime.NumCPU())), nil
	}).Nondeterministic = true
	return m
}
