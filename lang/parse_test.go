package lang

import (
	"fmt"
	"strings"
	"testing"
)

// The trees in these tests are printed as compact S-expressions:
// binary operators as (op x y), chained comparisons as (< a b < c),
// calls as (call f args...), keyword arguments as k=v, slices as
// (slice a start end step) with _ for a missing part, comprehensions as
// (comp elem (for x in xs (if c))...), conditionals as (if cond then else).

// exprString prints an expression tree.
func exprString(e *Expr) string {
	if e == nil {
		return "_"
	}
	if e.Cond != nil {
		return fmt.Sprintf("(if %s %s %s)", orString(e.Cond), orString(e.Body), exprString(e.Else))
	}
	return orString(e.Body)
}

func orString(o *Or) string {
	if len(o.Terms) == 1 {
		return andString(o.Terms[0])
	}
	parts := []string{"or"}
	for _, t := range o.Terms {
		parts = append(parts, andString(t))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func andString(a *And) string {
	if len(a.Terms) == 1 {
		return notString(a.Terms[0])
	}
	parts := []string{"and"}
	for _, t := range a.Terms {
		parts = append(parts, notString(t))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func notString(n *Not) string {
	if n.Negated != nil {
		return "(not " + notString(n.Negated) + ")"
	}
	c := n.Cmp
	if len(c.Rests) == 0 {
		return sumString(c.Left)
	}
	if len(c.Rests) == 1 {
		return fmt.Sprintf("(%s %s %s)", c.Rests[0].Op, sumString(c.Left), sumString(c.Rests[0].Right))
	}
	parts := []string{"cmp", sumString(c.Left)}
	for _, r := range c.Rests {
		parts = append(parts, r.Op, sumString(r.Right))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func sumString(s *Sum) string {
	out := productString(s.Left)
	for _, r := range s.Rests {
		out = fmt.Sprintf("(%s %s %s)", r.Op, out, productString(r.Right))
	}
	return out
}

func productString(p *Product) string {
	out := unaryString(p.Left)
	for _, r := range p.Rests {
		out = fmt.Sprintf("(%s %s %s)", r.Op, out, unaryString(r.Right))
	}
	return out
}

func unaryString(u *Unary) string {
	if u.Operand != nil {
		return fmt.Sprintf("(%s %s)", u.Op, unaryString(u.Operand))
	}
	pw := u.Power
	base := postfixString(pw.Base)
	if pw.Exponent != nil {
		return fmt.Sprintf("(** %s %s)", base, unaryString(pw.Exponent))
	}
	return base
}

func postfixString(p *Postfix) string {
	out := primaryString(p.Primary)
	for _, s := range p.Suffixes {
		switch {
		case s.Call != nil:
			parts := []string{"call", out}
			for _, a := range s.Call.Args {
				parts = append(parts, argString(a))
			}
			out = "(" + strings.Join(parts, " ") + ")"
		case s.Index != nil && s.Index.Slice:
			ix := s.Index
			out = fmt.Sprintf("(slice %s %s %s %s)", out, exprString(ix.Start), exprString(ix.End), exprString(ix.Step))
		case s.Index != nil:
			out = fmt.Sprintf("(index %s %s)", out, exprString(s.Index.Start))
		default:
			out = fmt.Sprintf("(. %s %s)", out, s.Field)
		}
	}
	return out
}

func argString(a *Arg) string {
	if a.Name != "" {
		return a.Name + "=" + exprString(a.Value)
	}
	return exprString(a.Value)
}

func primaryString(p *Primary) string {
	switch {
	case p.Float != nil:
		return *p.Float
	case p.Int != nil:
		return *p.Int
	case p.String != nil:
		return fmt.Sprintf("%q", *p.String)
	case p.Bool != nil:
		return *p.Bool
	case p.None:
		return "none"
	case p.Name != "":
		return p.Name
	case p.List != nil:
		l := p.List
		if l.Comp != nil {
			parts := []string{"comp", exprString(l.First)}
			for c := l.Comp; c != nil; c = c.Next {
				f := fmt.Sprintf("(for %s in %s", strings.Join(c.Names, ","), orString(c.Iter))
				for _, cond := range c.Conds {
					f += " (if " + orString(cond) + ")"
				}
				parts = append(parts, f+")")
			}
			return "(" + strings.Join(parts, " ") + ")"
		}
		var parts []string
		if l.First != nil {
			parts = append(parts, exprString(l.First))
		}
		for _, r := range l.Rest {
			parts = append(parts, exprString(r))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case p.Map != nil:
		var parts []string
		for _, e := range p.Map.Entries {
			parts = append(parts, exprString(e.Key)+": "+exprString(e.Value))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case p.Paren != nil:
		return exprString(p.Paren)
	}
	return "?"
}

// declString prints a declaration; statements are printed one per
// element, separated by "; ".
func declString(d *Decl) string {
	var b strings.Builder
	for _, dec := range d.Decorators {
		fmt.Fprintf(&b, "@%s", dec.Name)
		if dec.Args != nil {
			var args []string
			for _, a := range dec.Args {
				args = append(args, argString(a))
			}
			fmt.Fprintf(&b, "(%s)", strings.Join(args, " "))
		}
		b.WriteString(" ")
	}
	switch {
	case d.Const != nil:
		fmt.Fprintf(&b, "(const %s %s)", d.Const.Name, exprString(d.Const.Value))
	case d.Func != nil:
		f := d.Func
		fmt.Fprintf(&b, "(%s %s %s%s %s)", f.Kind, f.Name, paramsString(f.Params), resultString(f.Result), blockString(f.Body))
	case d.Actor != nil:
		a := d.Actor
		var members []string
		for _, m := range a.Members {
			if m.Field != nil {
				members = append(members, letString(m.Field))
			} else {
				members = append(members, fmt.Sprintf("(method %s %s%s %s)", m.Method.Name,
					paramsString(m.Method.Params), resultString(m.Method.Result), blockString(m.Method.Body)))
			}
		}
		fmt.Fprintf(&b, "(actor %s %s %s)", a.Name, paramsString(a.Params), strings.Join(members, " "))
	}
	return b.String()
}

func paramsString(ps []*Param) string {
	var parts []string
	for _, p := range ps {
		s := p.Name
		if p.Type != nil {
			s += ":" + p.Type.Name
		}
		if p.Default != nil {
			s += "=" + exprString(p.Default)
		}
		parts = append(parts, s)
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func resultString(t *TypeRef) string {
	if t == nil {
		return ""
	}
	return " ->" + t.Name
}

func letString(l *Let) string {
	return fmt.Sprintf("(let %s %s)", strings.Join(l.Names, ","), exprString(l.Value))
}

func blockString(b *Block) string {
	var parts []string
	for _, s := range b.Stmts {
		parts = append(parts, stmtString(s))
	}
	return "{" + strings.Join(parts, "; ") + "}"
}

func stmtString(s *Stmt) string {
	switch {
	case s.Let != nil:
		return letString(s.Let)
	case s.If != nil:
		return ifString(s.If)
	case s.For != nil:
		return fmt.Sprintf("(for %s %s %s)", strings.Join(s.For.Names, ","), exprString(s.For.Iter), blockString(s.For.Body))
	case s.While != nil:
		return fmt.Sprintf("(while %s %s)", exprString(s.While.Cond), blockString(s.While.Body))
	case s.Break != nil:
		return s.Break.Kind
	case s.Return != nil:
		if s.Return.Value == nil {
			return "return"
		}
		return "(return " + exprString(s.Return.Value) + ")"
	case s.Try != nil:
		return fmt.Sprintf("(try %s catch %s %s)", blockString(s.Try.Body), s.Try.ErrName, blockString(s.Try.Handler))
	case s.Block != nil:
		return blockString(s.Block)
	case s.Simple != nil:
		var ts []string
		for _, t := range s.Simple.Targets {
			ts = append(ts, exprString(t))
		}
		if s.Simple.Op == "" {
			return strings.Join(ts, " ")
		}
		return fmt.Sprintf("(%s %s %s)", s.Simple.Op, strings.Join(ts, ","), exprString(s.Simple.Value))
	}
	return "?"
}

func ifString(n *If) string {
	s := fmt.Sprintf("(if %s %s", exprString(n.Cond), blockString(n.Then))
	switch {
	case n.ElseIf != nil:
		s += " else " + ifString(n.ElseIf)
	case n.Else != nil:
		s += " else " + blockString(n.Else)
	}
	return s + ")"
}

func TestParseExprTrees(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		// Literals and names.
		{`42`, `42`},
		{`1_000`, `1_000`},
		{`2.5`, `2.5`},
		{`"a\tb"`, `"a\tb"`},
		{`true`, `true`},
		{`none`, `none`},
		{`x`, `x`},
		// or, and, not.
		{`a or b or c`, `(or a b c)`},
		{`a or b and c`, `(or a (and b c))`},
		{`a and b or c and d`, `(or (and a b) (and c d))`},
		{`not a and b`, `(and (not a) b)`},
		{`not not a`, `(not (not a))`},
		{`not a == b`, `(not (== a b))`},
		{`a and not b or c`, `(or (and a (not b)) c)`},
		// Comparisons.
		{`a == b`, `(== a b)`},
		{`a < b < c`, `(cmp a < b < c)`},
		{`a <= b != c`, `(cmp a <= b != c)`},
		{`x in xs`, `(in x xs)`},
		{`x not in xs`, `(not in x xs)`},
		{`not x in xs`, `(not (in x xs))`},
		{`a + 1 >= b * 2`, `(>= (+ a 1) (* b 2))`},
		// + - * / // %.
		{`a + b - c`, `(- (+ a b) c)`},
		{`a - b * c`, `(- a (* b c))`},
		{`a * b / c // d % e`, `(% (// (/ (* a b) c) d) e)`},
		{`(a + b) * c`, `(* (+ a b) c)`},
		// Unary and power.
		{`-a`, `(- a)`},
		{`-a * b`, `(* (- a) b)`},
		{`- -a`, `(- (- a))`},
		{`+a`, `(+ a)`},
		{`-2 ** 2`, `(- (** 2 2))`},
		{`2 ** 3 ** 2`, `(** 2 (** 3 2))`},
		{`2 ** -1`, `(** 2 (- 1))`},
		{`a * b ** c`, `(* a (** b c))`},
		{`f(x) ** 2`, `(** (call f x) 2)`},
		// Conditional expressions.
		{`a if c else b`, `(if c a b)`},
		{`a if c else b if d else e`, `(if c a (if d b e))`},
		{`a or b if c or d else e`, `(if (or c d) (or a b) e)`},
		// Postfix: calls, indexing, slicing, fields.
		{`f()`, `(call f)`},
		{`f(1, key="v", n=a + 1,)`, `(call f 1 key="v" n=(+ a 1))`},
		{`a.b.c(d)`, `(call (. (. a b) c) d)`},
		{`xs[0][1]`, `(index (index xs 0) 1)`},
		{`a[i:j]`, `(slice a i j _)`},
		{`a[:j]`, `(slice a _ j _)`},
		{`a[i:]`, `(slice a i _ _)`},
		{`a[:]`, `(slice a _ _ _)`},
		{`a[::2]`, `(slice a _ _ 2)`},
		{`a[1:-1:2]`, `(slice a 1 (- 1) 2)`},
		{`m["k"].f`, `(. (index m "k") f)`},
		// Lists, comprehensions, maps.
		{`[]`, `[]`},
		{`[1]`, `[1]`},
		{`[1, "a", [2],]`, `[1 "a" [2]]`},
		{`[f(x) for x in xs]`, `(comp (call f x) (for x in xs))`},
		{`[x for x in xs if x > 0]`, `(comp x (for x in xs (if (> x 0))))`},
		{`[x for x in xs if a if b]`, `(comp x (for x in xs (if a) (if b)))`},
		{`[x * y for x in xs for y in ys if x != y]`, `(comp (* x y) (for x in xs) (for y in ys (if (!= x y))))`},
		{`[i + v for i, v in enumerate(xs)]`, `(comp (+ i v) (for i,v in (call enumerate xs)))`},
		{`[a if c else b for c in cs]`, `(comp (if c a b) (for c in cs))`},
		{`{}`, `{}`},
		{`{"k": 1, "j": [2, 3],}`, `{"k": 1, "j": [2 3]}`},
		{"{\n  \"a\": 1,\n  \"b\": 2\n}", `{"a": 1, "b": 2}`},
		{"f(1,\n  2)", `(call f 1 2)`},
	} {
		e, err := ParseExpr("t", test.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", test.src, err)
			continue
		}
		if got := exprString(e); got != test.want {
			t.Errorf("ParseExpr(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
	}
}

func TestParseDecls(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{`const LIMIT = 100`, `(const LIMIT 100)`},
		{`fn f() {}`, `(fn f () {})`},
		{"fn clamp(x, lo, hi) {\n  if x < lo { return lo }\n  return x\n}",
			`(fn clamp (x lo hi) {(if (< x lo) {(return lo)}); (return x)})`},
		{"@resources(cpu=1, memory=\"256MB\")\n@retries(2)\ntask square(x: int) -> int {\n  return x * x\n}",
			`@resources(cpu=1 memory="256MB") @retries(2) (task square (x:int) ->int {(return (* x x))})`},
		{"@nondeterministic task t() {}", `@nondeterministic (task t () {})`},
		{"@hint(gang, size=4)\n\npipeline main(n: int = 10, s = \"x\",) { print(n) }",
			`@hint(gang size=4) (pipeline main (n:int=10 s="x") {(call print n)})`},
		{"fn f() -> none { return }", `(fn f () ->none {return})`},
		{"@restarts(3)\nactor Counter(start: int = 0) {\n  let count = start\n  method inc(by: int = 1) -> int {\n    count += by\n    return count\n  }\n  method value() -> int { return count }\n}",
			`@restarts(3) (actor Counter (start:int=0) (let count start) (method inc (by:int=1) ->int {(+= count by); (return count)}) (method value () ->int {(return count)}))`},
		{"actor A() {}", `(actor A () )`},
		{"fn f() {\n  let x = 1; let a, b = pair\n  x = x + 1; x += 1; x -= 1; x *= 2; x /= 2; x //= 2; x %= 2\n  a, b = [b, a]\n  xs[i] = 1\n  o.f = 2\n}",
			`(fn f () {(let x 1); (let a,b pair); (= x (+ x 1)); (+= x 1); (-= x 1); (*= x 2); (/= x 2); (//= x 2); (%= x 2); (= a,b [b a]); (= (index xs i) 1); (= (. o f) 2)})`},
		{"fn f() {\n  if a { x() } else if b { y() } else { z() }\n}",
			`(fn f () {(if a {(call x)} else (if b {(call y)} else {(call z)}))})`},
		{"fn f() {\n  if a {\n    x()\n  }\n  else {\n    y()\n  }\n}",
			`(fn f () {(if a {(call x)} else {(call y)})})`},
		{"fn f() {\n  for x in xs { continue }\n  for i, x in enumerate(xs) { break }\n  while n > 0 { n -= 1 }\n}",
			`(fn f () {(for x xs {continue}); (for i,x (call enumerate xs) {break}); (while (> n 0) {(-= n 1)})})`},
		{"fn f() {\n  try { risky() } catch err { print(err.message) }\n  try {\n    a()\n  }\n  catch {\n  }\n}",
			`(fn f () {(try {(call risky)} catch err {(call print (. err message))}); (try {(call a)} catch  {})})`},
		{"fn f() {\n  { let x = 1 }\n  fail(\"m\")\n}", `(fn f () {{(let x 1)}; (call fail "m")})`},
		{"fn f() {\n  xs\n    .append(1)\n}", `(fn f () {(call (. xs append) 1)})`},
		{"fn f() { return {\"a\": 1} }", `(fn f () {(return {"a": 1})})`},
		{"fn f() { if x in {\"a\": 1} { g() } }", `(fn f () {(if (in x {"a": 1}) {(call g)})})`},
		{"# comment\n\nconst A = 1 # trailing\nconst B = -A", `(const A 1)|(const B (- A))`},
	} {
		f, err := Parse("t.rayflow", test.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", test.src, err)
			continue
		}
		var decls []string
		for _, d := range f.Decls {
			decls = append(decls, declString(d))
		}
		if got := strings.Join(decls, "|"); got != test.want {
			t.Errorf("Parse(%q)\n got  %s\n want %s", test.src, got, test.want)
		}
	}
}

func TestPositions(t *testing.T) {
	src := "pipeline main() {\n    let x = a + f(b)[1]\n}\n"
	f, err := Parse("p.rayflow", src)
	if err != nil {
		t.Fatal(err)
	}
	fn := f.Decls[0].Func
	let := fn.Body.Stmts[0].Let
	sum := let.Value.Body.Terms[0].Terms[0].Cmp.Left
	post := sum.Rests[0].Right.Left.Power.Base
	for _, c := range []struct {
		what      string
		pos       Position
		line, col int
	}{
		{"func", fn.Pos, 1, 1},
		{"block", fn.Body.Pos, 1, 17},
		{"block end", fn.Body.EndPos, 3, 1},
		{"let", let.Pos, 2, 5},
		{"value", let.Value.Pos, 2, 13},
		{"'+'", sum.Rests[0].Pos, 2, 15},
		{"call", post.Suffixes[0].Pos, 2, 18},
		{"index", post.Suffixes[1].Pos, 2, 21},
	} {
		if c.pos.Line != c.line || c.pos.Column != c.col || c.pos.Filename != "p.rayflow" {
			t.Errorf("%s at %s:%d:%d, want %d:%d", c.what, c.pos.Filename, c.pos.Line, c.pos.Column, c.line, c.col)
		}
	}
	if f.Name != "p.rayflow" || f.Source != src {
		t.Errorf("File.Name = %q, Source set: %v", f.Name, f.Source == src)
	}
}

// genProgram makes a program of about lines lines that uses every construct.
func genProgram(lines int) string {
	var b strings.Builder
	b.WriteString("const LIMIT = 100\n\n")
	for i, n := 0, 2; n < lines; i++ {
		fmt.Fprintf(&b, `@resources(cpu=1, memory="256MB")
@retries(2)
task work%d(x: int, y: float = 1.5) -> int {
    let total = 0
    let a, b = [x, y]
    for i in range(x) {
        if i %% 2 == 0 and not (i > 10 or i in [1, 2, 3]) {
            total += i * 2 - x // 3 + -a ** 2
        } else if i < 5 {
            total -= 1
        } else {
            continue
        }
    }
    let m = {"k": [v * 2 for v in range(10) if v %% 3 != 0], "j": a if b else none}
    try {
        fail("bad\tthing")
    } catch err {
        print(err.message, xs[1:3], xs[::2], m.keys())
    }
    while total > LIMIT { total = total / 2 }
    return total
}

actor Acc%d(start: int = 0) {
    let count = start
    method add(by: int = 1) -> int {
        count += by
        return count
    }
}

`, i, i)
		n += 32
	}
	b.WriteString("pipeline main(n: int = 10) {\n    let futs = [work0(i) for i in range(n)]\n    print(sum(get(futs)))\n}\n")
	return b.String()
}

func BenchmarkParse(b *testing.B) {
	src := genProgram(2000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.rayflow", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLex(b *testing.B) {
	src := genProgram(2000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Lex("bench.rayflow", src); err != nil {
			b.Fatal(err)
		}
	}
}
