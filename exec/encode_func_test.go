package exec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/stdlib"
)

// funcCodec is a RefCodec for function values alone, as a runtime writes
// them: a declaration by name in one program, a built-in or module
// function by name.
type funcCodec struct{ prog *exec.Program }

func (c funcCodec) EncodeRef(v exec.Value) ([]byte, error) {
	ref, err := exec.FuncRefOf(v)
	if err != nil {
		return nil, err
	}
	if ref.Program != nil {
		return []byte("d" + ref.Name), nil
	}
	return []byte("b" + ref.Name), nil
}

func (c funcCodec) DecodeRef(data []byte) (exec.Value, error) {
	name := string(data[1:])
	v, ok := c.prog.DeclaredFunc(name)
	if data[0] == 'b' {
		v, ok = c.prog.UniverseFunc(name)
	}
	if !ok {
		return exec.None, fmt.Errorf("no function %s", name)
	}
	return v, nil
}

// Function values travel through a RefCodec: the program's fn, task and
// actor declarations, built-ins and module functions come back as the same
// callables; a host object's method does not travel.
func TestFunctionValuesTravelByName(t *testing.T) {
	fp, err := frontend.Compile("p.rayflow", `
fn double(x) { return x * 2 }
task sq(x) { return x * x }
actor Counter(n) { method inc(k) { n += k
    return n } }
pipeline main() { print(double, sq, Counter, len, math.sqrt) }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := fp.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	codec := funcCodec{prog}
	var values []exec.Value
	for _, name := range []string{"double", "sq", "Counter"} {
		v, ok := prog.DeclaredFunc(name)
		if !ok {
			t.Fatalf("no declaration %s", name)
		}
		values = append(values, v)
	}
	for _, name := range []string{"len", "math.sqrt"} {
		v, ok := prog.UniverseFunc(name)
		if !ok {
			t.Fatalf("no built-in %s", name)
		}
		values = append(values, v)
	}
	list := exec.ListOf(values)
	data, err := exec.EncodeWith(nil, list, codec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := exec.DecodeWith(data, codec)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range back.AsList().Elems {
		if v.Kind() != exec.FunctionKind || v.AsCallable() != values[i].AsCallable() {
			t.Errorf("element %d came back as %s, want %s", i, v.Repr(), values[i].Repr())
		}
	}
	if _, err := exec.Encode(nil, values[0]); err == nil {
		t.Error("a function encoded without a runtime's codec")
	}
	bound := exec.FuncValue(exec.NewMethodOf(&exec.HostObject{Type: "env"}, "step", nil))
	if _, err := exec.EncodeWith(nil, bound, codec); err == nil || !strings.Contains(err.Error(), "cannot leave the process") {
		t.Errorf("a host object's method: %v", err)
	}
}

// A generator's method taken as a value crosses a task boundary with a
// copy of its generator, as the generator itself does: on the same node
// (CopyValue) and to another (by value, FuncRefOf's Receiver); neither
// copy's draws advance the original.
func TestGeneratorMethodGoesWithACopy(t *testing.T) {
	newRng, _ := stdlib.RandomModule().Attr("new")
	g, err := newRng.AsCallable().Call(nil, []exec.Value{exec.Int(7)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	randint, _ := g.AsObject().Attr("randint")
	draw := func(f exec.Value) int64 {
		v, err := f.AsCallable().Call(nil, []exec.Value{exec.Int(1), exec.Int(1000000)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v.AsInt()
	}
	copied := exec.CopyValue(randint)
	ref, ferr := exec.FuncRefOf(randint)
	if ferr != nil || ref.Name != "randint" {
		t.Fatalf("FuncRefOf: %+v, %v", ref, ferr)
	}
	data, err := exec.Encode(nil, ref.Receiver)
	if err != nil {
		t.Fatal(err)
	}
	recv, err := exec.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := exec.MethodOf(recv, ref.Name)
	if err != nil {
		t.Fatal(err)
	}
	fromCopy, fromSent, fromOriginal := draw(copied), draw(sent), draw(randint)
	if fromCopy != fromOriginal || fromSent != fromOriginal {
		t.Fatalf("draws: copy %d, sent %d, original %d; want all equal", fromCopy, fromSent, fromOriginal)
	}
}
