package lang

import (
	"strings"
	"testing"
)

// A chain of binary operators longer than maxChain is a syntax error at
// its start; one just under it parses.
func TestLongOperatorChain(t *testing.T) {
	chain := func(n int) string {
		return "pipeline main() { print(" + strings.Repeat("1+", n-1) + "1) }\n"
	}
	if _, err := Parse("ok.rayflow", chain(maxChain)); err != nil {
		t.Fatalf("%d operands: %v", maxChain, err)
	}
	_, err := Parse("long.rayflow", chain(maxChain+1))
	if err == nil || !strings.Contains(err.Error(), "expression too long") || !strings.Contains(err.Error(), "long.rayflow:1:25") {
		t.Fatalf("%d operands: %v", maxChain+1, err)
	}
}

// A source of more than maxTokens tokens is refused before it is all
// held as tokens.
func TestTooManyTokens(t *testing.T) {
	src := "pipeline main() { let x = [" + strings.Repeat("1,", maxTokens) + "] }\n"
	_, err := Lex("big.rayflow", src)
	if err == nil || !strings.Contains(err.Error(), "program too large") {
		t.Fatalf("%v", err)
	}
}

// An error in a very long line shows the part around its column, with
// the caret under the right character.
func TestReportWindowsLongLines(t *testing.T) {
	src := "pipeline main() { print(" + strings.Repeat("1+", 300) + "x) }\n"
	col := strings.Index(src, "x") + 1
	out := Report(&Error{Pos: Position{Filename: "f", Line: 1, Column: col}, Msg: "undefined name 'x'"}, src)
	lines := strings.Split(out, "\n")
	if len(lines[1]) > shownWidth+20 {
		t.Fatalf("shown line is %d bytes long", len(lines[1]))
	}
	if at := strings.Index(lines[2], "^"); at < 0 || lines[1][at] != 'x' {
		t.Fatalf("the caret is not under x:\n%s", out)
	}
}
