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
		var v, start, end Value
		if err := a.Unpack("x", &v, "start?", &start, "end?", &end); err != nil {
			return None, err
		}
		elems := recv.AsList().Elems
		s, e, err := sliceSpan(a, len(elems), start, end)
		if err != nil {
			return None, err
		}
		for i := s; i < e; i++ {
			if Equal(elems[i], v) {
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
		if err := a.Unpack(); err != nil {
			return None, err
		}
		e := recv.AsList().Elems
		for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
			e[i], e[j] = e[j], e[i]
		}
		return None, nil
	},
	"sort": func(th *Thread, recv Value, a *Args) (Value, error) {
		if len(a.Pos) > 0 {
			return None, Errorf(KindType, "%s() takes only keyword arguments (key=, reverse=), got %d positional", a.Fn, len(a.Pos))
		}
		sorted, err := builtinSorted(th, &Args{Fn: a.Fn, Pos: []Value{recv}, Kw: a.Kw})
		if err != nil {
			return None, err
		}
		recv.AsList().Elems = sorted.AsList().Elems
		return None, nil
	},
	"copy": func(th *Thread, recv Value, a *Args) (Value, error) {
		if err := a.Unpack(); err != nil {
			return None, err
		}
		return ListOf(append([]Value(nil), recv.AsList().Elems...)), nil
	},
	"clear": func(th *Thread, recv Value, a *Args) (Value, error) {
		if err := a.Unpack(); err != nil {
			return None, err
		}
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
	"keys":   mapViewMethod("keys"),
	"values": mapViewMethod("values"),
	"items":  mapViewMethod("items"),
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
		if err := a.Unpack(); err != nil {
			return None, err
		}
		src := recv.AsMap()
		out := NewMap(src.Len())
		for i, k := range src.keys {
			_ = out.Set(k, src.vals[i])
		}
		return MapValue(out), nil
	},
}

// sliceSpan reads optional start and end arguments as the bounds of
// xs[start:end] for a sequence of n elements, as Python's list.index:
// negative counts from the end, none is the default, both are clamped
// to [0, n].
func sliceSpan(a *Args, n int, start, end Value) (int, int, error) {
	bounds := [2]int{0, n}
	for i, v := range []Value{start, end} {
		if v.IsNone() {
			continue
		}
		if v.kind != IntKind {
			return 0, 0, Errorf(KindType, "%s() argument '%s' must be an int or none, not %s", a.Fn, []string{"start", "end"}[i], v.TypeName())
		}
		b := max(min(v.AsInt(), int64(n)), -int64(n))
		if b < 0 {
			b += int64(n)
		}
		bounds[i] = int(b)
	}
	return bounds[0], max(bounds[1], bounds[0]), nil
}

// mapViewMethod is m.keys(), m.values() or m.items().
func mapViewMethod(which string) methodFunc {
	return func(th *Thread, recv Value, a *Args) (Value, error) {
		if err := a.Unpack(); err != nil {
			return None, err
		}
		return mapViewOf(recv.AsMap(), which), nil
	}
}
