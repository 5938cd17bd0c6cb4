package lang

import (
	"fmt"
	"strings"
	"testing"
)

// Python habits keep the error's position and gain a hint saying what to
// write instead.
func TestPythonHabitHints(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{"pipeline main() {\n  if 1 < 2 { print(1) } elif 2 > 1 { print(2) }\n}",
			"2:25: expected end of line or ';' after a statement, found 'elif'; rayflow writes 'else if'"},
		{"pipeline main() {\n  if true { print(1) }\n  elif false { print(2) }\n}",
			"3:8: expected end of line or ';' after a statement, found 'false'; rayflow writes 'else if'"},
		{"pipeline main() {\n  print('hi')\n}",
			"2:9: single quotes do not make a string; rayflow strings use double quotes: write \"hi\""},
		{"pipeline main() {\n  print('hi\n}",
			"2:9: single quotes do not make a string; rayflow strings use double quotes (\"...\")"},
		{"import math\npipeline main() {}",
			"1:1: expected a declaration (const, fn, task, actor or pipeline), found 'import'; there is nothing to import: the modules (math, random, str, ...) are always in scope"},
		{"from math import sqrt\npipeline main() {}",
			"1:1: expected a declaration (const, fn, task, actor or pipeline), found 'from'; there is nothing to import: the modules (math, random, str, ...) are always in scope"},
		{"pipeline main() {\n  import math\n}",
			"2:10: expected end of line or ';' after a statement, found 'math'; there is nothing to import: the modules (math, random, str, ...) are always in scope"},
		{"pipeline main() {\n  let f = lambda x: x + 1\n}",
			"2:18: expected end of line or ';' after a statement, found 'x'; rayflow has no lambda: declare a fn (fn inc(x) { return x + 1 }) and pass its name"},
		{"pipeline main() {\n  print(sorted([1], key=lambda x: x))\n}",
			"2:32: expected ',' or ')' after the argument, found 'x'; rayflow has no lambda: declare a fn (fn inc(x) { return x + 1 }) and pass its name"},
		{"pipeline main() {\n  let a = 1\n  let b = 2\n  a, b = b, a\n}",
			"4:11: expected end of line or ';' after a statement, found ','; to assign several values, give a list: 'a, b = [b, a]'"},
		{"pipeline main() {\n  let a, b = 1, 2\n}",
			"2:15: expected end of line or ';' after a statement, found ','; to assign several values, give a list: 'a, b = [b, a]'"},
		{"pipeline main() {\n  for i in range(3):\n    print(i)\n}",
			"2:20: expected '{' to start the body of 'for', found ':'; rayflow writes blocks in braces ({ ... }), not with ':' and indentation"},
		{"pipeline main() {\n  if true { print(1) } else:\n    print(2)\n}",
			"2:28: expected 'if' or '{' after 'else', found ':'; rayflow writes blocks in braces ({ ... }), not with ':' and indentation"},
		{"def f(x):\n  return x\n",
			"1:1: expected a declaration (const, fn, task, actor or pipeline), found 'def'; rayflow declares functions with 'fn' (fn name(x) { ... })"},
	} {
		_, err := Parse("t.rayflow", test.src)
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 {
			t.Errorf("Parse(%q) = %v, want %s", test.src, err, test.want)
			continue
		}
		e := list[0]
		if got := fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg); got != test.want {
			t.Errorf("Parse(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
	}
}

// A hint appears only where the habit is: names that merely look like
// Python words, in correct code or other errors, get none.
func TestPythonHintsOnlyForTheHabit(t *testing.T) {
	for _, src := range []string{
		"pipeline main() {\n  let from = [1, 2]\n  let x = from[0]\n}",
		"pipeline main() {\n  let lambda = 1\n  print(lambda + 1)\n}",
		"pipeline main() {\n  let a = [1, 2]\n  let x, y = a\n  x, y = [y, x]\n}",
	} {
		if _, err := Parse("t.rayflow", src); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
	_, err := Parse("t.rayflow", "pipeline main() {\n  let x = 1 $ 2\n}")
	if err == nil || strings.Contains(err.Error(), "rayflow writes") || strings.Contains(err.Error(), "import") {
		t.Errorf("an unrelated error got a hint: %v", err)
	}
	if h := PythonNameHint("None"); h != "; rayflow writes it 'none'" {
		t.Errorf("PythonNameHint(None) = %q", h)
	}
	for _, name := range []string{"True", "False"} {
		if h := PythonNameHint(name); !strings.Contains(h, "'"+strings.ToLower(name)+"'") {
			t.Errorf("PythonNameHint(%s) = %q", name, h)
		}
	}
	if h := PythonNameHint("count"); h != "" {
		t.Errorf("PythonNameHint(count) = %q, want none", h)
	}
}
