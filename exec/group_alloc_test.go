package exec_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/planner/decision"
)

// groupCounter is a runtime that takes calls in groups and runs none:
// it fills each future with one shared handle (no allocation of its
// own), counts the groups and calls, and checks that every call keeps
// its own deterministic ID in order.
type groupCounter struct {
	inlineRuntime
	groups, calls int
	badID         string
}

type sentLabel struct{}

func (sentLabel) ID() string   { return "sent" }
func (sentLabel) Name() string { return "task sent" }

var shared exec.FutureHandle = sentLabel{}

func (r *groupCounter) SubmitGroup(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	r.groups++
	for i, call := range calls {
		r.calls++
		if n, err := strconv.Atoi(strings.TrimPrefix(call.ID, "t.")); (err != nil || n != r.calls) && r.badID == "" {
			r.badID = fmt.Sprintf("%s (want t.%d)", call.ID, r.calls)
		}
		*futs[i] = exec.Future{Handle: shared}
	}
	return nil
}

// batchedProgram loads src with every call site of task small batched
// in groups of size.
func batchedProgram(t testing.TB, src string, size int) (*exec.Thread, *exec.Function, *groupCounter) {
	t.Helper()
	rt := &groupCounter{inlineRuntime: *newInlineRuntime()}
	th, main := loadPlanned(t, "b.rayflow", src, rt, func(cp *compiler.Program, plan *decision.Set) {
		for _, cs := range cp.Sites {
			if cs.Callee == "small" {
				plan.Sites[cs] = &decision.Site{Group: size}
			}
		}
	})
	return th, main, rt
}

// A batched call costs the caller about one allocation, its future: its
// TaskCall, its arguments (evaluated where they stay: a call's own
// evaluated arguments are its arguments, not copied again) and its ID
// come from chunks its thread makes for many. Made one by one, the same
// call took six (the arguments twice, the ID's number and the ID, the
// call, the future); before the chunks of arguments and IDs, three.
func TestBatchedCallAllocations(t *testing.T) {
	const n = 2048
	src := `
task small(i) { return i }
pipeline main() {
    let n = 2048
    let fs = [small(i) for i in range(n)]
    return len(fs)
}
`
	th, main, rt := batchedProgram(t, src, 128)
	var runs int
	allocs := testing.AllocsPerRun(3, func() {
		runs++
		th.Reuse("main", "t")
		rt.calls = 0
		v, err := main.Run(th, nil)
		if err != nil || v.String() != fmt.Sprint(n) {
			t.Fatalf("main = %v, %v", v, err)
		}
	})
	if rt.badID != "" {
		t.Fatalf("a call's ID is %s", rt.badID)
	}
	if rt.groups != runs*n/128 {
		t.Fatalf("%d groups in %d runs, want %d", rt.groups, runs, runs*n/128)
	}
	perCall := allocs / n
	t.Logf("%.2f allocations per batched call", perCall)
	if perCall > 1.5 {
		t.Errorf("%.2f allocations per batched call, want at most 1.5 (its future, and a share of the chunks and of the list)", perCall)
	}
}

// A call's ID is its thread's task ID and its number, whatever their
// lengths (the ID is built in a buffer on the stack, which a long task ID
// outgrows).
func TestNextCallIDs(t *testing.T) {
	th := &exec.Thread{TaskID: "0123456789abcdef.7.19"}
	for range 1000 {
		th.NextCallID()
	}
	if got := th.NextCallID(); got != "0123456789abcdef.7.19.1001" {
		t.Fatalf("ID %q", got)
	}
	long := &exec.Thread{TaskID: strings.Repeat("x", 200)}
	if id := long.NextCallID(); len(id) != 202 || id[200:] != ".1" {
		t.Errorf("long task ID: %q", id[200:])
	}
}

// Grouped calls made from one chunk are still each their own: a call's
// arguments are its own (a later change by the caller is not seen), and
// each has its own future and ID, in submission order.
func TestChunkedCallsKeepTheirOwnArguments(t *testing.T) {
	src := `
task small(xs) { return len(xs) }
pipeline main() {
    let xs = [1]
    let fs = []
    for i in range(40) {
        fs.append(small(xs))
        xs.append(i)
    }
    return fs
}
`
	rec := &recordingGroups{}
	th, main, _ := batchedProgram(t, src, 16)
	th.Runtime = rec
	v, err := main.Run(th, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.lens) != 40 || len(v.AsList().Elems) != 40 {
		t.Fatalf("%d calls, %d futures", len(rec.lens), len(v.AsList().Elems))
	}
	for i, l := range rec.lens {
		if l != i+1 {
			t.Fatalf("call %d saw %d elements, want %d", i, l, i+1)
		}
	}
	seen := map[*exec.Future]bool{}
	for _, f := range v.AsList().Elems {
		seen[f.AsFuture()] = true
	}
	if len(seen) != 40 {
		t.Errorf("%d distinct futures, want 40", len(seen))
	}
}

// recordingGroups records the length of each grouped call's argument
// when its group is sent, and gives each call a future of its own.
type recordingGroups struct {
	groupCounter
	lens []int
}

func (r *recordingGroups) SubmitGroup(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	for i, call := range calls {
		r.lens = append(r.lens, len(call.Args[0].AsList().Elems))
		*futs[i] = *exec.NewFuture(call.ID, "task small")
	}
	return nil
}

// BenchmarkBatchedCall is the caller's side of a batched call alone (a
// runtime that runs nothing): ns/op and allocs/op per call.
func BenchmarkBatchedCall(b *testing.B) {
	src := `
task small(i) { return i }
pipeline main(n: int) {
    let fs = [small(i) for i in range(n)]
    return len(fs)
}
`
	th, main, _ := batchedProgram(b, src, 128)
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := main.Run(th, []exec.Value{exec.Int(int64(b.N))}); err != nil {
		b.Fatal(err)
	}
}
