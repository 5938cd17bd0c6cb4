package exec_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner/decision"
)

// inlineRuntime runs each task call at once, in the caller's goroutine,
// and records the calls in the order they were submitted, each as
// "ID=name(arg, arg)" with a future argument written as its ID.
type inlineRuntime struct {
	vals  map[*exec.Future]exec.Value
	errs  map[*exec.Future]error
	calls []string
	puts  int
}

func newInlineRuntime() *inlineRuntime {
	return &inlineRuntime{vals: map[*exec.Future]exec.Value{}, errs: map[*exec.Future]error{}}
}

func (r *inlineRuntime) Submit(th *exec.Thread, call *exec.TaskCall) (*exec.Future, error) {
	fut := exec.NewFuture(call.ID, "task "+call.Name())
	args := make([]exec.Value, len(call.Args))
	desc := make([]string, len(call.Args))
	for i, a := range call.Args {
		args[i], desc[i] = a, a.String()
		if a.Kind() == exec.FutureKind {
			f := a.AsFuture()
			desc[i] = f.ID()
			if err := r.errs[f]; err != nil {
				r.errs[fut] = err
				continue
			}
			args[i] = r.vals[f]
		}
	}
	r.calls = append(r.calls, fmt.Sprintf("%s=%s(%s)", call.ID, call.Name(), strings.Join(desc, ", ")))
	if r.errs[fut] != nil {
		return fut, nil
	}
	child := &exec.Thread{Name: call.Name(), TaskID: call.ID, Runtime: r}
	v, err := call.Func.Run(child, args)
	if err != nil {
		r.errs[fut] = err
	}
	r.vals[fut] = v
	return fut, nil
}

func (r *inlineRuntime) Get(th *exec.Thread, fs []*exec.Future) ([]exec.Value, error) {
	out := make([]exec.Value, len(fs))
	for i, f := range fs {
		if err := r.errs[f]; err != nil {
			return nil, err
		}
		out[i] = r.vals[f]
	}
	return out, nil
}

func (r *inlineRuntime) Put(th *exec.Thread, v exec.Value) (*exec.Future, error) {
	r.puts++
	fut := exec.NewFuture(fmt.Sprintf("put%d", r.puts), "put")
	r.vals[fut] = v
	return fut, nil
}

func (r *inlineRuntime) NewActor(*exec.Thread, *exec.TaskCall) (*exec.ActorHandle, error) {
	return nil, fmt.Errorf("no actors")
}
func (r *inlineRuntime) CallMethod(*exec.Thread, *exec.ActorHandle, *exec.TaskCall) (*exec.Future, error) {
	return nil, fmt.Errorf("no actors")
}
func (r *inlineRuntime) Wait(*exec.Thread, []*exec.Future, int, time.Duration) ([]int, error) {
	return nil, fmt.Errorf("no wait")
}
func (r *inlineRuntime) Cancel(*exec.Thread, *exec.Future) error { return nil }
func (r *inlineRuntime) Nodes() []string                         { return []string{"n"} }

// loadPlanned compiles src, plans it with the decisions decide sets,
// and loads it on a thread that runs its tasks on rt; it returns the
// thread and the pipeline main.
func loadPlanned(t testing.TB, file, src string, rt exec.Runtime, decide func(*compiler.Program, *decision.Set)) (*exec.Thread, *exec.Function) {
	t.Helper()
	f, err := lang.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := compiler.Compile(f, exec.Universe(nil))
	if err != nil {
		t.Fatal(err)
	}
	plan := decision.New("test")
	decide(cp, plan)
	th := &exec.Thread{Name: "main", TaskID: "t", Runtime: rt}
	prog, err := exec.LoadPlanned(th, cp, nil, plan)
	if err != nil {
		t.Fatal(err)
	}
	main, _ := prog.Pipeline("")
	return th, main
}

// runReduce runs the pipeline main of src with task add given the
// tree_reduce arity (0: none) and returns what it returned, its error,
// and the calls made.
func runReduce(t *testing.T, src string, arity int) (exec.Value, error, *inlineRuntime) {
	t.Helper()
	rt := newInlineRuntime()
	th, main := loadPlanned(t, "r.rayflow", src, rt, func(cp *compiler.Program, plan *decision.Set) {
		for _, fn := range cp.Funcs {
			if fn.Name == "add" && arity > 0 {
				plan.Reduce[fn] = arity
			}
		}
	})
	v, rerr := main.Run(th, nil)
	if rerr != nil {
		return v, rerr, rt
	}
	return v, nil, rt
}

const reduceSrc = `
task add(a, b) { return a + b }
pipeline main() { return get(reduce(add, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) }
`

func TestReduceFlatIsALeftFoldChain(t *testing.T) {
	v, err, rt := runReduce(t, reduceSrc, 0)
	if err != nil || v.String() != "55" {
		t.Fatalf("reduce = %v, %v; want 55", v, err)
	}
	want := "t.1=add(1, 2) t.2=add(t.1, 3) t.3=add(t.2, 4) t.4=add(t.3, 5) t.5=add(t.4, 6) " +
		"t.6=add(t.5, 7) t.7=add(t.6, 8) t.8=add(t.7, 9) t.9=add(t.8, 10)"
	if got := strings.Join(rt.calls, " "); got != want {
		t.Errorf("calls:\n got %s\nwant %s", got, want)
	}
}

func TestReduceTreeRunsOfArity(t *testing.T) {
	v, err, rt := runReduce(t, reduceSrc, 4)
	if err != nil || v.String() != "55" {
		t.Fatalf("reduce = %v, %v; want 55", v, err)
	}
	// Runs of 4 folded left: [1 2 3 4] [5 6 7 8] [9 10]; then the three
	// results [t.3 t.6 t.7] in one run.
	want := "t.1=add(1, 2) t.2=add(t.1, 3) t.3=add(t.2, 4) t.4=add(5, 6) t.5=add(t.4, 7) " +
		"t.6=add(t.5, 8) t.7=add(9, 10) t.8=add(t.3, t.6) t.9=add(t.8, t.7)"
	if got := strings.Join(rt.calls, " "); got != want {
		t.Errorf("calls:\n got %s\nwant %s", got, want)
	}
}

func TestReduceTreeOfTwoLevelsOfPairs(t *testing.T) {
	_, err, rt := runReduce(t, `
task add(a, b) { return a + b }
pipeline main() { return get(reduce(add, [1, 2, 3, 4, 5])) }
`, 2)
	if err != nil {
		t.Fatal(err)
	}
	// [1 2] [3 4] [5] → [t.1 t.2 5] → [t.3] [5] → t.4; the lone 5 is
	// carried up as it is.
	want := "t.1=add(1, 2) t.2=add(3, 4) t.3=add(t.1, t.2) t.4=add(t.3, 5)"
	if got := strings.Join(rt.calls, " "); got != want {
		t.Errorf("calls:\n got %s\nwant %s", got, want)
	}
}

func TestReduceOfOne(t *testing.T) {
	v, err, rt := runReduce(t, `
task add(a, b) { return a + b }
pipeline main() {
    let f = add(1, 2)
    return [reduce(add, [f]) == f, get(reduce(add, [[7]]))]
}
`, 0)
	if err != nil || v.String() != "[true, [7]]" {
		t.Fatalf("reduce of one = %v, %v; want [true, [7]]", v, err)
	}
	if len(rt.calls) != 1 || rt.puts != 1 {
		t.Errorf("calls %v, puts %d; want the one call of the program and one put", rt.calls, rt.puts)
	}
}

func TestReduceErrors(t *testing.T) {
	for _, c := range []struct{ call, want string }{
		{"reduce(add, [])", "value: reduce() of an empty list"},
		{"reduce(add, 5)", "type: reduce() needs a list of futures or values to combine, got int"},
		{"reduce(double, [1, 2])", "type: reduce() needs a task of two arguments to combine with; 'double' is a fn"},
		{"reduce(add3, [1, 2])", "type: reduce() needs a task of two arguments to combine with; 'add3' takes 3"},
		{"reduce(len, [1, 2])", "type: reduce() needs a task of two arguments to combine with; 'len' is a built-in function"},
		{"reduce(1, [1, 2])", "type: reduce() needs a task of two arguments to combine with, got int"},
	} {
		_, err, _ := runReduce(t, `
task add(a, b) { return a + b }
task add3(a, b, c) { return a + b + c }
fn double(x) { return 2 * x }
pipeline main() {
    return `+c.call+`
}
`, 4)
		e, ok := err.(*exec.Error)
		if !ok || e.Kind+": "+e.Msg != c.want && !strings.HasPrefix(e.Kind+": "+e.Msg, c.want) {
			t.Errorf("%s: error %v; want %s", c.call, err, c.want)
			continue
		}
		if e.Pos.Line != 6 || e.Pos.Column != 12 {
			t.Errorf("%s: error at %d:%d; want 6:12", c.call, e.Pos.Line, e.Pos.Column)
		}
	}
}
