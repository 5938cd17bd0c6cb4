package exec

import (
	"strings"
	"testing"
)

// The string methods agree with CPython's on the edge cases of start,
// end, empty substrings and maxsplit (expectations taken from CPython 3).
func TestStringMethodsMatchPython(t *testing.T) {
	for _, c := range []struct {
		s, method string
		args      []Value
		want      string
	}{
		{"abcabc", "find", []Value{Str("c")}, `2`},
		{"abcabc", "find", []Value{Str("c"), Int(3)}, `5`},
		{"abcabc", "find", []Value{Str("c"), Int(-1)}, `5`},
		{"abcabc", "find", []Value{Str("c"), Int(0), Int(2)}, `-1`},
		{"abc", "find", []Value{Str(""), Int(3)}, `3`},
		{"abc", "find", []Value{Str(""), Int(4)}, `-1`},
		{"abc", "find", []Value{Str(""), Int(1), Int(0)}, `-1`},
		{"abc", "rfind", []Value{Str("")}, `3`},
		{"abc", "rfind", []Value{Str(""), Int(0), Int(2)}, `2`},
		{"aéb", "find", []Value{Str("b")}, `2`},
		{"aéb", "rfind", []Value{Str("é"), Int(-5)}, `1`},
		{"banana", "count", []Value{Str("a"), Int(-3)}, `2`},
		{"banana", "count", []Value{Str(""), Int(2), Int(4)}, `3`},
		{"banana", "count", []Value{Str("ana")}, `1`},
		{"hello", "startswith", []Value{Str(""), Int(5)}, `true`},
		{"hello", "startswith", []Value{Str(""), Int(6)}, `false`},
		{"hello", "endswith", []Value{Str("o"), Int(-1)}, `true`},
		{"hello", "endswith", []Value{Str("l"), None, Int(-1)}, `true`},
		{"hello", "startswith", []Value{Str("lo"), Int(3), Int(100)}, `true`},
		{"hello", "endswith", []Value{Str(""), Int(3), Int(2)}, `false`},
		{" a b  c ", "split", []Value{}, `["a", "b", "c"]`},
		{" a b  c ", "split", []Value{None, Int(2)}, `["a", "b", "c "]`},
		{"a,b,c", "split", []Value{Str(","), Int(0)}, `["a,b,c"]`},
		{"a,,b", "split", []Value{Str(",")}, `["a", "", "b"]`},
		{"xyx", "replace", []Value{Str("x"), Str("z"), Int(1)}, `"zyx"`},
		{"xyx", "replace", []Value{Str("x"), Str("z"), Int(-1)}, `"zyz"`},
		{"aaa", "index", []Value{Str("a"), Int(1)}, `1`},
		{"aaa", "rindex", []Value{Str("a"), Int(0), Int(2)}, `1`},
	} {
		got, err := builtinMethod(nil, Str(c.s), c.method, c.args, nil)
		if err != nil {
			t.Errorf("%q.%s(%v): %v", c.s, c.method, c.args, err)
			continue
		}
		if got.Repr() != c.want {
			t.Errorf("%q.%s(%v) = %s, want %s", c.s, c.method, c.args, got.Repr(), c.want)
		}
	}
}

// A keyword argument a method or built-in does not take is an error that
// names it.
func TestUnknownKeywordIsAnError(t *testing.T) {
	kw := []Kwarg{{Name: "bogus", Value: Int(1)}}
	for _, call := range []func() error{
		func() error { _, err := builtinMethod(nil, Str("a b"), "split", nil, kw); return err },
		func() error { _, err := builtinMethod(nil, ListOf(nil), "copy", nil, kw); return err },
		func() error { _, err := builtinTable["min"].Call(nil, []Value{Int(1), Int(2)}, kw); return err },
		func() error { _, err := builtinTable["zip"].Call(nil, nil, kw); return err },
		func() error { _, err := builtinTable["range"].Call(nil, []Value{Int(3)}, kw); return err },
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "'bogus'") {
			t.Errorf("got %v, want an error naming 'bogus'", err)
		}
	}
}
