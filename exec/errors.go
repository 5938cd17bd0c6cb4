package exec

import (
	"fmt"
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// Error kinds. A user sees them as err.kind in a catch block.
const (
	KindUser         = "user"          // fail("...")
	KindTask         = "task"          // a task or actor method that failed, seen through get
	KindType         = "type"          // an operation on values of the wrong type
	KindValue        = "value"         // a value of the right type but wrong content
	KindIndex        = "index"         // index out of range
	KindKey          = "key"           // missing map key
	KindZeroDivision = "zero_division" // division or modulo by zero
	KindOverflow     = "overflow"      // 64-bit integer overflow
	KindCancelled    = "cancelled"     // a cancelled task or a stopped run
	KindName         = "name"          // a name or attribute that does not exist at run time
	KindIO           = "io"            // a file operation failed
	KindLost         = "lost"          // an object or actor that cannot be recovered
	KindResource     = "resource"      // no node can hold what was asked
	KindInternal     = "internal"      // a bug in rayflow
	KindStepLimit    = "step_limit"    // the run exceeded its step limit
	KindTimeout      = "timeout"       // get(timeout=) found futures not ready in time
	KindMemory       = "memory"        // the job's memory cap, or its node's memory limit, was exceeded
)

// Frame is one entry of a call stack: where in which function.
type Frame struct {
	Pos  lang.Position
	Name string
	Node string // set for frames that ran in a task on another node
}

func (f Frame) String() string {
	s := fmt.Sprintf("%s:%d:%d in %s", f.Pos.Filename, f.Pos.Line, f.Pos.Column, f.Name)
	if f.Node != "" {
		s += " (on node " + f.Node + ")"
	}
	return s
}

// Error is a runtime error: a kind, a message, the position where it was
// raised and the call stack. Stack is kept innermost first while the error
// unwinds (each call site appends its frame); Backtrace and Report show it
// outermost first, innermost last.
type Error struct {
	Kind  string
	Msg   string
	Pos   lang.Position
	Stack []Frame
	Node  string // the node the innermost frame ran on, for remote errors
	Cause *Error // the remote error behind a "task" error
	// Task is the task or actor method whose body raised the error
	// ("Counter.inc" for a method); "" for an error raised outside one.
	// Run, RunMethod and TaskCall.Run set it as the error leaves the
	// body; it travels with the error, so err.task reads the same
	// embedded and on a cluster.
	Task string
	// dependency marks an error DependencyError made, so that the next
	// one along a chain of failed calls takes its cause instead of it.
	dependency bool
}

// Root is the error behind a chain of "task" errors: the error the
// failing task raised (a dependency that failed before a task could
// start counts as the task that raised it).
func (e *Error) Root() *Error {
	root := e
	for root.Cause != nil && root.Kind == KindTask {
		root = root.Cause
	}
	return root
}

// OriginalKind is the kind of the error behind e: for a "task" error the
// kind the failing task raised (err.cause), otherwise e's own kind.
func (e *Error) OriginalKind() string { return e.Root().Kind }

// FailedTask names the task or method whose failure e is (err.task): the
// deepest one along the chain of causes that names one; "" when e was
// not raised in a task.
func (e *Error) FailedTask() string {
	name := ""
	for c := e; c != nil; c = c.Cause {
		if c.Task != "" {
			name = c.Task
		}
		if c.Kind != KindTask {
			break
		}
	}
	return name
}

// inTask marks e, leaving the body of the task or method named name, as
// raised there, unless an inner task already claimed it.
func (e *Error) inTask(name string) *Error {
	if e != nil && e.Task == "" {
		e.Task = name
	}
	return e
}

// Errorf makes an error of a kind without a position; the evaluator adds
// the position of the call that raised it.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// MarkNode names node as where the error and each frame of its stack
// happened, where they name no node yet.
func (e *Error) MarkNode(node string) {
	if e.Node == "" {
		e.Node = node
	}
	for i := range e.Stack {
		if e.Stack[i].Node == "" {
			e.Stack[i].Node = node
		}
	}
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return "error: " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: error: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Report is the full text a user sees: the first line, then the call
// stack one frame a line, innermost last.
func (e *Error) Report() string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteByte('\n')
	frames := e.Backtrace()
	const keep = 12
	for i, f := range frames {
		if len(frames) > 2*keep && i == keep {
			fmt.Fprintf(&b, "  ... %d frames omitted ...\n", len(frames)-2*keep)
		}
		if len(frames) > 2*keep && i >= keep && i < len(frames)-keep {
			continue
		}
		b.WriteString("  ")
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Backtrace returns the stack, outermost first.
func (e *Error) Backtrace() []Frame {
	out := make([]Frame, len(e.Stack))
	for i, f := range e.Stack {
		out[len(e.Stack)-1-i] = f
	}
	return out
}

// errorObject is how a caught error looks to a program: err.message,
// err.kind, err.cause, err.task, err.node, err.stack.
type errorObject struct{ err *Error }

func (o errorObject) TypeName() string { return "error" }

func (o errorObject) Attr(name string) (Value, bool) {
	switch name {
	case "message":
		return Str(o.err.Msg), true
	case "kind":
		return Str(o.err.Kind), true
	case "cause":
		return Str(o.err.OriginalKind()), true
	case "task":
		if t := o.err.FailedTask(); t != "" {
			return Str(t), true
		}
		return None, true
	case "node":
		if o.err.Node == "" {
			return None, true
		}
		return Str(o.err.Node), true
	case "stack":
		frames := make([]Value, len(o.err.Stack))
		for i, f := range o.err.Backtrace() {
			frames[i] = Str(f.String())
		}
		return ListOf(frames), true
	}
	return None, false
}

// ErrorValue wraps err as a value for a catch block.
func ErrorValue(err *Error) Value { return ObjectValue(errorObject{err}) }

// DependencyError is the error of the call named name (an object's name,
// "task 'add1'") that could not start because its argument i (counted
// from 0), the result of the call named from, failed with err. It is a
// "task" error whose cause is err; it stays "lost" when err is (the value
// is gone, not wrong: whoever owns the lineage can rebuild it and run the
// call again).
//
// When err is itself such an error made in this process, the new one's
// cause is err's cause: along a chain of calls that fail one after the
// other because the first did, the chain of causes stays two deep (a
// long one would not travel: the wire reads at most 20 nested causes),
// and the message, the root error, the failed task and the positions are
// those the full chain would give.
func DependencyError(name string, i int, from string, err *Error) *Error {
	kind := KindTask
	if err.Kind == KindLost {
		kind = KindLost
	}
	cause := err
	if err.dependency && err.Cause != nil {
		cause = err.Cause
	}
	return &Error{Kind: kind, Pos: err.Pos, Stack: append([]Frame(nil), err.Stack...),
		Msg:        fmt.Sprintf("%s could not start: its argument %d, from %s, failed: %s", name, i+1, from, err.Root().Msg),
		Node:       err.Node,
		Cause:      cause,
		dependency: true}
}
