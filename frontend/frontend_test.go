package frontend_test

import (
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
)

func noop(th *exec.Thread, args *exec.Args) (exec.Value, error) { return exec.None, nil }

// extra is what an embedding program registers: a global Go function
// and a module with one member.
func extra() []*exec.Module {
	host := &exec.Module{Name: "host", Global: true, Members: map[string]exec.Value{
		"double": exec.FuncValue(exec.NewBuiltin("double", noop)),
		"unused": exec.FuncValue(exec.NewBuiltin("unused", noop)),
	}}
	geo := &exec.Module{Name: "geo", Members: map[string]exec.Value{
		"dist": exec.FuncValue(exec.NewBuiltin("dist", noop)),
	}}
	return []*exec.Module{host, geo}
}

const usesExtras = `
task t(x) { return double(x) + geo.dist(x) + math.sqrt(len([x])) }
pipeline main() { return get(t(1)) }
`

// Needs names exactly what the program takes from outside the standard
// library: not the standard names it uses, not registered names it
// does not use.
func TestNeedsListsNonStandardUses(t *testing.T) {
	p, err := frontend.Compile("x.rayflow", usesExtras, extra())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"double", "geo", "geo.dist"}
	if got := frontend.Needs(p.Compiled); !reflect.DeepEqual(got, want) {
		t.Fatalf("Needs = %v, want %v", got, want)
	}
	if got := frontend.Describe(want); got != "Go function 'double', 'geo.dist'" {
		t.Fatalf("Describe = %q", got)
	}
}

func TestNeedsOfStandardProgramIsEmpty(t *testing.T) {
	p, err := frontend.Compile("x.rayflow", `pipeline main() { return str.upper("a") + str(math.floor(1.5)) }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := frontend.Needs(p.Compiled); len(got) != 0 {
		t.Fatalf("Needs = %v, want none", got)
	}
}

// Missing reports the needs a process's modules do not cover.
func TestMissing(t *testing.T) {
	needs := []string{"double", "geo", "geo.dist"}
	if got := frontend.Missing(needs, extra()); len(got) != 0 {
		t.Fatalf("with every module, Missing = %v", got)
	}
	if got := frontend.Missing(needs, nil); !reflect.DeepEqual(got, needs) {
		t.Fatalf("with none, Missing = %v", got)
	}
	onlyHost := extra()[:1]
	if got := frontend.Missing(needs, onlyHost); !reflect.DeepEqual(got, []string{"geo", "geo.dist"}) {
		t.Fatalf("with host only, Missing = %v", got)
	}
}

// Without the extra modules the program does not compile: Compile checks
// against exactly the standard library plus what it is given.
func TestCompileChecksAgainstGivenModules(t *testing.T) {
	if _, err := frontend.Compile("x.rayflow", usesExtras, nil); err == nil {
		t.Fatal("compiled without the modules it uses")
	}
	p, err := frontend.Compile("x.rayflow", usesExtras, extra())
	if err != nil {
		t.Fatal(err)
	}
	if p.File != "x.rayflow" || p.Source != usesExtras || len(p.Modules) == 0 {
		t.Fatalf("program %+v", p)
	}
}
