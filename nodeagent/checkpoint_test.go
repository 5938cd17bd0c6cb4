package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/owner"
)

// Checkpoints replace the logged calls they cover: after 23 calls with
// @checkpoint(every=5), the creator keeps a checkpoint after 20 calls and
// only the 3 calls after it.
func TestCheckpointTrimsCallLog(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	driver, err := ConnectDriver([]string{head.Cluster.Address()}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Shutdown("done")
	src := `
@restarts(1)
@checkpoint(every=5)
actor Log() {
    let items = []
    method add(x) {
        items.append(x)
        return len(items)
    }
}
pipeline main() {
    let l = Log()
    let last = none
    for i in range(23) { last = l.add(i) }
    return get(last)
}`
	th := driver.NewThread("job1")
	prog, err := LoadProgram(th, "ckpt.rayflow", src)
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.RegisterProgram(prog, src); err != nil {
		t.Fatal(err)
	}
	main, _ := prog.Pipeline("main")
	v, rerr := main.Run(th, nil)
	if rerr != nil || v.AsInt() != 23 {
		t.Fatalf("result %v, %v", v.Repr(), rerr)
	}
	var a *owner.Actor
	for _, ra := range driver.net.ow.CreatedActors() {
		a = ra
	}
	// The checkpoint after call 20 arrives shortly after the last result.
	var base, logLen, ckptLen int
	testutil.Eventually(t, 2*time.Second, "the checkpoint after call 20", func() bool {
		base, logLen, ckptLen = a.CheckpointState()
		return base == 20 && logLen == 3 && ckptLen > 0
	})
}
