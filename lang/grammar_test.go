package lang

// The `parser:"..."` tags in ast.go are the grammar, written for
// participle. These tests build a participle parser from them and check
// that the hand-written parser gives the same trees (positions included),
// so that the tags stay a true description of what Parse accepts.

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// definition adapts Lex to participle's lexer interface.
type definition struct{}

func (definition) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF": EOF, "Ident": Ident, "Keyword": Keyword, "Int": Int,
		"Float": Float, "String": String, "Punct": Punct, "EOL": EOL,
	}
}

func (definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	toks, err := Lex(filename, string(src))
	if err != nil {
		return nil, err
	}
	return &tokenList{toks: toks}, nil
}

// tokenList replays already-lexed tokens to participle.
type tokenList struct {
	toks []lexer.Token
	i    int
}

func (l *tokenList) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return l.toks[len(l.toks)-1], nil
	}
	t := l.toks[l.i]
	l.i++
	return t, nil
}

var grammar = participle.MustBuild[File](
	participle.Lexer(definition{}),
	participle.UseLookahead(4),
)

// grammarParse parses src with the participle grammar; a panic inside
// participle counts as a failure.
func grammarParse(src string) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("participle panicked: %v", r)
		}
	}()
	return grammar.ParseString("t.rayflow", src)
}

// dumpAST prints every grammar field of an AST with its position, one
// node per line. Fields filled by later passes and Block.EndPos (which
// participle sets to the token after the block) are left out; nil and
// empty slices print the same.
func dumpAST(v any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value, depth int) {
	indent := strings.Repeat("  ", depth)
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil\n")
			return
		}
		dumpValue(b, v.Elem(), depth)
	case reflect.Slice:
		fmt.Fprintf(b, "[%d]\n", v.Len())
		for i := 0; i < v.Len(); i++ {
			b.WriteString(indent + "- ")
			dumpValue(b, v.Index(i), depth+1)
		}
	case reflect.Struct:
		if pos, ok := v.Interface().(Position); ok {
			fmt.Fprintf(b, "%d:%d@%d\n", pos.Line, pos.Column, pos.Offset)
			return
		}
		fmt.Fprintf(b, "%s\n", v.Type().Name())
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Name != "Pos" && f.Tag.Get("parser") == "" {
				continue
			}
			b.WriteString(indent + "  " + f.Name + ": ")
			dumpValue(b, v.Field(i), depth+1)
		}
	case reflect.String:
		s := v.String()
		if s == "notin" { // participle joins the two tokens of `not in`
			s = "not in"
		}
		fmt.Fprintf(b, "%q\n", s)
	default:
		fmt.Fprintf(b, "%v\n", v.Interface())
	}
}

// grammarCorpus is valid programs that together use every rule.
var grammarCorpus = []string{
	genProgram(100),
	"",
	"\n\n# only a comment\n",
	"const A = [0]\nconst B = [1, 2.5, \"s\", true, false, none, {\"k\": -A}]\n",
	"fn f(a, b: int, c = 1, d: list = [],) -> int {\n  return a if b else c if d else none\n}\n",
	"fn f() {\n  let x = a or b and not c == d < e <= f != g > h >= i in j not in k\n  x = -a + +b - c * d / e // f % g ** -h ** i\n}",
	"fn f() {\n  a.b(c)[d][e:f][:g][h:][::i][j:k:l][:]\n  m = f(x=1, y=[z for z in zs if z for w in ws if w if z])\n}",
	"fn f() {\n  a, b.c, d[0] = pair\n  x //= 2; y %= 3\n  { nested() }\n  return\n}",
	"fn f() {\n  if a {\n  } else if b {\n  }\n  else {\n  }\n  try { x() }\n  catch e { y() }\n  while true { break; continue }\n  for k, v in items(m) { }\n}",
	"@a\n@b()\n@c(1, d=2)\nactor A(x: int = 0) {\n  let y = x\n  let p, q = [1, 2]\n  method m() -> none { return }\n}\n",
	"fn f() { xs\n  .append(1)\n  .pop() }\n",
	"fn f() { return {\n  \"a\": 1,\n  \"b\": [\n    2,\n  ],\n} }\n",
}

func TestGrammarAgrees(t *testing.T) {
	for _, src := range grammarCorpus {
		mine, err := Parse("t.rayflow", src)
		if err != nil {
			t.Errorf("Parse: %v\n%s", err, src)
			continue
		}
		theirs, err := grammarParse(src)
		if err != nil {
			t.Errorf("the participle grammar rejects what Parse accepts: %v\n%s", err, src)
			continue
		}
		if a, b := dumpAST(mine), dumpAST(theirs); a != b {
			t.Errorf("trees differ for\n%s\n%s", src, firstDiff(a, b))
		}
	}
}

// TestGrammarRejects checks that the grammar and Parse agree on some
// inputs that the tags were changed to reject.
func TestGrammarRejects(t *testing.T) {
	for _, src := range []string{
		"fn f() { a[] }",
		"fn f() { a, b }",
		"fn f() { a, b += 1 }",
		"fn f() { if {} {} }",
		"fn f() { while {} {} }",
		"fn f() { for x in {} {} }",
		"fn f() { {\"a\": 1} }",
		"fn f() {} fn g() {}",
		"actor A() { let a = 1 let b = 2 }",
	} {
		if _, err := Parse("t.rayflow", src); err == nil {
			t.Errorf("Parse accepts %q", src)
		}
		if _, err := grammarParse(src); err == nil {
			t.Errorf("the participle grammar accepts %q", src)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			lo := max(0, i-8)
			return fmt.Sprintf("line %d:\nParse:\n%s\nparticiple:\n%s", i,
				strings.Join(al[lo:min(len(al), i+3)], "\n"), strings.Join(bl[lo:min(len(bl), i+3)], "\n"))
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(al), len(bl))
}

// BenchmarkParseParticiple measures the participle grammar on the program
// of BenchmarkParse, for comparison.
func BenchmarkParseParticiple(b *testing.B) {
	src := genProgram(2000)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := grammarParse(src); err != nil {
			b.Fatal(err)
		}
	}
}
