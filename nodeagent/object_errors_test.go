package nodeagent_test

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
)

// Across processes, a job sees what it sees in one: function values
// reach tasks on other nodes, a failed task's future passed inside a list
// raises that task's error in the task that gets it (not "could not be
// fetched"), a call whose argument failed says it could not start, errors
// keep their original kind and task (err.cause, err.task), and a task no
// node can hold is a "resource" error.
func TestErrorsAndFunctionsCrossProcesses(t *testing.T) {
	_, _, driver, out := startCluster(t, 2, 1)
	err := runOn(t, driver, `
fn double(x) { return x * 2 }
task apply_task(f, x) { return f(x) }
task apply_get(f, x) { return get(f(x)) }
task boom(i) { fail("bad input " + str(i)) }
task collect(xs) { return get(xs) }
task add1(x) { return x + 1 }
task div(a, b) { return a / b }
actor Counter(n) {
    method inc(k) { n += k
        return n }
}
@resources(cpu=64)
task huge() { return 1 }
pipeline main() {
    print(get(apply_task(double, 21)), get(apply_task(len, "abc")))
    let c = Counter(1)
    print(get(apply_get(c.inc, 2)))
    try { get(collect([boom(i) for i in range(3)])) } catch e { print(e.kind, e.cause, e.task, e.message, len(e.stack)) }
    try { get(add1(boom(1))) } catch e { print(e.kind, e.cause, e.task, e.message) }
    try { get(div(1, 0)) } catch e { print(e.kind, e.cause, e.task) }
    try { get(huge()) } catch e { print(e.kind, e.cause, e.task) }
}`)
	if err != nil {
		t.Fatalf("%v", rayflow.FormatError(err, ""))
	}
	want := `42 3
3
task user boom task 'boom' failed: bad input 0 3
task user boom task 'add1' could not start: its argument 1, from task 'boom', failed: bad input 1
task zero_division div
resource resource none`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}
