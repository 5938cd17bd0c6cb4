package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// walkCorpus uses every kind of node in ast.go.
const walkCorpus = `
const LIMIT = -(2 ** 3)

@resources(cpu=2, memory="1gb")
@retries(3)
task square(x: int, scale = 1) -> int {
    return x * x // scale % 7 / 1
}

fn helper(xs: list) {
    let a, b = [1, 2.5]
    let m = {"k": a, "v": none}
    a += 1
    xs[0] = b
    a, b = [b, a]
    if not a and b or true {
        a = a if a > 0 else -a
    } else if a < b <= 3 {
        a = +a - 1
    } else {
        a = 0
    }
    for i, x in xs {
        if x in m or x not in xs {
            continue
        }
        break
    }
    while false {
        return
    }
    try {
        { helper(xs[1:2], xs[::2]) }
    } catch err {
        print(err.msg)
    }
    let ys = [x * 2 for x in xs if x > 0 if x < 9 for y in xs]
    print(ys, LIMIT, false, (a))
}

actor Counter(start: int) {
    let n = start
    method add(k) -> int {
        self_n = 0
        return k
    }
}

pipeline main() {
    let c = Counter(0)
    helper([square(1), c.add(2)])
}
`

// nodesByReflection collects every node pointer in the tree under v by
// following every pointer and slice field: what Walk must visit.
func nodesByReflection(v reflect.Value, out map[Node]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		n, ok := v.Interface().(Node)
		if !ok {
			return // *Ref and other annotations set by the compiler
		}
		out[n] = true
		nodesByReflection(v.Elem(), out)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			nodesByReflection(v.Index(i), out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			nodesByReflection(v.Field(i), out)
		}
	}
}

// nodeTypes collects the struct types reachable from t through pointer
// and slice fields.
func nodeTypes(t reflect.Type, out map[reflect.Type]bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		nodeTypes(t.Elem(), out)
	case reflect.Struct:
		if out[t] || t.PkgPath() != reflect.TypeOf(File{}).PkgPath() {
			return
		}
		out[t] = true
		for i := 0; i < t.NumField(); i++ {
			nodeTypes(t.Field(i).Type, out)
		}
	}
}

func walked(root Node) map[Node]bool {
	seen := map[Node]bool{}
	Walk(root, func(n Node) bool {
		seen[n] = true
		return true
	})
	return seen
}

func checkWalkVisitsAll(t *testing.T, name, src string) map[reflect.Type]bool {
	t.Helper()
	f, err := Parse(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := map[Node]bool{}
	nodesByReflection(reflect.ValueOf(f), want)
	got := walked(f)
	types := map[reflect.Type]bool{}
	for n := range want {
		types[reflect.TypeOf(n).Elem()] = true
		if !got[n] {
			t.Errorf("%s: Walk does not visit a %T", name, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: Walk visited %d nodes, the tree has %d", name, len(got), len(want))
	}
	return types
}

// TestWalkVisitsEveryNode fails when a node type or field is added to
// ast.go without Walk support: every node of the corpus, found by
// reflection, must be visited, and the corpus must use every node type.
func TestWalkVisitsEveryNode(t *testing.T) {
	used := checkWalkVisitsAll(t, "corpus", walkCorpus)
	all := map[reflect.Type]bool{}
	nodeTypes(reflect.TypeOf(&File{}), all)
	nodeIface := reflect.TypeOf((*Node)(nil)).Elem()
	for typ := range all {
		if typ == reflect.TypeOf(Ref{}) || typ == reflect.TypeOf(Position{}) {
			continue
		}
		if !reflect.PointerTo(typ).Implements(nodeIface) {
			t.Errorf("*%s is not a Node: add it to walk.go", typ.Name())
		}
		if !used[typ] {
			t.Errorf("the corpus has no %s: add one so the test covers it", typ.Name())
		}
	}
}

// TestWalkExamples checks Walk on the example programs.
func TestWalkExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.rayflow")
	if len(files) == 0 {
		t.Skip("no examples")
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkWalkVisitsAll(t, path, string(src))
	}
}

// TestWalkCounts compares counts found by Walk with counts made by hand.
func TestWalkCounts(t *testing.T) {
	f, err := Parse("counts", `
fn f(xs) {
    let n = len(xs) + g(1, k=h(2))
    for x in [y * 2 for y in xs] {
        print(x, n)
    }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	calls, stmts := 0, 0
	Walk(f, func(n Node) bool {
		switch n := n.(type) {
		case *Primary:
			if n.Name != "" {
				names = append(names, n.Name)
			}
		case *Call:
			calls++
		case *Stmt:
			stmts++
		}
		return true
	})
	want := []string{"len", "xs", "g", "h", "y", "xs", "print", "x", "n"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names in visiting order = %v, want %v", names, want)
	}
	if calls != 4 || stmts != 3 {
		t.Errorf("calls, statements = %d, %d; want 4, 3", calls, stmts)
	}
}

// TestWalkSkipsChildren checks that returning false prunes a subtree.
func TestWalkSkipsChildren(t *testing.T) {
	f, err := Parse("skip", "fn f() { g(1) }\nfn h() { g(2) }\n")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	Walk(f, func(n Node) bool {
		if fn, ok := n.(*Func); ok && fn.Name == "f" {
			return false
		}
		if _, ok := n.(*Call); ok {
			calls++
		}
		return true
	})
	if calls != 1 {
		t.Errorf("calls outside f = %d, want 1", calls)
	}
	Walk(nil, func(Node) bool { t.Fatal("visited nil"); return true })
	Walk((*Expr)(nil), func(Node) bool { t.Fatal("visited a nil *Expr"); return true })
}
