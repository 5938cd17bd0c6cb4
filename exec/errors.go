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
// err.kind, err.node, err.stack.
type errorObject struct{ err *Error }

func (o errorObject) TypeName() string { return "error" }

func (o errorObject) Attr(name string) (Value, bool) {
	switch name {
	case "message":
		return Str(o.err.Msg), true
	case "kind":
		return Str(o.err.Kind), true
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
