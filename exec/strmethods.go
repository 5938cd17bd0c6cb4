package exec

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The string methods, with the arguments of their Python namesakes:
// positions (start, end) count characters and follow Python's slice
// rules. The str module's functions of the same names call these with
// the string as first argument (StringMethod), so `s.find(x, 1)` and
// `str.find(s, x, 1)` are one implementation.

// MaxStringLen bounds the strings replace builds (256 MiB); the str
// module's functions keep to the same bound (stdlib.MaxStringLen).
const MaxStringLen = 1 << 28

var stringMethods = map[string]methodFunc{
	"split":      strSplit,
	"join":       strJoin,
	"strip":      stripper(func(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }, strings.Trim),
	"lstrip":     stripper(func(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }, strings.TrimLeft),
	"rstrip":     stripper(func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }, strings.TrimRight),
	"upper":      strFunc(strings.ToUpper),
	"lower":      strFunc(strings.ToLower),
	"replace":    strReplace,
	"startswith": strAffix(false),
	"endswith":   strAffix(true),
	"find":       strFind(false, false),
	"rfind":      strFind(true, false),
	"index":      strFind(false, true),
	"rindex":     strFind(true, true),
	"count":      strCount,
	"format": func(th *Thread, recv Value, a *Args) (Value, error) {
		s, err := StringFormat(recv.AsString(), a.Pos, a.Kw)
		return Str(s), err
	},
}

// StringMethod returns the string method name as a built-in whose first
// argument is the string (`str.find(s, sub)` for `s.find(sub)`), or nil
// when strings have no such method. fn names the built-in in messages.
func StringMethod(name, fn string) BuiltinFunc {
	m, ok := stringMethods[name]
	if !ok {
		return nil
	}
	return func(th *Thread, a *Args) (Value, error) {
		if len(a.Pos) == 0 {
			return None, Errorf(KindType, "%s() missing argument 's'", fn)
		}
		recv := a.Pos[0]
		if recv.kind == FutureKind {
			return None, futureAsValue(recv)
		}
		if recv.kind != StringKind {
			return None, Errorf(KindType, "%s() argument 's' must be a string, not %s", fn, recv.TypeName())
		}
		return m(th, recv, &Args{Fn: fn, Pos: a.Pos[1:], Kw: a.Kw})
	}
}

func strSplit(th *Thread, recv Value, a *Args) (Value, error) {
	var sep Value
	maxsplit := -1
	if err := a.Unpack("sep?", &sep, "maxsplit?", &maxsplit); err != nil {
		return None, err
	}
	if sep.IsNone() {
		return strList(splitWhitespace(recv.AsString(), maxsplit)), nil
	}
	if sep.kind != StringKind {
		return None, Errorf(KindType, "%s() separator must be a string or none, not %s", a.Fn, sep.TypeName())
	}
	if sep.AsString() == "" {
		return None, Errorf(KindValue, "%s(): empty separator", a.Fn)
	}
	n := -1
	if maxsplit >= 0 {
		n = maxsplit + 1
	}
	return strList(strings.SplitN(recv.AsString(), sep.AsString(), n)), nil
}

// splitWhitespace is Python's str.split() without a separator: runs of
// whitespace separate, leading and trailing whitespace give no parts,
// and after maxsplit splits (when >= 0) the rest is one part, trailing
// whitespace included.
func splitWhitespace(s string, maxsplit int) []string {
	out := []string{}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		if maxsplit >= 0 && len(out) == maxsplit {
			return append(out, s[i:]) // Python keeps the rest's trailing whitespace
		}
		j := strings.IndexFunc(s[i:], unicode.IsSpace)
		if j < 0 {
			j = len(s) - i
		}
		out = append(out, s[i:i+j])
		i += j
	}
	return out
}

func strJoin(th *Thread, recv Value, a *Args) (Value, error) {
	var xs Value
	if err := a.Unpack("items", &xs); err != nil {
		return None, err
	}
	elems, err := iterable(xs, a.Fn)
	if err != nil {
		return None, err
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		if e.kind != StringKind {
			return None, Errorf(KindType, "join() needs a list of strings; element %d is %s", i, e.TypeName())
		}
		parts[i] = e.AsString()
	}
	return Str(strings.Join(parts, recv.AsString())), nil
}

func strReplace(th *Thread, recv Value, a *Args) (Value, error) {
	var old, repl string
	count := -1
	if err := a.Unpack("old", &old, "new", &repl, "count?", &count); err != nil {
		return None, err
	}
	s := recv.AsString()
	n := strings.Count(s, old)
	if count >= 0 && count < n {
		n = count
	}
	if len(s)+n*(len(repl)-len(old)) > MaxStringLen {
		return None, Errorf(KindValue, "%s() result longer than %d bytes", a.Fn, MaxStringLen)
	}
	return Str(strings.Replace(s, old, repl, count)), nil
}

// span reads the optional start and end arguments of find, count,
// startswith and friends as Python does (negative counts from the end,
// none means the default) and returns the string as runes with the
// bounds clamped like CPython's ADJUST_INDICES: end to [0, len], start
// to >= 0 (a start past the end stays past it).
func span(recv Value, a *Args, start, end Value) (runes []rune, s, e int, err error) {
	runes = []rune(recv.AsString())
	n := len(runes)
	s, e = 0, n
	for _, b := range []struct {
		v    Value
		name string
		dst  *int
	}{{start, "start", &s}, {end, "end", &e}} {
		if b.v.IsNone() {
			continue
		}
		if b.v.kind != IntKind {
			return nil, 0, 0, Errorf(KindType, "%s() argument '%s' must be an int or none, not %s", a.Fn, b.name, b.v.TypeName())
		}
		*b.dst = int(max(min(b.v.AsInt(), int64(n)+1), -int64(n)-1))
	}
	if e > n {
		e = n
	} else if e < 0 {
		e = max(e+n, 0)
	}
	if s < 0 {
		s = max(s+n, 0)
	}
	return runes, s, e, nil
}

// subSpan unpacks the (sub, start?, end?) arguments that find, index
// and count share and returns sub with the receiver's span (see span).
func subSpan(recv Value, a *Args) (sub string, runes []rune, s, e int, err error) {
	var start, end Value
	if err = a.Unpack("sub", &sub, "start?", &start, "end?", &end); err != nil {
		return "", nil, 0, 0, err
	}
	runes, s, e, err = span(recv, a, start, end)
	return sub, runes, s, e, err
}

// strFind is find/rfind (-1 when absent) and index/rindex (a value
// error when absent): the first (last) position of sub in s[start:end].
func strFind(last, raise bool) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		sub, runes, s, e, err := subSpan(recv, a)
		if err != nil {
			return None, err
		}
		at := -1
		if e-s >= utf8.RuneCountInString(sub) {
			part := string(runes[s:e])
			var i int
			if last {
				i = strings.LastIndex(part, sub)
			} else {
				i = strings.Index(part, sub)
			}
			if i >= 0 {
				at = s + utf8.RuneCountInString(part[:i])
			}
		}
		if at < 0 && raise {
			return None, Errorf(KindValue, "substring %s not found", Str(sub).Repr())
		}
		return Int(int64(at)), nil
	}
}

func strCount(th *Thread, recv Value, a *Args) (Value, error) {
	sub, runes, s, e, err := subSpan(recv, a)
	if err != nil {
		return None, err
	}
	if e-s < utf8.RuneCountInString(sub) {
		return Int(0), nil
	}
	if sub == "" {
		return Int(int64(e - s + 1)), nil
	}
	return Int(int64(strings.Count(string(runes[s:e]), sub))), nil
}

// strAffix is startswith (suffix false) and endswith: the affix is a
// string or a list of strings (Python's tuple), any of which may match
// within s[start:end].
func strAffix(suffix bool) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		var affix, start, end Value
		param := "prefix"
		if suffix {
			param = "suffix"
		}
		if err := a.Unpack(param, &affix, "start?", &start, "end?", &end); err != nil {
			return None, err
		}
		var candidates []Value
		switch affix.kind {
		case StringKind:
			candidates = []Value{affix}
		case ListKind:
			candidates = affix.AsList().Elems
		default:
			return None, Errorf(KindType, "%s() argument '%s' must be a string or a list of strings, not %s", a.Fn, param, affix.TypeName())
		}
		runes, s, e, err := span(recv, a, start, end)
		if err != nil {
			return None, err
		}
		for i, c := range candidates {
			if c.kind != StringKind {
				return None, Errorf(KindType, "%s() needs a list of strings; element %d is %s", a.Fn, i, c.TypeName())
			}
			if tailMatch(runes, s, e, c.AsString(), suffix) {
				return True, nil
			}
		}
		return False, nil
	}
}

// tailMatch reports whether runes[s:e] starts (or ends) with affix, as
// CPython's tailmatch: false when the span is shorter than the affix.
func tailMatch(runes []rune, s, e int, affix string, suffix bool) bool {
	if e-utf8.RuneCountInString(affix) < s {
		return false
	}
	part := string(runes[s:e])
	if suffix {
		return strings.HasSuffix(part, affix)
	}
	return strings.HasPrefix(part, affix)
}

func strList(parts []string) Value {
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = Str(p)
	}
	return ListOf(out)
}

func strFunc(f func(string) string) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		if err := a.Unpack(); err != nil {
			return None, err
		}
		return Str(f(recv.AsString())), nil
	}
}

func stripper(noArg func(string) string, withChars func(string, string) string) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		var chars Value
		if err := a.Unpack("chars?", &chars); err != nil {
			return None, err
		}
		if chars.IsNone() {
			return Str(noArg(recv.AsString())), nil
		}
		if chars.kind != StringKind {
			return None, Errorf(KindType, "%s() chars must be a string or none, not %s", a.Fn, chars.TypeName())
		}
		return Str(withChars(recv.AsString(), chars.AsString())), nil
	}
}
