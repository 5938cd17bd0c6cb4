package nodeagent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

// hostOptions registers Go functions as the embedding API does: double
// as a built-in, and triple as a task that needs the resource only the
// joined node has.
func hostOptions() *rayflow.Options {
	return &rayflow.Options{Builtins: map[string]exec.BuiltinFunc{
		"double": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var n int64
			if err := args.Unpack("n", &n); err != nil {
				return exec.None, err
			}
			return exec.Int(2 * n), nil
		},
	}, Tasks: map[string]rayflow.Task{
		"triple": {Resources: map[string]float64{"cpu": 1, "far": 1}, Fn: func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var n int64
			if err := args.Unpack("n", &n); err != nil {
				return exec.None, err
			}
			return exec.ListOf([]exec.Value{exec.Int(3 * n), exec.Str(th.NodeID)}), nil
		}},
	}}
}

// remoteDouble's task needs a resource only the joined node has, so it
// runs there, and calls the registered Go function.
const remoteDouble = `
@resources(cpu=1, far=1)
task on_far(n) { return [double(n), sys.node()] }
pipeline main() { return get(on_far(21)) }
`

// startModuleCluster starts a head and a node (with resource far=1) over
// real sockets, the node offering workerModules, and a driver.
func startModuleCluster(t *testing.T, workerModules []*exec.Module) *nodeagent.Cluster {
	t.Helper()
	opts := hostOptions()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0",
		Node: nodeagent.Config{CPUs: 1, NodeID: "head", Modules: rayflow.HostModules(opts)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	worker, err := nodeagent.JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0",
		nodeagent.Config{CPUs: 1, NodeID: "worker-far", Resources: map[string]float64{"far": 1}, Modules: workerModules})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { worker.Shutdown("test over") })
	driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	return driver
}

// remoteTriple calls the Go task, which can only run on the joined node.
const remoteTriple = `pipeline main() { return get(triple(14)) }`

func runRemoteDouble(t *testing.T, driver *nodeagent.Cluster) (exec.Value, error) {
	t.Helper()
	return runOnDriver(t, driver, "double.rayflow", remoteDouble)
}

func runOnDriver(t *testing.T, driver *nodeagent.Cluster, name, src string) (exec.Value, error) {
	t.Helper()
	prog, err := rayflow.Compile(name, src, hostOptions())
	if err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return prog.Run(ctx, rayflow.RunOptions{Cluster: driver})
}

// A task placed on another node calls a Go function registered through
// the embedding API: the node has it registered too, loads the program
// with it, and runs the task.
func TestRemoteNodeRunsRegisteredGoFunction(t *testing.T) {
	driver := startModuleCluster(t, rayflow.HostModules(hostOptions()))
	v, err := runRemoteDouble(t, driver)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, remoteDouble))
	}
	if got := v.String(); got != `[42, "worker-far"]` {
		t.Fatalf("got %s, want [42, \"worker-far\"]", got)
	}
}

// A node that lacks the Go function fails the task with an error that
// names the function and the node, instead of a compile error.
func TestRemoteNodeMissingGoFunctionFailsClearly(t *testing.T) {
	driver := startModuleCluster(t, nil)
	_, err := runRemoteDouble(t, driver)
	if err == nil {
		t.Fatal("the task ran on a node without the Go function")
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{"worker-far", "Go function 'double'", "double.rayflow"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "unknown name") || strings.Contains(msg, "undefined") {
		t.Errorf("error %q is a compile error", msg)
	}
}

// A Go function registered as a task runs on the node its resources
// send it to, found there by name among that process's modules.
func TestRemoteNodeRunsRegisteredGoTask(t *testing.T) {
	driver := startModuleCluster(t, rayflow.HostModules(hostOptions()))
	v, err := runOnDriver(t, driver, "triple.rayflow", remoteTriple)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, remoteTriple))
	}
	if got := v.String(); got != `[42, "worker-far"]` {
		t.Fatalf("got %s, want [42, \"worker-far\"]", got)
	}
}

// A node without the Go task fails it with an error naming both.
func TestRemoteNodeMissingGoTaskFailsClearly(t *testing.T) {
	driver := startModuleCluster(t, nil)
	_, err := runOnDriver(t, driver, "triple.rayflow", remoteTriple)
	if err == nil {
		t.Fatal("the Go task ran on a node without it")
	}
	for _, want := range []string{"worker-far", "Go task 'triple'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// An actor placed on a node that lacks a Go function its program uses is
// refused for good: its creation fails at once with the node's reason
// (kind "name"), instead of being placed again and again for as long as
// a dead node takes to be declared dead (kind "lost", after 15 s).
func TestRemoteNodeMissingGoFunctionRefusesActor(t *testing.T) {
	const src = `
@resources(cpu=1, far=1)
actor Doubler() {
    method twice(n) { return double(n) }
}
pipeline main() {
    let d = Doubler()
    return get(d.twice(21))
}`
	driver := startModuleCluster(t, nil)
	_, err := runOnDriver(t, driver, "actor.rayflow", src)
	if err == nil {
		t.Fatal("the actor was created on a node without the Go function")
	}
	var re *exec.Error
	if !errors.As(err, &re) || re.Kind != exec.KindName {
		t.Fatalf("error %v (%T), want kind %q", err, err, exec.KindName)
	}
	for _, want := range []string{"could not create actor Doubler", "worker-far", "Go function 'double'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err.Error(), want)
		}
	}
}
