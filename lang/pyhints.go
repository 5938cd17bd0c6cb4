package lang

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Hints for habits brought from Python: an error keeps its position and
// message and gains "; " and what to write in rayflow instead.

// pythonNames are Python's spellings of rayflow's constants.
var pythonNames = map[string]string{"True": "true", "False": "false", "None": "none"}

// PythonNameHint is the hint for an undefined name that is Python's
// spelling of a rayflow word (`True` → `true`), or "".
func PythonNameHint(name string) string {
	if w, ok := pythonNames[name]; ok {
		return "; rayflow writes it '" + w + "'"
	}
	switch name {
	case "elif", "lambda", "import", "from", "def":
		return wordHint(name)
	}
	return ""
}

// wordHint is the hint for a Python keyword that is not one in rayflow.
func wordHint(w string) string {
	switch w {
	case "elif":
		return "; rayflow writes 'else if'"
	case "lambda":
		return "; rayflow has no lambda: declare a fn (fn inc(x) { return x + 1 }) and pass its name"
	case "import", "from":
		return "; there is nothing to import: the modules (math, random, str, ...) are always in scope"
	case "def":
		return "; rayflow declares functions with 'fn' (fn name(x) { ... })"
	}
	return ""
}

// pythonHint looks at the tokens around the parser's current one for a
// Python habit that explains the syntax error msg there, and returns the
// hint or "".
func (p *parser) pythonHint(msg string) string {
	cur, prev := p.tok(), p.prevTok()
	if isSym(cur, ":") && strings.Contains(msg, "'{'") {
		return "; rayflow writes blocks in braces ({ ... }), not with ':' and indentation"
	}
	isWord := func(t lexer.Token, w string) bool { return t.Type == Ident && t.Value == w }
	followedByName := func(at int) bool {
		next := p.peekAt(at + 1)
		return next.Type == Ident || isSym(next, ":")
	}
	switch {
	case isWord(cur, "elif"), isWord(prev, "elif") && p.statementStart() == p.i-1:
		return wordHint("elif")
	case isWord(cur, "lambda") && followedByName(p.i), isWord(prev, "lambda") && (cur.Type == Ident || isSym(cur, ":")):
		return wordHint("lambda")
	case isWord(cur, "def") && p.peekAt(p.i+1).Type == Ident:
		return wordHint("def")
	}
	if start := p.statementStart(); start <= p.i {
		if t := p.toks[start]; (isWord(t, "import") || isWord(t, "from")) && p.peekAt(start+1).Type == Ident {
			return wordHint(t.Value)
		}
	}
	if isSym(cur, ",") && p.assignedBefore() {
		return "; to assign several values, give a list: 'a, b = [b, a]'"
	}
	return ""
}

// peekAt is the token at index i, or the last one (EOF) past the end.
func (p *parser) peekAt(i int) lexer.Token {
	if i < len(p.toks) {
		return p.toks[i]
	}
	return p.toks[len(p.toks)-1]
}

// prevTok is the token before the current one (an EOL at the start).
func (p *parser) prevTok() lexer.Token {
	if p.i == 0 {
		return lexer.Token{Type: EOL}
	}
	return p.toks[p.i-1]
}

// statementStart is the index of the first token of the statement the
// current token is in.
func (p *parser) statementStart() int {
	i := p.i
	for i > 0 && p.toks[i-1].Type != EOL && !isSym(p.toks[i-1], "{") {
		i--
	}
	return i
}

// assignedBefore reports whether the current statement has an '=' (or
// 'let ... =') before the current token, both outside brackets.
func (p *parser) assignedBefore() bool {
	depth, assigned := 0, false
	for i := p.statementStart(); i < p.i; i++ {
		t := p.toks[i]
		if t.Type != Punct {
			continue
		}
		switch t.Value {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=":
			assigned = assigned || depth == 0
		}
	}
	return assigned && depth == 0
}

// withHint appends hint to a message, replacing the generic advice that
// statements belong inside a function when the hint explains better.
func withHint(msg, hint string) string {
	if hint == "" || strings.Contains(msg, hint) {
		return msg
	}
	msg = strings.TrimSuffix(msg, "; statements belong inside a function or pipeline")
	return msg + hint
}
