package exec

import "testing"

// err.cause and err.task read through the chain of "task" errors to the
// error the failing task raised: a get inside a task that got a failed
// task, then the driver's get of that task.
func TestErrorCauseAndTask(t *testing.T) {
	boom := &Error{Kind: KindUser, Msg: "bad input 1", Task: "boom"}
	inCollect := &Error{Kind: KindTask, Msg: "task 'boom' failed: bad input 1", Cause: boom, Task: "collect"}
	atDriver := &Error{Kind: KindTask, Msg: inCollect.Msg, Cause: inCollect}
	dep := DependencyError("task 'add1'", 0, "task 'boom'", boom)
	local := &Error{Kind: KindZeroDivision, Msg: "division by zero"}
	for _, c := range []struct {
		err         *Error
		kind, cause string
		task        Value
	}{
		{atDriver, "task", "user", Str("boom")},
		{inCollect, "task", "user", Str("boom")},
		{dep, "task", "user", Str("boom")},
		{local, "zero_division", "zero_division", None},
		{&Error{Kind: KindTask, Msg: "no cause", Task: "t"}, "task", "task", Str("t")},
	} {
		o := errorObject{c.err}
		kind, _ := o.Attr("kind")
		cause, _ := o.Attr("cause")
		task, _ := o.Attr("task")
		if kind.AsString() != c.kind || cause.AsString() != c.cause || !Equal(task, c.task) {
			t.Errorf("%q: kind %s cause %s task %s, want %s %s %s", c.err.Msg, kind.Repr(), cause.Repr(), task.Repr(), c.kind, c.cause, c.task.Repr())
		}
	}
	if want := "task 'add1' could not start: its argument 1, from task 'boom', failed: bad input 1"; dep.Msg != want {
		t.Errorf("dependency error %q, want %q", dep.Msg, want)
	}
	if lost := DependencyError("task 'f'", 1, "task 'g'", &Error{Kind: KindLost, Msg: "gone"}); lost.Kind != KindLost {
		t.Errorf("a lost dependency gives kind %s, want lost (its owner rebuilds it)", lost.Kind)
	}
}

// An error leaving a task's body names the task, unless an inner task
// (whose error this one carries) already named itself.
func TestInTaskKeepsTheInnermostTask(t *testing.T) {
	e := (&Error{Kind: KindUser}).inTask("inner").inTask("outer")
	if e.Task != "inner" {
		t.Fatalf("task %q, want inner", e.Task)
	}
	var none *Error
	if none.inTask("t") != nil {
		t.Fatal("no error became one")
	}
}

// Along a chain of calls that fail one after another because the first
// did, each DependencyError takes the cause of the one before: the chain
// stays two deep, and the message, err.cause, err.task and the position
// are those of the first failure, as a full chain would give.
func TestDependencyChainStaysShort(t *testing.T) {
	boom := &Error{Kind: KindUser, Msg: "boom", Task: "step"}
	err := DependencyError("task 'step'", 0, "task 'step'", boom)
	first := *err
	for i := 0; i < 1000; i++ {
		err = DependencyError("task 'step'", 0, "task 'step'", err)
	}
	if err.Cause != boom {
		t.Fatalf("after 1000 failed calls the cause is %+v, want the first error", err.Cause)
	}
	if err.Msg != first.Msg || err.OriginalKind() != KindUser || err.FailedTask() != "step" || err.Kind != KindTask {
		t.Fatalf("got %q kind %s cause %s task %s", err.Msg, err.Kind, err.OriginalKind(), err.FailedTask())
	}
	lost := DependencyError("task 'step'", 0, "task 'step'", &Error{Kind: KindLost, Msg: "gone"})
	if again := DependencyError("task 'step'", 1, "task 'step'", lost); again.Kind != KindLost || again.Cause.Kind != KindLost {
		t.Fatalf("a lost argument's dependents: %+v", again)
	}
}
