package lang

import (
	"fmt"
	"strings"
	"testing"
)

// errorCases are bad programs with the first error they must give, as
// "LINE:COL: MESSAGE". Positions point at the token that is wrong, or just
// after the last good token when something is missing at the end of a line.
var errorCases = []struct{ src, want string }{
	{"pipeline main() {\n  let x = 1 +\n}",
		"2:14: expected an expression after '+'"},
	{"pipeline main() {\n  let = 3\n}",
		"2:7: expected a name after 'let', found '='"},
	{"pipeline main() {\n  x = 1 y = 2\n}",
		"2:9: expected end of line or ';' after a statement, found 'y'"},
	{"pipeline main() {\n  if x  print(1) }\n}",
		"2:9: expected '{' to start the body of 'if', found 'print'"},
	{"fn f() {\n  let x 3\n}",
		"2:9: expected '=' after the names in 'let', found '3'"},
	{"fn f() {\n  let x\n}",
		"2:8: expected '=' after the names in 'let'"},
	{"fn f() {\n  let if = 1\n}",
		"2:7: expected a name after 'let', found 'if', which is a reserved word"},
	{"fn f() {\n  let a, = 1\n}",
		"2:10: expected a name after ',', found '='"},
	{"const = 1",
		"1:7: expected a name after 'const', found '='"},
	{"const A 1",
		"1:9: expected '=' after the name in 'const', found '1'"},
	{"const A = ",
		"1:10: expected an expression after '=', found end of file"},
	{"const A = 1 2",
		"1:13: expected end of line after the declaration, found '2'"},
	{"fn () {}",
		"1:4: expected a name after 'fn', found '('"},
	{"fn f {}",
		"1:6: expected '(' to start the parameters of function 'f', found '{'"},
	{"fn f() ",
		"1:7: expected '{' to start the body of function 'f', found end of file"},
	{"fn f()\n{\n}",
		"1:7: expected '{' to start the body of function 'f' on the same line"},
	{"fn f(a b) {}",
		"1:8: expected ',' or ')' after the parameter, found 'b'"},
	{"fn f(1) {}",
		"1:6: expected a parameter name after '(', found '1'"},
	{"fn f(a: ) {}",
		"1:9: expected a type name after ':', found ')'"},
	{"fn f() -> {}",
		"1:11: expected a type name after '->', found '{'"},
	{"fn f(a, b {\n}",
		"1:11: expected ',' or ')' after the parameter, found '{'"},
	{"task t() -> int { return 1",
		"1:27: expected '}' to close the block opened at 1:17, found end of file"},
	{"pipeline main() {\n  print((1)\n  let y = 2\n}",
		"3:3: expected ')' to close the call opened at 2:8, found 'let'"},
	{"pipeline main() {\n  print([1, 2)\n}",
		"2:14: expected ']' to close the list opened at 2:9, found ')'"},
	{"pipeline main() {\n  print(1, 2\n}",
		"3:1: expected ')' to close the call opened at 2:8, found '}'"},
	{"pipeline main() {\n  let x = [1, 2\n}",
		"3:1: expected ']' to close the list opened at 2:11, found '}'"},
	{"pipeline main() {\n  let x = [1 2]\n}",
		"2:14: expected ',' or ']' after the list element, found '2'"},
	{"pipeline main() {\n  print(a b)\n}",
		"2:11: expected ',' or ')' after the argument, found 'b'"},
	{"pipeline main() {\n  let m = {\"a\" 1}\n}",
		"2:16: expected ':' after the map key, found '1'"},
	{"pipeline main() {\n  let m = {\"a\": 1 \"b\": 2}\n}",
		"2:19: expected ',' or '}' after the map entry, found string \"b\""},
	{"pipeline main() {\n  if x == 1 {\n    print(1)\n  } else print(2)\n}",
		"4:10: expected 'if' or '{' after 'else', found 'print'"},
	{"pipeline main() {\n  if x = 1 { }\n}",
		"2:8: expected '{' to start the body of 'if', found '='; use '==' to compare"},
	{"pipeline main() {\n  if { }\n}",
		"2:6: expected a condition after 'if', found '{'"},
	{"pipeline main() {\n  if x\n  {\n  }\n}",
		"2:7: expected '{' to start the body of 'if' on the same line"},
	{"pipeline main() {\n  while { }\n}",
		"2:9: expected a condition after 'while', found '{'"},
	{"pipeline main() {\n  for in xs { }\n}",
		"2:7: expected a loop variable after 'for', found 'in', which is a reserved word"},
	{"pipeline main() {\n  for x xs { }\n}",
		"2:9: expected 'in' after the loop variables, found 'xs'"},
	{"pipeline main() {\n  for a, b, c in xs { }\n}",
		"2:11: expected 'in' after the loop variables, found ','; a loop has at most two variables"},
	{"pipeline main() {\n  for x in { }\n}",
		"2:12: expected an expression after 'in', found '{'"},
	{"pipeline main() {\n  try { x() }\n}",
		"2:14: expected 'catch' after the body of 'try'"},
	{"pipeline main() {\n  try { x() } catch 1 { }\n}",
		"2:21: expected a name for the error or '{' after 'catch', found '1'"},
	{"pipeline main() {\n  try x() catch { }\n}",
		"2:7: expected '{' to start the body of 'try', found 'x'"},
	{"pipeline main() {\n  else { }\n}",
		"2:3: unexpected 'else' without an 'if' before it"},
	{"pipeline main() {\n  catch e { }\n}",
		"2:3: unexpected 'catch' without a 'try' before it"},
	{"pipeline main() {\n  fn g() {}\n}",
		"2:3: unexpected 'fn': declarations are only allowed at the top level of a file"},
	{"pipeline main() {\n  f() = 1\n}",
		"2:3: cannot assign to a call; only a name, an element a[i] or a field a.b can be assigned"},
	{"pipeline main() {\n  1 = x\n}",
		"2:3: cannot assign to a literal; only a name, an element a[i] or a field a.b can be assigned"},
	{"pipeline main() {\n  a + b = 1\n}",
		"2:3: cannot assign to an expression; only a name, an element a[i] or a field a.b can be assigned"},
	{"pipeline main() {\n  xs[1:2] = ys\n}",
		"2:3: cannot assign to a slice; only a name, an element a[i] or a field a.b can be assigned"},
	{"pipeline main() {\n  a, b += 1\n}",
		"2:8: '+=' takes a single target, not 2"},
	{"pipeline main() {\n  a, b\n}",
		"2:7: expected '=' after the targets of an assignment"},
	{"pipeline main() {\n  let x = a if b\n}",
		"2:17: expected 'else' after the condition of a conditional expression 'a if cond else b'"},
	{"pipeline main() {\n  let x = a if b else\n}",
		"2:22: expected an expression after 'else'"},
	{"pipeline main() {\n  let x = a.\n}",
		"2:13: expected a field or method name after '.'"},
	{"pipeline main() {\n  let x = a.1\n}",
		"2:12: expected end of line or ';' after a statement, found '.1'"},
	{"pipeline main() {\n  let x = xs[]\n}",
		"2:14: expected an index or a slice inside '[]'"},
	{"pipeline main() {\n  let x = xs[1 2]\n}",
		"2:16: expected ']' or ':' after the index, found '2'"},
	{"pipeline main() {\n  let x = f(1,,2)\n}",
		"2:15: expected an expression after ',', found ','"},
	{"pipeline main() {\n  let x = f(k=)\n}",
		"2:15: expected an expression after '=', found ')'"},
	{"pipeline main() {\n  let x = [y for in ys]\n}",
		"2:18: expected a loop variable after 'for', found 'in', which is a reserved word"},
	{"pipeline main() {\n  let x = [y for y ys]\n}",
		"2:20: expected 'in' after the loop variables, found 'ys'"},
	{"pipeline main() {\n  let x = [y for y in ys if]\n}",
		"2:28: expected a condition after 'if', found ']'"},
	{"pipeline main() {\n  let x = [y for y in ys, 1]\n}",
		"2:25: expected ']' to close the list opened at 2:11, found ','"},
	{"pipeline main() {\n  let x = (1 2)\n}",
		"2:14: expected ')' after the expression in parentheses, found '2'"},
	{"pipeline main() {\n  let x = not\n}",
		"2:14: expected an expression after 'not'"},
	{"pipeline main() {\n  let x = 1 * * 2\n}",
		"2:15: expected an expression after '*', found '*'"},
	{"pipeline main() {\n  let x = 1 not 2\n}",
		"2:13: expected end of line or ';' after a statement, found 'not'"},
	{"pipeline main() {\n  return return\n}",
		"2:10: expected end of line or ';' after a statement, found 'return'"},
	{"pipeline main() {\n  @x\n}",
		"2:3: expected a statement, found '@'"},
	{"pipeline main() {\n  print(\"abc)\n}",
		"2:9: unterminated string"},
	{"pipeline main() {\n  print(\"a\\qb\")\n}",
		"2:11: invalid escape '\\q' in string (known escapes: \\n \\t \\r \\0 \\\\ \\\")"},
	{"pipeline main() {\n  let x = 12abc\n}",
		"2:11: invalid number literal '12abc'"},
	{"pipeline main() {\n  let x = 1__0\n}",
		"2:11: invalid number literal '1__0': '_' may only stand between digits"},
	{"pipeline main() {\n  let x = 1 $ 2\n}",
		"2:13: invalid character '$'"},
	{"pipeline main() {\n  let café = 1\n}",
		"2:10: invalid character 'é': names use ASCII letters, digits and '_'"},
	{"pipeline main() {\n  print(1))\n}",
		"2:11: unexpected ')'"},
	{"pipeline main() {\n  print(1)\n}\n}",
		"4:1: unexpected '}'"},
	{"pipeline main() {\n  print(1)\n",
		"3:1: expected '}' to close the block opened at 1:17, found end of file"},
	{"x = 1",
		"1:1: expected a declaration (const, fn, task, actor or pipeline), found 'x'; statements belong inside a function or pipeline"},
	{"let x = 1",
		"1:1: expected a declaration (const, fn, task, actor or pipeline), found 'let'; statements belong inside a function or pipeline"},
	{"method m() {}",
		"1:1: unexpected 'method' outside an actor"},
	{"@retries(2)",
		"1:12: expected 'fn', 'task', 'actor' or 'pipeline' after the decorators, found end of file"},
	{"@retries(2)\nconst A = 1\n@foo x",
		"3:6: expected 'fn', 'task', 'actor' or 'pipeline' after the decorators, found 'x'"},
	{"@ fn f() {}",
		"1:3: expected a decorator name after '@', found 'fn', which is a reserved word"},
	{"@retries(2\ntask t() {}",
		"2:1: expected ')' to close the call opened at 1:9, found 'task'"},
	{"actor A() {\n  fn m() {}\n}",
		"2:3: expected 'let' or 'method' in the body of actor 'A', found 'fn'; functions of an actor are declared with 'method'"},
	{"actor A() {\n  x = 1\n}",
		"2:3: expected 'let' or 'method' in the body of actor 'A', found 'x'"},
	{"actor A {\n}",
		"1:9: expected '(' to start the parameters of actor 'A', found '{'"},
	{"actor A() {\n  method () {}\n}",
		"2:10: expected a name after 'method', found '('"},
	{"actor A() {\n  let x = 1 let y = 2\n}",
		"2:13: expected end of line after the actor member, found 'let'"},
	{"fn f() {} fn g() {}",
		"1:11: expected end of line after the declaration, found 'fn'"},
	{"fn f() {\n  let x = {\n    \"a\": 1\n    \"b\": 2\n  }\n}",
		"3:11: expected ',' or '}' after the map entry"},
}

func TestSyntaxErrors(t *testing.T) {
	for _, test := range errorCases {
		_, err := Parse("t.rayflow", test.src)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %s", test.src, test.want)
			continue
		}
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 {
			t.Errorf("Parse(%q) error is %T, want a non-empty ErrorList", test.src, err)
			continue
		}
		e := list[0]
		if got := fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg); got != test.want {
			t.Errorf("Parse(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
		if e.Pos.Filename != "t.rayflow" {
			t.Errorf("Parse(%q): error in file %q", test.src, e.Pos.Filename)
		}
		checkFriendly(t, test.src, e.Msg)
	}
}

// checkFriendly fails when a message shows grammar internals.
func checkFriendly(t *testing.T, src, msg string) {
	t.Helper()
	for _, bad := range []string{"<", "Expr", "Stmt", "Primary", "participle", "token", "EOL", "sub-expression", "struct"} {
		if strings.Contains(src, bad) {
			continue // the message may quote the source
		}
		if strings.Contains(msg, bad) {
			t.Errorf("Parse(%q): message %q shows %q", src, msg, bad)
		}
	}
}

func TestErrorsAreAllReportedForBadCharacters(t *testing.T) {
	src := "pipeline main() {\n  let a = 1 $ 2\n  let b = \"x\\q\"\n  let c = 3 ` 4\n}\n"
	_, err := Parse("t.rayflow", src)
	list, _ := err.(ErrorList)
	var got []string
	for _, e := range list {
		got = append(got, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg))
	}
	want := []string{
		"2:13: invalid character '$'",
		`3:13: invalid escape '\q' in string (known escapes: \n \t \r \0 \\ \")`,
		"4:13: invalid character '`'",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReport(t *testing.T) {
	src := "pipeline main() {\n  let x = 1 +\n}\n"
	_, err := Parse("main.rayflow", src)
	want := "main.rayflow:2:14: error: expected an expression after '+'\n" +
		"      let x = 1 +\n" +
		"                 ^\n"
	if got := Report(err, src); got != want {
		t.Errorf("Report:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseExprErrors(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{"1 +", "1:4: expected an expression after '+', found end of file"},
		{"f(1", "1:4: expected ')' to close the call opened at 1:2, found end of file"},
		{"1 2", "1:3: expected end of input after the expression, found '2'"},
		{"", "1:1: expected an expression, found end of file"},
		{"[1, 2)", "1:6: expected ']' to close the list opened at 1:1, found ')'"},
	} {
		_, err := ParseExpr("t", test.src)
		list, _ := err.(ErrorList)
		if len(list) == 0 {
			t.Errorf("ParseExpr(%q) = %v, want %s", test.src, err, test.want)
			continue
		}
		e := list[0]
		if got := fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg); got != test.want {
			t.Errorf("ParseExpr(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	for _, src := range []string{
		"const A = " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"const A = " + strings.Repeat("-", 100000) + "1",
		"const A = " + strings.Repeat("not ", 100000) + "1",
		"const A = " + strings.Repeat("[", 100000),
		"fn f() {" + strings.Repeat("{", 100000) + strings.Repeat("}", 100000) + "}",
		"fn f() { if a {} " + strings.Repeat("else if a {} ", 100000) + "}",
	} {
		_, err := Parse("t", src)
		if err == nil || !strings.Contains(err.Error(), "nested too deeply") && !strings.Contains(err.Error(), "to close") {
			t.Errorf("Parse(%.30q...) = %v, want a nesting error", src, err)
		}
	}
	// Reasonable nesting is fine.
	if _, err := Parse("t", "const A = "+strings.Repeat("(", 50)+"1"+strings.Repeat(")", 50)); err != nil {
		t.Error(err)
	}
}
