package wire

import (
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
)

// An error crosses processes whole: its task's name too (err.task), at
// every level of its causes; one without a task name keeps the bytes it
// had before names travelled (TestWireGoldenDone pins them).
func TestErrorTravelsWithItsTask(t *testing.T) {
	e := &exec.Error{Kind: "task", Msg: "task 'boom' failed: bad input 1", Task: "collect", Node: "n1",
		Pos:   lang.Position{Filename: "p.rayflow", Line: 2, Column: 27},
		Stack: []exec.Frame{{Pos: lang.Position{Filename: "p.rayflow", Line: 2, Column: 27}, Name: "collect", Node: "n1"}},
		Cause: &exec.Error{Kind: "user", Msg: "bad input 1", Task: "boom", Node: "n2"}}
	got, err := DecodeError(EncodeError(e))
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("error round trip: %+v, %v", got, err)
	}
	done, err := DecodeDone((&Done{ID: "job1.5", Err: e}).Encode())
	if err != nil || !reflect.DeepEqual(done.Err, e) {
		t.Fatalf("done round trip: %+v, %v", done, err)
	}
	bad := EncodeError(&exec.Error{Kind: "user"})
	bad[len(bad)-1] = 0x80 // an unknown flag
	if _, err := DecodeError(bad); err == nil {
		t.Fatal("unknown error flags accepted")
	}
}

// The name of a referenced argument travels, so that "could not start:
// its argument 1, from task 'boom'" reads the same on every node; a
// message without names keeps its bytes (TestWireGoldenSubmit).
func TestSubmitCarriesArgumentNames(t *testing.T) {
	for _, group := range []string{"", "go.1.1"} {
		sub := &Submit{Kind: SubmitTask, ID: "job1.3", Owner: "127.0.0.1:1", ProgramHash: "abc", Function: "add1",
			Args:      []Arg{{Inline: []byte{1, 3}}, {Inline: []byte{}, ObjectID: "job1.2", Location: "127.0.0.1:2", Name: "task 'boom'"}},
			Resources: map[string]float64{}, Lineage: []byte{}, State: []byte{}, Replay: []byte{}, Group: group}
		got, err := DecodeSubmit(sub.Encode())
		if err != nil || !reflect.DeepEqual(got, sub) {
			t.Fatalf("submit round trip (group %q): %+v, %v", group, got, err)
		}
	}
}

// A chain of causes deeper than a reader takes (calls that failed one
// after another across processes) still travels: the writer cuts it to
// its root where it would nest too deep, so what err.cause, err.task and
// the message read arrives, and the message decodes (it failed whole
// before, and the owner waited for the result for ever).
func TestDeepErrorChainTravels(t *testing.T) {
	e := &exec.Error{Kind: "user", Msg: "boom", Task: "step", Node: "n2"}
	for i := 0; i < 60; i++ {
		e = &exec.Error{Kind: "task", Msg: "task 'step' could not start: its argument 1, from task 'step', failed: boom", Node: "n1", Cause: e}
	}
	got, err := DecodeError(EncodeError(e))
	if err != nil {
		t.Fatalf("a chain of 61 errors did not decode: %v", err)
	}
	if got.Msg != e.Msg || got.OriginalKind() != "user" || got.FailedTask() != "step" || got.Root().Msg != "boom" {
		t.Fatalf("decoded %q kind %q task %q root %q", got.Msg, got.OriginalKind(), got.FailedTask(), got.Root().Msg)
	}
	depth := 0
	for c := got; c != nil; c = c.Cause {
		depth++
	}
	if depth > maxErrorDepth+1 {
		t.Fatalf("decoded a chain %d deep", depth)
	}
	done, err := DecodeDone((&Done{ID: "job1.70", Err: e}).Encode())
	if err != nil || done.Err.Root().Msg != "boom" {
		t.Fatalf("a done with a deep error: %+v, %v", done, err)
	}
}
