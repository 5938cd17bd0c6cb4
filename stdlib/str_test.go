package stdlib

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestStr(t *testing.T) {
	s := StrModule()
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"join", []any{S(", "), L(S("a"), S("b"))}, `"a, b"`},
		{"join", []any{S("-"), L()}, `""`},
		{"split", []any{S("a,b,,c"), S(",")}, `["a", "b", "", "c"]`},
		{"split", []any{S("  a b\t c  ")}, `["a", "b", "c"]`},
		{"split", []any{S("a b c"), kw("maxsplit", I(1))}, `["a", "b c"]`},
		{"split", []any{S("a,b,c"), S(","), I(1)}, `["a", "b,c"]`},
		{"split", []any{S("")}, `[]`},
		{"splitlines", []any{S("a\nb\r\nc\n")}, `["a", "b", "c"]`},
		{"repeat", []any{S("ab"), I(3)}, `"ababab"`},
		{"repeat", []any{S("ab"), I(-1)}, `""`},
		{"upper", []any{S("abc")}, `"ABC"`},
		{"lower", []any{S("ÀB")}, `"àb"`},
		{"title", []any{S("hello world")}, `"Hello World"`},
		{"strip", []any{S("  x \n")}, `"x"`},
		{"strip", []any{S("xxhixx"), S("x")}, `"hi"`},
		{"lstrip", []any{S("  x ")}, `"x "`},
		{"rstrip", []any{S("  x ")}, `"  x"`},
		{"replace", []any{S("aaa"), S("a"), S("b")}, `"bbb"`},
		{"replace", []any{S("aaa"), S("a"), S("b"), I(2)}, `"bba"`},
		{"startswith", []any{S("hello"), S("he")}, `true`},
		{"startswith", []any{S("hello"), L(S("x"), S("h"))}, `true`},
		{"endswith", []any{S("hello"), S("he")}, `false`},
		{"find", []any{S("héllo"), S("l")}, `2`},
		{"find", []any{S("hello"), S("z")}, `-1`},
		{"rfind", []any{S("hello"), S("l")}, `3`},
		{"count", []any{S("banana"), S("an")}, `2`},
		{"chars", []any{S("hé")}, `["h", "é"]`},
		{"ord", []any{S("é")}, `233`},
		{"chr", []any{I(65)}, `"A"`},
		{"pad_left", []any{S("7"), I(3), S("0")}, `"007"`},
		{"pad_right", []any{S("ab"), I(4)}, `"ab  "`},
		{"pad_left", []any{S("abcd"), I(2)}, `"abcd"`},
		{"isdigit", []any{S("123")}, `true`},
		{"format", []any{S("{} + {} = {}"), I(1), F(2), S("x")}, `"1 + 2.0 = x"`},
		{"format", []any{S("{1}{0}{1}"), S("a"), S("b")}, `"bab"`},
		{"format", []any{S("{name}!"), kw("name", S("bob"))}, `"bob!"`},
		{"format", []any{S("{{}} {}"), L(S("a"), I(1))}, `"{} [\"a\", 1]"`},
		{"format", []any{S("{!r}"), S("a")}, `"\"a\""`},
		{"format", []any{S("{:.2f}"), F(3.14159)}, `"3.14"`},
		{"format", []any{S("{:8.3f}|"), F(-3.14159)}, `"  -3.142|"`},
		{"format", []any{S("{:<6}|{:>6}|{:^6}|"), S("ab"), I(42), S("c")}, `"ab    |    42|  c   |"`},
		{"format", []any{S("{:05d}"), I(-42)}, `"-0042"`},
		{"format", []any{S("{:+d} {:x} {:b}"), I(5), I(255), I(5)}, `"+5 ff 101"`},
		{"format", []any{S("{:,}"), I(1234567)}, `"1,234,567"`},
		{"format", []any{S("{:.1%}"), F(0.256)}, `"25.6%"`},
		{"format", []any{S("{:e}"), F(12345.678)}, `"1.234568e+04"`},
		{"format", []any{S("{:g} {:g} {:g}"), F(0.0001), F(1e-5), F(123456789)}, `"0.0001 1e-05 1.23457e+08"`},
		{"format", []any{S("{:*^7}"), S("x")}, `"***x***"`},
		{"format", []any{S("{:.3}"), S("abcdef")}, `"abc"`},
		{"format", []any{S("{:.3}"), F(3.14159)}, `"3.14"`},
	}
	for _, tt := range tests {
		got, err := call(t, s, tt.name, tt.args...)
		if err != nil {
			t.Errorf("str.%s%v: %v", tt.name, tt.args, err)
			continue
		}
		if got.Repr() != tt.want {
			t.Errorf("str.%s%v = %s, want %s", tt.name, tt.args, got.Repr(), tt.want)
		}
	}
	errs := []struct {
		name string
		args []any
		kind string
		msg  string
	}{
		{"join", []any{S(","), L(S("a"), I(1))}, exec.KindType, "element 1 of the list is int"},
		{"split", []any{S("a"), S("")}, exec.KindValue, "empty separator"},
		{"repeat", []any{S("ab"), I(1 << 40)}, exec.KindValue, "longer than"},
		{"ord", []any{S("ab")}, exec.KindValue, "one character"},
		{"chr", []any{I(-1)}, exec.KindValue, "not a Unicode code point"},
		{"format", []any{S("{} {}"), I(1)}, exec.KindIndex, "more {} fields"},
		{"format", []any{S("{0} {}"), I(1), I(2)}, exec.KindValue, "manual field numbering"},
		{"format", []any{S("{:d}"), S("x")}, exec.KindType, "needs an int"},
		{"format", []any{S("{:q}"), I(1)}, exec.KindValue, "invalid format spec"},
		{"format", []any{S("{")}, exec.KindValue, "not closed"},
		{"format", []any{S("}")}, exec.KindValue, "single '}'"},
		{"format", []any{S("{x}")}, exec.KindKey, "no keyword argument"},
		{"pad_left", []any{S("a"), I(3), S("ab")}, exec.KindValue, "one character"},
	}
	for _, tt := range errs {
		_, err := call(t, s, tt.name, tt.args...)
		wantErr(t, err, tt.kind, tt.msg)
	}
}
