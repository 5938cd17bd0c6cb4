package exec

import (
	"strings"
)

// builtinMethod calls a method of a string, a list or a map.
func builtinMethod(th *Thread, recv Value, name string, args []Value, kw []Kwarg) (Value, error) {
	var table map[string]methodFunc
	switch recv.kind {
	case StringKind:
		table = stringMethods
	case ListKind:
		table = listMethods
	case MapKind:
		table = mapMethods
	}
	m, ok := table[name]
	if !ok {
		return None, Errorf(KindName, "%s has no method '%s'", recv.TypeName(), name)
	}
	return m(th, recv, &Args{Fn: recv.TypeName() + "." + name, Pos: args, Kw: kw})
}

type methodFunc func(th *Thread, recv Value, a *Args) (Value, error)

var stringMethods = map[string]methodFunc{
	"split": func(th *Thread, recv Value, a *Args) (Value, error) {
		var sep Value
		if err := a.Unpack("sep?", &sep); err != nil {
			return None, err
		}
		var parts []string
		if sep.IsNone() {
			parts = strings.Fields(recv.AsString())
		} else {
			if sep.kind != StringKind || sep.AsString() == "" {
				return None, Errorf(KindValue, "split() separator must be a non-empty string")
			}
			parts = strings.Split(recv.AsString(), sep.AsString())
		}
		return strList(parts), nil
	},
	"join": func(th *Thread, recv Value, a *Args) (Value, error) {
		var xs *List
		if err := a.Unpack("items", &xs); err != nil {
			return None, err
		}
		parts := make([]string, len(xs.Elems))
		for i, e := range xs.Elems {
			if e.kind != StringKind {
				return None, Errorf(KindType, "join() needs a list of strings; element %d is %s", i, e.TypeName())
			}
			parts[i] = e.AsString()
		}
		return Str(strings.Join(parts, recv.AsString())), nil
	},
	"strip":  stripper(strings.TrimSpace, strings.Trim),
	"lstrip": stripper(func(s string) string { return strings.TrimLeft(s, " \t\r\n") }, strings.TrimLeft),
	"rstrip": stripper(func(s string) string { return strings.TrimRight(s, " \t\r\n") }, strings.TrimRight),
	"upper":  strFunc(strings.ToUpper),
	"lower":  strFunc(strings.ToLower),
	"replace": func(th *Thread, recv Value, a *Args) (Value, error) {
		var old, repl string
		if err := a.Unpack("old", &old, "new", &repl); err != nil {
			return None, err
		}
		return Str(strings.ReplaceAll(recv.AsString(), old, repl)), nil
	},
	"startswith": strPred(strings.HasPrefix),
	"endswith":   strPred(strings.HasSuffix),
	"find": func(th *Thread, recv Value, a *Args) (Value, error) {
		var sub string
		if err := a.Unpack("sub", &sub); err != nil {
			return None, err
		}
		i := strings.Index(recv.AsString(), sub)
		if i > 0 {
			i = len([]rune(recv.AsString()[:i]))
		}
		return Int(int64(i)), nil
	},
	"count": func(th *Thread, recv Value, a *Args) (Value, error) {
		var sub string
		if err := a.Unpack("sub", &sub); err != nil {
			return None, err
		}
		return Int(int64(strings.Count(recv.AsString(), sub))), nil
	},
	"format": func(th *Thread, recv Value, a *Args) (Value, error) {
		s, err := StringFormat(recv.AsString(), a.Pos, a.Kw)
		return Str(s), err
	},
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

func strPred(f func(string, string) bool) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		var s string
		if err := a.Unpack("prefix", &s); err != nil {
			return None, err
		}
		return Bool(f(recv.AsString(), s)), nil
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
			return None, Errorf(KindType, "%s() chars must be a string", a.Fn)
		}
		return Str(withChars(recv.AsString(), chars.AsString())), nil
	}
}

// StringFormat implements "...".format(...). The str module installs its
// full implementation of Python's format mini-language (exec cannot
// import stdlib); Format is the fallback.
var StringFormat = Format

// Format fills `{}`, `{0}` and `{name}` placeholders with values' String
// forms; `{:.2f}`-style specs format numbers as Python does for the
// common cases. `{{` and `}}` are literal braces.
func Format(format string, args []Value, kw []Kwarg) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '}' {
			if i+1 < len(format) && format[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(format[i:], '}')
		if end < 0 {
			return "", Errorf(KindValue, "format string has an unclosed '{'")
		}
		field := format[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		v, err := formatArg(name, &next, args, kw)
		if err != nil {
			return "", err
		}
		s, err := formatSpec(v, spec)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatArg(name string, next *int, args []Value, kw []Kwarg) (Value, error) {
	if name == "" {
		if *next >= len(args) {
			return None, Errorf(KindIndex, "format string needs more than %d argument%s", len(args), plural(len(args)))
		}
		*next++
		return args[*next-1], nil
	}
	if n, err := parseSmallInt(name); err == nil {
		if n >= len(args) {
			return None, Errorf(KindIndex, "format placeholder {%d} but only %d argument%s", n, len(args), plural(len(args)))
		}
		return args[n], nil
	}
	for _, k := range kw {
		if k.Name == name {
			return k.Value, nil
		}
	}
	return None, Errorf(KindKey, "format placeholder {%s} has no argument", name)
}

func parseSmallInt(s string) (int, error) {
	n := 0
	if s == "" {
		return 0, Errorf(KindValue, "empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, Errorf(KindValue, "not a number")
		}
		n = n*10 + int(r-'0')
		if n > 1<<20 {
			return 0, Errorf(KindValue, "too large")
		}
	}
	return n, nil
}

var listMethods = map[string]methodFunc{
	"append": func(th *Thread, recv Value, a *Args) (Value, error) {
		var v Value
		if err := a.Unpack("x", &v); err != nil {
			return None, err
		}
		l := recv.AsList()
		l.Elems = append(l.Elems, v)
		return None, nil
	},
	"extend": func(th *Thread, recv Value, a *Args) (Value, error) {
		var v Value
		if err := a.Unpack("xs", &v); err != nil {
			return None, err
		}
		elems, err := iterable(v, "extend")
		if err != nil {
			return None, err
		}
		l := recv.AsList()
		l.Elems = append(l.Elems, elems...)
		return None, nil
	},
	"insert": func(th *Thread, recv Value, a *Args) (Value, error) {
		var i int64
		var v Value
		if err := a.Unpack("i", &i, "x", &v); err != nil {
			return None, err
		}
		l := recv.AsList()
		n := int64(len(l.Elems))
		if i < 0 {
			i += n
		}
		i = min(max(i, 0), n)
		l.Elems = append(l.Elems, None)
		copy(l.Elems[i+1:], l.Elems[i:])
		l.Elems[i] = v
		return None, nil
	},
	"pop": func(th *Thread, recv Value, a *Args) (Value, error) {
		i := int64(-1)
		if err := a.Unpack("i?", &i); err != nil {
			return None, err
		}
		l := recv.AsList()
		if len(l.Elems) == 0 {
			return None, Errorf(KindIndex, "pop from an empty list")
		}
		j, err := listIndex(Int(i), len(l.Elems), "list")
		if err != nil {
			return None, err
		}
		v := l.Elems[j]
		l.Elems = append(l.Elems[:j], l.Elems[j+1:]...)
		return v, nil
	},
	"index": func(th *Thread, recv Value, a *Args) (Value, error) {
		var v Value
		if err := a.Unpack("x", &v); err != nil {
			return None, err
		}
		for i, e := range recv.AsList().Elems {
			if Equal(e, v) {
				return Int(int64(i)), nil
			}
		}
		return None, Errorf(KindValue, "%s is not in the list", v.Repr())
	},
	"remove": func(th *Thread, recv Value, a *Args) (Value, error) {
		var v Value
		if err := a.Unpack("x", &v); err != nil {
			return None, err
		}
		l := recv.AsList()
		for i, e := range l.Elems {
			if Equal(e, v) {
				l.Elems = append(l.Elems[:i], l.Elems[i+1:]...)
				return None, nil
			}
		}
		return None, Errorf(KindValue, "%s is not in the list", v.Repr())
	},
	"count": func(th *Thread, recv Value, a *Args) (Value, error) {
		var v Value
		if err := a.Unpack("x", &v); err != nil {
			return None, err
		}
		n := 0
		for _, e := range recv.AsList().Elems {
			if Equal(e, v) {
				n++
			}
		}
		return Int(int64(n)), nil
	},
	"reverse": func(th *Thread, recv Value, a *Args) (Value, error) {
		e := recv.AsList().Elems
		for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
			e[i], e[j] = e[j], e[i]
		}
		return None, nil
	},
	"sort": func(th *Thread, recv Value, a *Args) (Value, error) {
		sorted, err := builtinSorted(th, &Args{Fn: "sort", Pos: []Value{recv}, Kw: a.Kw})
		if err != nil {
			return None, err
		}
		recv.AsList().Elems = sorted.AsList().Elems
		return None, nil
	},
	"copy": func(th *Thread, recv Value, a *Args) (Value, error) {
		return ListOf(append([]Value(nil), recv.AsList().Elems...)), nil
	},
	"clear": func(th *Thread, recv Value, a *Args) (Value, error) {
		recv.AsList().Elems = nil
		return None, nil
	},
}

var mapMethods = map[string]methodFunc{
	"get": func(th *Thread, recv Value, a *Args) (Value, error) {
		var k, def Value
		if err := a.Unpack("key", &k, "default?", &def); err != nil {
			return None, err
		}
		v, ok, err := recv.AsMap().Get(k)
		if err != nil || !ok {
			return def, err
		}
		return v, nil
	},
	"keys":   func(th *Thread, recv Value, a *Args) (Value, error) { return mapViewOf(recv.AsMap(), "keys"), nil },
	"values": func(th *Thread, recv Value, a *Args) (Value, error) { return mapViewOf(recv.AsMap(), "values"), nil },
	"items":  func(th *Thread, recv Value, a *Args) (Value, error) { return mapViewOf(recv.AsMap(), "items"), nil },
	"pop": func(th *Thread, recv Value, a *Args) (Value, error) {
		var k, def Value
		if err := a.Unpack("key", &k, "default?", &def); err != nil {
			return None, err
		}
		v, ok, err := recv.AsMap().Delete(k)
		if err != nil {
			return None, err
		}
		if !ok {
			if len(a.Pos) > 1 || len(a.Kw) > 0 {
				return def, nil
			}
			return None, Errorf(KindKey, "key %s not found in map", k.Repr())
		}
		return v, nil
	},
	"update": func(th *Thread, recv Value, a *Args) (Value, error) {
		var other *Map
		if err := a.Unpack("other", &other); err != nil {
			return None, err
		}
		for i, k := range other.keys {
			_ = recv.AsMap().Set(k, other.vals[i])
		}
		return None, nil
	},
	"setdefault": func(th *Thread, recv Value, a *Args) (Value, error) {
		var k, def Value
		if err := a.Unpack("key", &k, "default?", &def); err != nil {
			return None, err
		}
		v, ok, err := recv.AsMap().Get(k)
		if err != nil {
			return None, err
		}
		if ok {
			return v, nil
		}
		return def, recv.AsMap().Set(k, def)
	},
	"copy": func(th *Thread, recv Value, a *Args) (Value, error) {
		src := recv.AsMap()
		out := NewMap(src.Len())
		for i, k := range src.keys {
			_ = out.Set(k, src.vals[i])
		}
		return MapValue(out), nil
	},
}
