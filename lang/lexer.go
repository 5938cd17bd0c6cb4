package lang

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types produced by Lex. The parser matches keywords and punctuation
// by value; identifiers, numbers and strings by type.
const (
	EOF                     = lexer.EOF
	Ident   lexer.TokenType = -2 - iota
	Keyword                 // reserved words: fn, task, if, ...
	Int                     // 42, 1_000
	Float                   // 3.14, 1e-3
	String                  // "text", value already unescaped
	Punct                   // operators and brackets
	EOL                     // end of a statement: newline or ';'
)

var symbols = map[string]lexer.TokenType{
	"EOF": EOF, "Ident": Ident, "Keyword": Keyword, "Int": Int,
	"Float": Float, "String": String, "Punct": Punct, "EOL": EOL,
}

// Keywords are the reserved words of the language; they cannot be names.
var Keywords = map[string]bool{
	"const": true, "fn": true, "task": true, "actor": true, "method": true,
	"pipeline": true, "let": true, "if": true, "else": true, "for": true,
	"in": true, "while": true, "break": true, "continue": true,
	"return": true, "try": true, "catch": true, "and": true, "or": true,
	"not": true, "true": true, "false": true, "none": true,
}

// puncts lists the operators, longest first so that "//=" wins over "//".
var puncts = []string{
	"//=", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=", "/=", "%=",
	"+", "-", "*", "/", "%", "<", ">", "=", "(", ")", "[", "]", "{", "}",
	",", ":", ".", "@",
}

// endsStatement reports whether a newline after tok ends a statement
// (Go's rule): after a name, a literal, a closing bracket or one of a few
// keywords. Elsewhere (after an operator or a comma) the line continues.
func endsStatement(tok lexer.Token) bool {
	switch tok.Type {
	case Ident, Int, Float, String:
		return true
	case Keyword:
		switch tok.Value {
		case "return", "break", "continue", "true", "false", "none":
			return true
		}
	case Punct:
		switch tok.Value {
		case ")", "]", "}":
			return true
		}
	}
	return false
}

// bracket is an open bracket waiting for its closer.
type bracket struct {
	open string
	what string // "list", "call", "block", ...
	pos  lexer.Position
}

// mapOpeners are the tokens after which '{' starts a map, not a block.
var mapOpeners = map[string]bool{
	"=": true, "(": true, "[": true, ",": true, ":": true, "+": true, "-": true,
	"*": true, "/": true, "<": true, ">": true, "==": true, "!=": true, "<=": true,
	">=": true, "+=": true, "-=": true, "*=": true, "/=": true, "//=": true,
	"%=": true, "//": true, "%": true, "**": true, "return": true, "in": true,
	"and": true, "or": true, "not": true,
}

var closerOf = map[string]string{"(": ")", "[": "]", "{": "}"}

// scanner holds the state of one Lex call.
type scanner struct {
	src    string
	off    int
	line   int
	col    int
	file   string
	expr   bool
	toks   []lexer.Token
	stack  []bracket
	errors ErrorList // errors in the characters: the token stream has gaps
	// bracketErrors are mismatched or unclosed brackets. The tokens are
	// complete, so the parser can often say more precisely what is wrong.
	bracketErrors ErrorList
}

// Lex turns source text into tokens. Newlines become EOL tokens where they
// end a statement; inside parentheses and square brackets they are ignored.
// Brackets are matched here, so that a missing closer is reported where the
// user can see both ends. All lexical errors are collected; Lex returns
// them as an ErrorList.
func Lex(filename, src string) ([]lexer.Token, error) {
	s := scan(filename, src, false)
	if errs := append(s.errors, s.bracketErrors...); len(errs) > 0 {
		return s.toks, errs.Sort()
	}
	return s.toks, nil
}

// tokenErrors is what to report when some characters could not be read.
// They leave gaps in the tokens, so the parser would only report their
// consequences, and so would bracket errors after the first of them (a
// string left open hides the brackets after it).
func (s *scanner) tokenErrors() ErrorList {
	errs := s.errors.Sort()
	for _, e := range s.bracketErrors {
		if e.Pos.Offset < errs[0].Pos.Offset {
			errs = append(errs, e)
		}
	}
	return errs.Sort()
}

// maxTokens bounds the tokens of one source (about 5 MB of ordinary
// code): a program is held in memory as tokens and syntax several times
// its size, and one on a head is everyone's problem.
const maxTokens = 1 << 20

// scan runs the scanner over the whole of src. In an expression (expr),
// a '{' at the start is a map, not a block.
func scan(filename, src string, expr bool) *scanner {
	s := &scanner{src: src, line: 1, col: 1, file: filename, expr: expr}
	s.toks = make([]lexer.Token, 0, min(len(src)/4, maxTokens)+2)
	for s.off < len(s.src) {
		if len(s.toks) > maxTokens {
			s.errorf(s.pos(), "program too large: more than %d tokens; split it into several files or read its data with io", maxTokens)
			return s
		}
		s.next()
	}
	s.finish()
	return s
}

func (s *scanner) pos() lexer.Position {
	return lexer.Position{Filename: s.file, Offset: s.off, Line: s.line, Column: s.col}
}

func (s *scanner) errorf(pos lexer.Position, format string, args ...any) {
	s.errors = append(s.errors, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (s *scanner) bracketErrorf(pos lexer.Position, format string, args ...any) {
	s.bracketErrors = append(s.bracketErrors, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// advance moves over n bytes that contain no newline.
func (s *scanner) advance(n int) {
	s.col += utf8.RuneCountInString(s.src[s.off : s.off+n])
	s.off += n
}

func (s *scanner) emit(typ lexer.TokenType, value string, pos lexer.Position) {
	s.toks = append(s.toks, lexer.Token{Type: typ, Value: value, Pos: pos})
}

func (s *scanner) last() lexer.Token {
	if len(s.toks) == 0 {
		return lexer.Token{Type: EOL}
	}
	return s.toks[len(s.toks)-1]
}

// decoratorWord reports whether a word is the first argument of a
// decorator, as in @hint(pipeline, depth=4): there a keyword is a plain
// name (the hint's), so the hints may be named after what they act on.
func (s *scanner) decoratorWord() bool {
	n := len(s.toks)
	return n >= 3 && s.toks[n-1].Type == Punct && s.toks[n-1].Value == "(" &&
		s.toks[n-2].Type == Ident && s.toks[n-3].Type == Punct && s.toks[n-3].Value == "@"
}

// insideParens reports whether the innermost open bracket ignores newlines.
func (s *scanner) insideParens() bool {
	if len(s.stack) == 0 {
		return false
	}
	top := s.stack[len(s.stack)-1]
	return top.open != "{" || top.what == "map"
}

func (s *scanner) next() {
	c := s.src[s.off]
	switch {
	case c == '\n':
		s.newline()
	case c == ' ' || c == '\t' || c == '\r':
		s.advance(1)
	case c == '#':
		end := strings.IndexByte(s.src[s.off:], '\n')
		if end < 0 {
			end = len(s.src) - s.off
		}
		s.advance(end)
	case c == ';':
		s.endStatement(s.pos())
		s.advance(1)
	case c == '"':
		s.string()
	case c == '\'':
		s.singleQuoted()
	case c >= '0' && c <= '9' || c == '.' && s.off+1 < len(s.src) && isDigit(s.src[s.off+1]):
		s.number()
	case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
		s.word()
	default:
		s.punct()
	}
}

func (s *scanner) newline() {
	if !s.insideParens() && endsStatement(s.last()) && !s.continuesOnNextLine() {
		s.emit(EOL, "\n", s.pos())
	}
	s.off++
	s.line++
	s.col = 1
}

// continuesOnNextLine lets `}` be followed by `else` or `catch` on the
// next line, and a line start with `.method()` to continue a chain.
func (s *scanner) continuesOnNextLine() bool {
	rest := strings.TrimLeft(s.src[s.off+1:], " \t\r\n")
	if last := s.last(); last.Type != Punct || last.Value != "}" {
		return strings.HasPrefix(rest, ".") && !(len(rest) > 1 && isDigit(rest[1]))
	}
	for _, w := range []string{"else", "catch"} {
		if strings.HasPrefix(rest, w) && (len(rest) == len(w) || !isWordByte(rest[len(w)])) {
			return true
		}
	}
	return strings.HasPrefix(rest, ".") && !(len(rest) > 1 && isDigit(rest[1]))
}

func (s *scanner) endStatement(pos lexer.Position) {
	if s.last().Type != EOL {
		s.emit(EOL, ";", pos)
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || c < utf8.RuneSelf && unicode.IsLetter(rune(c))
}

func (s *scanner) word() {
	pos := s.pos()
	end := s.off
	for end < len(s.src) && isWordByte(s.src[end]) {
		end++
	}
	w := s.src[s.off:end]
	s.advance(end - s.off)
	if Keywords[w] && !s.decoratorWord() {
		s.emit(Keyword, w, pos)
	} else {
		s.emit(Ident, w, pos)
	}
}

func (s *scanner) number() {
	pos := s.pos()
	end := s.off
	isFloat := false
	for end < len(s.src) {
		c := s.src[end]
		switch {
		case isDigit(c) || c == '_':
		case c == '.' && !isFloat && end+1 < len(s.src) && isDigit(s.src[end+1]):
			isFloat = true
		case c == '.' && !isFloat && (end+1 >= len(s.src) || !isWordByte(s.src[end+1]) && s.src[end+1] != '.'):
			isFloat = true // "2." is a float
		case (c == 'e' || c == 'E') && end+1 < len(s.src):
			next := end + 1
			if s.src[next] == '+' || s.src[next] == '-' {
				next++
			}
			if next >= len(s.src) || !isDigit(s.src[next]) {
				goto done
			}
			isFloat = true
			end = next
		case isWordByte(c):
			// 12abc: swallow the rest so the error names the whole word.
			for end < len(s.src) && isWordByte(s.src[end]) {
				end++
			}
			text := s.src[s.off:end]
			s.advance(end - s.off)
			s.errorf(pos, "invalid number literal '%s'", text)
			return
		default:
			goto done
		}
		end++
	}
done:
	text := s.src[s.off:end]
	s.advance(end - s.off)
	if strings.Contains(text, "__") || strings.HasSuffix(text, "_") || strings.Contains(text, "_.") || strings.Contains(text, "._") {
		s.errorf(pos, "invalid number literal '%s': '_' may only stand between digits", text)
		return
	}
	if isFloat {
		s.emit(Float, text, pos)
	} else {
		s.emit(Int, text, pos)
	}
}

func (s *scanner) string() {
	pos := s.pos()
	var b strings.Builder
	i := s.off + 1
	for {
		if i >= len(s.src) || s.src[i] == '\n' {
			s.advance(i - s.off)
			s.errorf(pos, "unterminated string")
			return
		}
		c := s.src[i]
		if c == '"' {
			i++
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s.src) {
			i++
			continue
		}
		esc := s.src[i+1]
		switch esc {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case '\\', '"':
			b.WriteByte(esc)
		default:
			epos := pos
			epos.Column += utf8.RuneCountInString(s.src[s.off:i])
			epos.Offset = i
			s.errorf(epos, "invalid escape '\\%c' in string (known escapes: \\n \\t \\r \\0 \\\\ \\\")", esc)
		}
		i += 2
	}
	s.advance(i - s.off)
	s.emit(String, b.String(), pos)
}

// singleQuoted reports a Python-style 'string' as one error at its
// opening quote, with the double-quoted spelling to use, and skips it.
func (s *scanner) singleQuoted() {
	pos := s.pos()
	rest := s.src[s.off+1:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	end := strings.IndexByte(rest, '\'')
	if end < 0 {
		s.advance(1)
		s.errorf(pos, "single quotes do not make a string; rayflow strings use double quotes (\"...\")")
		return
	}
	text := rest[:end]
	s.advance(end + 2)
	if r := []rune(text); len(r) > 20 {
		text = string(r[:17]) + "..."
	}
	s.errorf(pos, "single quotes do not make a string; rayflow strings use double quotes: write \"%s\"", strings.ReplaceAll(text, `"`, `\"`))
}

// punctsByByte lists, for each first byte, the puncts that start with it
// in the order of puncts (longest first), so punct tries only those.
var punctsByByte = func() (t [256][]string) {
	for _, p := range puncts {
		t[p[0]] = append(t[p[0]], p)
	}
	return t
}()

func (s *scanner) punct() {
	pos := s.pos()
	for _, p := range punctsByByte[s.src[s.off]] {
		if strings.HasPrefix(s.src[s.off:], p) {
			s.off += len(p) // an operator is ASCII: one column a byte
			s.col += len(p)
			s.bracketCheck(p, pos)
			s.emit(Punct, p, pos)
			return
		}
	}
	r, size := utf8.DecodeRuneInString(s.src[s.off:])
	if unicode.IsLetter(r) {
		s.errorf(pos, "invalid character '%c': names use ASCII letters, digits and '_'", r)
	} else {
		s.errorf(pos, "invalid character '%c'", r)
	}
	s.advance(size)
}

// bracketCheck keeps the stack of open brackets and reports closers that
// do not match.
func (s *scanner) bracketCheck(p string, pos lexer.Position) {
	switch p {
	case "(", "[", "{":
		s.stack = append(s.stack, bracket{open: p, what: s.bracketKind(p), pos: pos})
	case ")", "]", "}":
		if len(s.stack) == 0 {
			s.bracketErrorf(pos, "unexpected '%s'", p)
			return
		}
		top := s.stack[len(s.stack)-1]
		if closerOf[top.open] != p {
			// If an opener deeper down matches, the brackets above it were
			// left open. If none does, p is one closer too many in a
			// block, or the wrong closer inside an expression.
			for i := len(s.stack) - 1; i >= 0; i-- {
				if closerOf[s.stack[i].open] == p {
					s.bracketErrorf(pos, "expected '%s' to close the %s opened at %d:%d, found '%s'",
						closerOf[top.open], top.what, top.pos.Line, top.pos.Column, p)
					s.stack = s.stack[:i]
					return
				}
			}
			if top.what == "block" {
				s.bracketErrorf(pos, "unexpected '%s'", p)
			} else {
				s.bracketErrorf(pos, "expected '%s' to close the %s opened at %d:%d, found '%s'",
					closerOf[top.open], top.what, top.pos.Line, top.pos.Column, p)
			}
			return
		}
		s.stack = s.stack[:len(s.stack)-1]
		if p == "}" && s.last().Type != EOL && s.last().Value != "{" {
			// `{ x }` on one line: the statement before '}' ends here.
			if top.what == "block" {
				s.emit(EOL, "", pos)
			}
		}
	}
}

// bracketKind names what an opening bracket starts, for error messages.
func (s *scanner) bracketKind(open string) string {
	prev := s.last()
	afterValue := prev.Type == Ident || prev.Type == String ||
		prev.Type == Punct && (prev.Value == ")" || prev.Value == "]")
	switch open {
	case "(":
		if prev.Type == Ident && len(s.toks) >= 2 {
			switch before := s.toks[len(s.toks)-2]; before.Value {
			case "fn", "task", "pipeline", "method", "actor":
				if before.Type == Keyword {
					return "parameter list"
				}
			}
		}
		if afterValue {
			return "call"
		}
		return "parenthesis"
	case "[":
		if afterValue {
			return "index"
		}
		return "list"
	}
	if prev.Type == Punct && mapOpeners[prev.Value] || prev.Type == Keyword && mapOpeners[prev.Value] ||
		s.expr && len(s.toks) == 0 {
		return "map"
	}
	return "block"
}

// finish reports brackets left open and adds a final EOL.
func (s *scanner) finish() {
	for i := len(s.stack) - 1; i >= 0; i-- {
		b := s.stack[i]
		s.bracketErrorf(s.pos(), "expected '%s' to close the %s opened at %d:%d, found end of file",
			closerOf[b.open], b.what, b.pos.Line, b.pos.Column)
		break // one report is enough; the rest are consequences
	}
	s.endStatement(s.pos())
	s.emit(EOF, "", s.pos())
}
