package stdlib

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/version"
)

type fakeRuntime struct{ exec.Runtime }

func (fakeRuntime) Nodes() []string { return []string{"n1", "n2"} }

func TestSys(t *testing.T) {
	m := SysModule()
	th := &exec.Thread{NodeID: "n1"}
	if v, _ := callOn(t, th, fn(t, m, "node")); v.Repr() != `"n1"` {
		t.Errorf("node = %s", v.Repr())
	}
	if v, _ := callOn(t, th, fn(t, m, "nodes")); v.Repr() != `["n1"]` {
		t.Errorf("nodes without runtime = %s", v.Repr())
	}
	th.Runtime = fakeRuntime{}
	if v, _ := callOn(t, th, fn(t, m, "nodes")); v.Repr() != `["n1", "n2"]` {
		t.Errorf("nodes = %s", v.Repr())
	}
	if v := mustCall(t, m, "cpu_count"); v.AsInt() < 1 {
		t.Errorf("cpu_count = %s", v.Repr())
	}
	if v, _ := m.Attr("version"); v.AsString() != version.Version {
		t.Errorf("version = %s", v.Repr())
	}
}
