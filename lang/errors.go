package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Position is a place in a source file: file name, 1-based line and column.
type Position = lexer.Position

// Error is an error at a position in a source file, reported as
// `FILE:LINE:COL: error: MESSAGE`.
type Error struct {
	Pos Position
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: error: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// ErrorList is every error found in one file, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Sort orders the errors by position and drops exact duplicates.
func (l ErrorList) Sort() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := l[:0]
	for i, e := range l {
		if i > 0 && e.Pos == l[i-1].Pos && e.Msg == l[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Report formats err for a user: each error's first line, then the source
// line it points into and a caret under the column. Errors that are not
// positioned are printed as they are.
func Report(err error, src string) string {
	var list ErrorList
	switch e := err.(type) {
	case ErrorList:
		list = e
	case *Error:
		list = ErrorList{e}
	default:
		return "error: " + err.Error() + "\n"
	}
	lines := strings.Split(src, "\n")
	var b strings.Builder
	for _, e := range list {
		b.WriteString(e.Error())
		b.WriteByte('\n')
		if e.Pos.Line >= 1 && e.Pos.Line <= len(lines) {
			line := strings.TrimRight(lines[e.Pos.Line-1], "\r")
			shown, caret := window(line, caretColumn(line, e.Pos.Column))
			b.WriteString("    ")
			b.WriteString(strings.ReplaceAll(shown, "\t", " "))
			b.WriteString("\n    ")
			b.WriteString(strings.Repeat(" ", caret))
			b.WriteString("^\n")
		}
	}
	return b.String()
}

// shownWidth is how much of a long source line an error shows around
// its caret.
const shownWidth = 100

// window cuts a long line to shownWidth runes around the caret (marking
// the cuts with "...") and returns it with the caret's new column.
func window(line string, caret int) (string, int) {
	runes := []rune(line)
	if len(runes) <= shownWidth {
		return line, caret
	}
	start := max(0, min(caret-shownWidth/2, len(runes)-shownWidth))
	end := min(len(runes), start+shownWidth)
	shown := string(runes[start:end])
	if end < len(runes) {
		shown += "..."
	}
	if start > 0 {
		return "..." + shown, caret - start + 3
	}
	return shown, caret
}

// caretColumn is the number of display cells before column col (1-based,
// counted in runes).
func caretColumn(line string, col int) int {
	n := 0
	for range line {
		if n >= col-1 {
			break
		}
		n++
	}
	if col-1 > n {
		return col - 1
	}
	return n
}
