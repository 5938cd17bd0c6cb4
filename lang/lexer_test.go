package lang

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// tokensString prints tokens compactly: I:name K:keyword N:int F:float
// S:"string" P:punct, ";" for an EOL and nothing for the final EOF.
func tokensString(toks []lexer.Token) string {
	var parts []string
	for _, t := range toks {
		switch t.Type {
		case Ident:
			parts = append(parts, "I:"+t.Value)
		case Keyword:
			parts = append(parts, "K:"+t.Value)
		case Int:
			parts = append(parts, "N:"+t.Value)
		case Float:
			parts = append(parts, "F:"+t.Value)
		case String:
			parts = append(parts, fmt.Sprintf("S:%q", t.Value))
		case Punct:
			parts = append(parts, "P:"+t.Value)
		case EOL:
			parts = append(parts, ";")
		case EOF:
		default:
			parts = append(parts, fmt.Sprintf("?%d:%s", t.Type, t.Value))
		}
	}
	return strings.Join(parts, " ")
}

func TestLex(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{``, ``},
		{"\n\n  # comment only\n", ``},
		// Token types and values.
		{`let x = y`, `K:let I:x P:= I:y ;`},
		{`_a1 b_2 fnx iff`, `I:_a1 I:b_2 I:fnx I:iff ;`},
		{`const fn task actor method pipeline`, `K:const K:fn K:task K:actor K:method K:pipeline ;`},
		{`and or not in true false none`, `K:and K:or K:not K:in K:true K:false K:none ;`},
		{`a//=b//c**d`, `I:a P://= I:b P:// I:c P:** I:d ;`},
		{`== != <= >= < > -> += -= *= /= %= = + - * / %`,
			`P:== P:!= P:<= P:>= P:< P:> P:-> P:+= P:-= P:*= P:/= P:%= P:= P:+ P:- P:* P:/ P:% ;`},
		{`@f(a.b, [c]: {})`, `P:@ I:f P:( I:a P:. I:b P:, P:[ I:c P:] P:: P:{ P:} P:) ;`},
		// Numbers.
		{`0 42 1_000`, `N:0 N:42 N:1_000 ;`},
		{`2.0 3.14 1e-3 1E+10 2e5 .5 2.`, `F:2.0 F:3.14 F:1e-3 F:1E+10 F:2e5 F:.5 F:2. ;`},
		{`x.y 1 .5`, `I:x P:. I:y N:1 F:.5 ;`},
		{`xs[1:2]`, `I:xs P:[ N:1 P:: N:2 P:] ;`},
		{`1..2`, `N:1 P:. F:.2 ;`},
		// Strings and escapes.
		{`"a\tb\n" "q\"\\" ""`, `S:"a\tb\n" S:"q\"\\" S:"" ;`},
		{`"\r\0"`, `S:"\r\x00" ;`},
		{`"é ☃"`, `S:"é ☃" ;`},
		{`"# not a comment"`, `S:"# not a comment" ;`},
		// Newlines end a statement only after a name, a literal, a closer,
		// return, break, continue, true, false or none.
		{"a\nb", `I:a ; I:b ;`},
		{"1\n2.5\n\"s\"\n", `N:1 ; F:2.5 ; S:"s" ;`},
		{"f()\nxs[0]\n", `I:f P:( P:) ; I:xs P:[ N:0 P:] ;`},
		{"return\nbreak\ncontinue\ntrue\nfalse\nnone\n", `K:return ; K:break ; K:continue ; K:true ; K:false ; K:none ;`},
		{"a +\nb", `I:a P:+ I:b ;`},
		{"a =\n  b", `I:a P:= I:b ;`},
		{"a,\nb", `I:a P:, I:b ;`},
		{"if\nx", `K:if I:x ;`},
		{"x and\ny", `I:x K:and I:y ;`},
		{"a\n\n\n\nb", `I:a ; I:b ;`},
		{"a # comment\nb", `I:a ; I:b ;`},
		{"a\r\nb\r\n", `I:a ; I:b ;`},
		// Inside ( ) and [ ] newlines are ignored.
		{"f(a,\n  b\n)\n", `I:f P:( I:a P:, I:b P:) ;`},
		{"[1,\n 2\n]", `P:[ N:1 P:, N:2 P:] ;`},
		{"f(\n  [\n    1\n  ]\n)", `I:f P:( P:[ N:1 P:] P:) ;`},
		// In map literals too; a '{' after '=', '(', ',', ':', return, an
		// operator... starts a map.
		{"m = {\n  \"a\": 1,\n  \"b\": 2\n}\n", `I:m P:= P:{ S:"a" P:: N:1 P:, S:"b" P:: N:2 P:} ;`},
		{"return {\n\"a\": {\n\"b\": 1\n}\n}", `K:return P:{ S:"a" P:: P:{ S:"b" P:: N:1 P:} P:} ;`},
		{"f({\n})", `I:f P:( P:{ P:} P:) ;`},
		// In a block they end statements, and one is added before '}'.
		{"if x {\n  a\n  b\n}\n", `K:if I:x P:{ I:a ; I:b ; P:} ;`},
		{"if x { a }", `K:if I:x P:{ I:a ; P:} ;`},
		{"if x { }", `K:if I:x P:{ P:} ;`},
		{"{ { a } }", `P:{ P:{ I:a ; P:} ; P:} ;`},
		{"f() {\n}\n", `I:f P:( P:) P:{ P:} ;`},
		// '}' followed by else or catch on the next line continues.
		{"if x {\n}\nelse {\n}\n", `K:if I:x P:{ P:} K:else P:{ P:} ;`},
		{"try {\n}\n\n  catch e {\n}", `K:try P:{ P:} K:catch I:e P:{ P:} ;`},
		{"}\nelsewhere", ``}, // (error case, tested below)
		// So does a line starting with '.'.
		{"xs\n  .append(1)\n", `I:xs P:. I:append P:( N:1 P:) ;`},
		{"x\n.5", `I:x ; F:.5 ;`},
		// ';' separates statements; it is not doubled.
		{"a; b;; c", `I:a ; I:b ; I:c ;`},
		{"a;\nb", `I:a ; I:b ;`},
		{";", ``},
	} {
		toks, err := Lex("t", test.src)
		if test.want == "" && err != nil {
			continue
		}
		if err != nil {
			t.Errorf("Lex(%q): %v", test.src, err)
			continue
		}
		if got := tokensString(toks); got != test.want {
			t.Errorf("Lex(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
		if last := toks[len(toks)-1]; last.Type != EOF {
			t.Errorf("Lex(%q) does not end with EOF", test.src)
		}
	}
}

func TestLexPositions(t *testing.T) {
	toks, err := Lex("p.rayflow", "let s = \"é\" + x\n  f(\n  y)")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range toks {
		got = append(got, fmt.Sprintf("%s@%d:%d/%d", tok.Value, tok.Pos.Line, tok.Pos.Column, tok.Pos.Offset))
	}
	want := "let@1:1/0 s@1:5/4 =@1:7/6 é@1:9/8 +@1:13/13 x@1:15/15 \n@1:16/16 f@2:3/19 (@2:4/20 y@3:3/24 )@3:4/25 ;@3:5/26 @3:5/26"
	if strings.Join(got, " ") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if toks[0].Pos.Filename != "p.rayflow" {
		t.Errorf("file name %q", toks[0].Pos.Filename)
	}
}

func TestLexErrors(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{`"abc`, `1:1: unterminated string`},
		{"x = \"abc\ny", `1:5: unterminated string`},
		{`"a\qb"`, `1:3: invalid escape '\q' in string (known escapes: \n \t \r \0 \\ \")`},
		{`"\`, `1:1: unterminated string`},
		{`12abc`, `1:1: invalid number literal '12abc'`},
		{`1__000`, `1:1: invalid number literal '1__000': '_' may only stand between digits`},
		{`1e`, `1:1: invalid number literal '1e'`},
		{`1_`, `1:1: invalid number literal '1_': '_' may only stand between digits`},
		{`a $ b`, `1:3: invalid character '$'`},
		{"a ` b", "1:3: invalid character '`'"},
		{`é`, `1:1: invalid character 'é': names use ASCII letters, digits and '_'`},
		{`a ! b`, `1:3: invalid character '!'`},
		{`(]`, `1:2: expected ')' to close the parenthesis opened at 1:1, found ']'`},
		{`f(]`, `1:3: expected ')' to close the call opened at 1:2, found ']'`},
		{`[1, 2)`, `1:6: expected ']' to close the list opened at 1:1, found ')'`},
		{`xs[1)`, `1:5: expected ']' to close the index opened at 1:3, found ')'`},
		{`{ )`, `1:3: unexpected ')'`},
		{`x = { )`, `1:7: expected '}' to close the map opened at 1:5, found ')'`},
		{"{ f(1 }", `1:7: expected ')' to close the call opened at 1:4, found '}'`},
		{"fn f(a {", `1:9: expected '}' to close the block opened at 1:8, found end of file`},
		{"fn f(a", `1:7: expected ')' to close the parameter list opened at 1:5, found end of file`},
		{"}", `1:1: unexpected '}'`},
		{"}\nelsewhere", `1:1: unexpected '}'`},
		{"f(\n\n", `3:1: expected ')' to close the call opened at 1:2, found end of file`},
	} {
		_, err := Lex("t", test.src)
		list, _ := err.(ErrorList)
		if len(list) == 0 {
			t.Errorf("Lex(%q) = %v, want %s", test.src, err, test.want)
			continue
		}
		e := list[0]
		if got := fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg); got != test.want {
			t.Errorf("Lex(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
	}
}

// A keyword as the first argument of a decorator is a name (the hint
// @hint(pipeline) is named after what it acts on); elsewhere it stays a
// keyword.
func TestKeywordAsDecoratorWord(t *testing.T) {
	toks, err := Lex("t.rayflow", "@hint(pipeline, depth=4)\nf(pipeline)")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, tok := range toks {
		if tok.Value == "pipeline" {
			types = append(types, map[bool]string{true: "keyword", false: "name"}[tok.Type == Keyword])
		}
	}
	if strings.Join(types, ",") != "name,keyword" {
		t.Fatalf("pipeline lexed as %v, want name then keyword", types)
	}
}
