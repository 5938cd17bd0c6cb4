package stdlib

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rayflow/rayflow/exec"
)

// MaxStringLen bounds the strings str.repeat, str.replace and str.format
// build (256 MiB): the bound of the string methods (exec.MaxStringLen).
const MaxStringLen = exec.MaxStringLen

// StrModule returns the str module: string functions that behave as
// Python's string methods of the same name, with the string first.
func StrModule() *exec.Module {
	m := newModule("str")
	for name, fn := range strFuncs {
		m.AddFunc(name, fn)
	}
	for _, name := range stringMethodNames {
		m.AddFunc(name, exec.StringMethod(name, "str."+name))
	}
	return m
}

// stringMethodNames are the str functions that are the string methods
// of the same name with the string first (one implementation, in exec).
var stringMethodNames = []string{"split", "strip", "lstrip", "rstrip", "replace",
	"startswith", "endswith", "find", "rfind", "index", "rindex", "count"}

var strFuncs = map[string]exec.BuiltinFunc{
	"join": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var sep string
		var l *exec.List
		if err := args.Unpack("sep", &sep, "list", &l); err != nil {
			return exec.None, err
		}
		parts := make([]string, len(l.Elems))
		size := 0
		for i, e := range l.Elems {
			if e.Kind() != exec.StringKind {
				return exec.None, typeErr(args.Fn, "element %d of the list is %s, not a string", i, e.TypeName())
			}
			parts[i] = e.AsString()
			size += len(parts[i]) + len(sep)
		}
		if size > MaxStringLen {
			return exec.None, valueErr(args.Fn, "result longer than %d bytes", MaxStringLen)
		}
		return exec.Str(strings.Join(parts, sep)), nil
	},
	"splitlines": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("s", &s); err != nil {
			return exec.None, err
		}
		return strList(splitLines(s)), nil
	},
	"repeat": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		var n int64
		if err := args.Unpack("s", &s, "n", &n); err != nil {
			return exec.None, err
		}
		if n <= 0 || s == "" {
			return exec.Str(""), nil
		}
		if n > int64(MaxStringLen/len(s)) {
			return exec.None, valueErr(args.Fn, "result longer than %d bytes", MaxStringLen)
		}
		return exec.Str(strings.Repeat(s, int(n))), nil
	},
	"upper": strMap(strings.ToUpper),
	"lower": strMap(strings.ToLower),
	"title": strMap(titleCase),
	"contains": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s, sub string
		if err := args.Unpack("s", &s, "sub", &sub); err != nil {
			return exec.None, err
		}
		return exec.Bool(strings.Contains(s, sub)), nil
	},
	"chars": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("s", &s); err != nil {
			return exec.None, err
		}
		out := make([]exec.Value, 0, len(s))
		for _, r := range s {
			out = append(out, exec.Str(string(r)))
		}
		return exec.ListOf(out), nil
	},
	"ord": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("c", &s); err != nil {
			return exec.None, err
		}
		r, size := utf8.DecodeRuneInString(s)
		if s == "" || size != len(s) {
			return exec.None, valueErr(args.Fn, "expected a string of one character, got one of %d", utf8.RuneCountInString(s))
		}
		return exec.Int(int64(r)), nil
	},
	"chr": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var i int64
		if err := args.Unpack("i", &i); err != nil {
			return exec.None, err
		}
		if i < 0 || i > unicode.MaxRune || (i >= 0xD800 && i <= 0xDFFF) {
			return exec.None, valueErr(args.Fn, "%d is not a Unicode code point", i)
		}
		return exec.Str(string(rune(i))), nil
	},
	"pad_left":  strPad(true),
	"pad_right": strPad(false),
	"isdigit":   strIs(func(r rune) bool { return r >= '0' && r <= '9' }),
	"isalpha":   strIs(unicode.IsLetter),
	"isspace":   strIs(unicode.IsSpace),
	"format": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if len(args.Pos) == 0 {
			return exec.None, exec.Errorf(exec.KindType, "%s() missing argument 'fmt'", args.Fn)
		}
		if args.Pos[0].Kind() != exec.StringKind {
			return exec.None, typeErr(args.Fn, "the format must be a string, not %s", args.Pos[0].TypeName())
		}
		s, err := Format(args.Pos[0].AsString(), args.Pos[1:], args.Kw)
		if err != nil {
			return exec.None, err
		}
		return exec.Str(s), nil
	},
}

func strMap(f func(string) string) exec.BuiltinFunc {
	return func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("s", &s); err != nil {
			return exec.None, err
		}
		return exec.Str(f(s)), nil
	}
}

func strIs(f func(rune) bool) exec.BuiltinFunc {
	return func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("s", &s); err != nil {
			return exec.None, err
		}
		if s == "" {
			return exec.False, nil
		}
		for _, r := range s {
			if !f(r) {
				return exec.False, nil
			}
		}
		return exec.True, nil
	}
}

func titleCase(s string) string {
	var b strings.Builder
	prev := false // previous rune was a letter
	for _, r := range s {
		if prev {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prev = unicode.IsLetter(r)
	}
	return b.String()
}

func strPad(left bool) exec.BuiltinFunc {
	return func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		var width int
		fill := " "
		if err := args.Unpack("s", &s, "width", &width, "fill?", &fill); err != nil {
			return exec.None, err
		}
		if utf8.RuneCountInString(fill) != 1 {
			return exec.None, valueErr(args.Fn, "fill must be one character, got %q", fill)
		}
		if width > MaxStringLen {
			return exec.None, valueErr(args.Fn, "width %d is too large", width)
		}
		n := width - utf8.RuneCountInString(s)
		if n <= 0 {
			return exec.Str(s), nil
		}
		pad := strings.Repeat(fill, n)
		if left {
			return exec.Str(pad + s), nil
		}
		return exec.Str(s + pad), nil
	}
}

// splitLines splits at \n, \r\n and \r, without the line ends.
func splitLines(s string) []string {
	out := []string{}
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return out
}

// Format is str.format: Python-style replacement fields in fmt. A field
// is {}, {N} or {name}, optionally indexed ({0[1]}, {m[key]}), followed
// by !r (use the repr) and by :spec, where spec is
// [[fill]align][sign][0][width][,][.precision][type] with align one of
// < > ^ =, sign one of + - space, and type one of s d x o b f e g %; the
// spec may itself hold fields ({:>{width}}). {{ and }} stand for braces.
// Values are shown with their String form (the repr for !r).
func Format(format string, pos []exec.Value, kw []exec.Kwarg) (string, error) {
	const fn = "str.format"
	f := &formatArgs{pos: pos, kw: kw}
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c == '}' {
			if i+1 < len(format) && format[i+1] == '}' {
				b.WriteByte('}')
				i += 2
				continue
			}
			return "", valueErr(fn, "single '}' at position %d of the format", i)
		}
		if c != '{' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(format) && format[i+1] == '{' {
			b.WriteByte('{')
			i += 2
			continue
		}
		end := closingBrace(format, i)
		if end < 0 {
			return "", valueErr(fn, "'{' at position %d of the format is not closed", i)
		}
		field := format[i+1 : end]
		i = end + 1
		name, spec, _ := strings.Cut(field, ":")
		name, conv, hasConv := strings.Cut(name, "!")
		if hasConv && conv != "r" && conv != "s" {
			return "", valueErr(fn, "unknown conversion !%s in {%s}", conv, field)
		}
		v, err := f.arg(name)
		if err != nil {
			return "", err
		}
		if spec, err = f.nestedSpec(spec); err != nil {
			return "", err
		}
		s, err := formatField(v, spec, conv == "r")
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		if b.Len() > MaxStringLen {
			return "", valueErr(fn, "result longer than %d bytes", MaxStringLen)
		}
	}
	return b.String(), nil
}

// closingBrace is the index of the '}' that closes the field opened at
// open, counting nested fields in its spec, or -1.
func closingBrace(format string, open int) int {
	depth := 0
	for j := open; j < len(format); j++ {
		switch format[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// formatArgs are the arguments of one format call and how its fields
// have numbered them so far ({} automatically or {0} by hand, not both).
type formatArgs struct {
	pos    []exec.Value
	kw     []exec.Kwarg
	auto   int
	manual bool
}

// arg is the value a field name stands for: the next positional
// argument, argument N or a keyword argument, indexed by the field's
// [key]s.
func (f *formatArgs) arg(field string) (exec.Value, error) {
	const fn = "str.format"
	name, keys, err := fieldKeys(field)
	if err != nil {
		return exec.None, err
	}
	var v exec.Value
	switch {
	case name == "":
		if f.manual {
			return exec.None, valueErr(fn, "cannot switch from manual field numbering to automatic")
		}
		if f.auto >= len(f.pos) {
			return exec.None, exec.Errorf(exec.KindIndex, "%s: the format has more {} fields than the %d argument%s given", fn, len(f.pos), plural(len(f.pos)))
		}
		v = f.pos[f.auto]
		f.auto++
	case name[0] >= '0' && name[0] <= '9':
		if f.auto > 0 {
			return exec.None, valueErr(fn, "cannot switch from automatic field numbering to manual")
		}
		f.manual = true
		n, err := strconv.Atoi(name)
		if err != nil || n >= len(f.pos) {
			return exec.None, exec.Errorf(exec.KindIndex, "%s: field {%s} but only %d argument%s given", fn, name, len(f.pos), plural(len(f.pos)))
		}
		v = f.pos[n]
	default:
		found := false
		for _, k := range f.kw {
			if k.Name == name {
				v, found = k.Value, true
			}
		}
		if !found {
			return exec.None, exec.Errorf(exec.KindKey, "%s: no keyword argument named %q", fn, name)
		}
	}
	for _, k := range keys {
		if v.Kind() == exec.FutureKind {
			return exec.None, futureErr(fn, v)
		}
		if v, err = exec.Index(v, k); err != nil {
			return exec.None, err
		}
	}
	if v.Kind() == exec.FutureKind {
		return exec.None, futureErr(fn, v)
	}
	return v, nil
}

// nestedSpec replaces the fields inside a spec ({:>{width}}, {:{}.{}f})
// with their values' String forms.
func (f *formatArgs) nestedSpec(spec string) (string, error) {
	if !strings.Contains(spec, "{") {
		return spec, nil
	}
	var b strings.Builder
	for spec != "" {
		open := strings.IndexByte(spec, '{')
		if open < 0 {
			b.WriteString(spec)
			break
		}
		end := strings.IndexByte(spec[open:], '}')
		if end < 0 {
			return "", valueErr("str.format", "unmatched '{' in format spec")
		}
		v, err := f.arg(spec[open+1 : open+end])
		if err != nil {
			return "", err
		}
		b.WriteString(spec[:open])
		b.WriteString(v.String())
		spec = spec[open+end+1:]
	}
	return b.String(), nil
}

// fieldKeys splits a field name such as `0[1][name]` into the argument
// (`0`) and the keys indexed into it, as Python's format: digits are an
// int key, anything else a string key.
func fieldKeys(name string) (string, []exec.Value, error) {
	base, rest, found := strings.Cut(name, "[")
	if !found {
		return name, nil, nil
	}
	var keys []exec.Value
	rest = "[" + rest
	for rest != "" {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			return "", nil, valueErr("str.format", "bad field name {%s}: expected [key] after %q", name, base)
		}
		k := rest[1:end]
		if n, err := strconv.ParseInt(k, 10, 64); err == nil && k[0] != '-' && k[0] != '+' {
			keys = append(keys, exec.Int(n))
		} else {
			keys = append(keys, exec.Str(k))
		}
		rest = rest[end+1:]
	}
	return base, keys, nil
}

// fmtSpec is a parsed format spec.
type fmtSpec struct {
	fill      rune
	align     byte // 0, '<', '>', '^', '='
	sign      byte // 0, '+', '-', ' '
	width     int
	comma     bool
	precision int // -1 when absent
	typ       byte
}

func parseSpec(spec string) (fmtSpec, bool) {
	fs := fmtSpec{fill: ' ', precision: -1}
	rs := []rune(spec)
	i := 0
	isAlign := func(r rune) bool { return r == '<' || r == '>' || r == '^' || r == '=' }
	if len(rs) >= 2 && isAlign(rs[1]) {
		fs.fill, fs.align = rs[0], byte(rs[1])
		i = 2
	} else if len(rs) >= 1 && isAlign(rs[0]) {
		fs.align = byte(rs[0])
		i = 1
	}
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-' || rs[i] == ' ') {
		fs.sign = byte(rs[i])
		i++
	}
	if i < len(rs) && rs[i] == '0' {
		if fs.align == 0 {
			fs.fill, fs.align = '0', '='
		}
		i++
	}
	start := i
	for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
		i++
	}
	if i > start {
		w, err := strconv.Atoi(string(rs[start:i]))
		if err != nil || w > 1<<20 {
			return fs, false
		}
		fs.width = w
	}
	if i < len(rs) && rs[i] == ',' {
		fs.comma = true
		i++
	}
	if i < len(rs) && rs[i] == '.' {
		i++
		start = i
		for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
			i++
		}
		if i == start {
			return fs, false
		}
		p, err := strconv.Atoi(string(rs[start:i]))
		if err != nil || p > 100 {
			return fs, false
		}
		fs.precision = p
	}
	if i < len(rs) {
		if !strings.ContainsRune("sdxobfFeEgG%", rs[i]) {
			return fs, false
		}
		fs.typ = byte(rs[i])
		i++
	}
	return fs, i == len(rs)
}

// formatField formats one value by a spec.
func formatField(v exec.Value, spec string, repr bool) (string, error) {
	const fn = "str.format"
	text := func() string {
		if repr {
			return v.Repr()
		}
		return v.String()
	}
	if spec == "" {
		return text(), nil
	}
	fs, ok := parseSpec(spec)
	if !ok {
		return "", valueErr(fn, "invalid format spec %q", spec)
	}
	var body string
	numeric := false
	neg := false
	switch fs.typ {
	case 0, 's':
		if fs.typ == 0 && v.Kind() == exec.FloatKind && fs.precision >= 0 {
			f := v.AsFloat()
			neg, numeric = math.Signbit(f) && !math.IsNaN(f), true
			body = formatG(math.Abs(f), fs.precision, 'g')
			break
		}
		if fs.typ == 0 && (v.Kind() == exec.IntKind || v.Kind() == exec.FloatKind) && !repr {
			numeric = true
			if v.Kind() == exec.IntKind {
				neg = v.AsInt() < 0
				body = strconv.FormatUint(absInt(v.AsInt()), 10)
				if fs.comma {
					body = commas(body)
				}
			} else {
				f := v.AsFloat()
				neg = math.Signbit(f) && !math.IsNaN(f)
				body = exec.FormatFloat(math.Abs(f))
			}
			break
		}
		if fs.sign != 0 || fs.comma {
			return "", valueErr(fn, "sign and ',' are not allowed with a string")
		}
		body = text()
		if fs.precision >= 0 {
			if rs := []rune(body); len(rs) > fs.precision {
				body = string(rs[:fs.precision])
			}
		}
	case 'd', 'x', 'o', 'b':
		var i int64
		switch v.Kind() {
		case exec.IntKind:
			i = v.AsInt()
		case exec.BoolKind:
			i = int64(b2f(v.AsBool()))
		default:
			return "", typeErr(fn, "format code '%c' needs an int, not %s", fs.typ, v.TypeName())
		}
		numeric, neg = true, i < 0
		base := map[byte]int{'d': 10, 'x': 16, 'o': 8, 'b': 2}[fs.typ]
		body = strconv.FormatUint(absInt(i), base)
		if fs.comma {
			body = commas(body)
		}
	default: // f F e E g G %
		f, err := numberArg(fn, "value", v)
		if err != nil {
			return "", typeErr(fn, "format code '%c' needs a number, not %s", fs.typ, v.TypeName())
		}
		numeric = true
		neg = math.Signbit(f) && !math.IsNaN(f)
		f = math.Abs(f)
		p := fs.precision
		if p < 0 {
			p = 6
		}
		switch fs.typ {
		case 'f', 'F':
			body = fixed(f, p, fs.comma)
		case '%':
			body = fixed(f*100, p, fs.comma) + "%"
		case 'e', 'E':
			body = formatE(f, p)
		case 'g', 'G':
			body = formatG(f, p, fs.typ)
		}
		if fs.typ == 'F' || fs.typ == 'E' || fs.typ == 'G' {
			body = strings.ToUpper(body)
		}
	}
	sign := ""
	if numeric {
		switch {
		case neg:
			sign = "-"
		case fs.sign == '+':
			sign = "+"
		case fs.sign == ' ':
			sign = " "
		}
	}
	align := fs.align
	if align == 0 {
		align = '<'
		if numeric {
			align = '>'
		}
	}
	n := fs.width - utf8.RuneCountInString(sign) - utf8.RuneCountInString(body)
	if n <= 0 {
		return sign + body, nil
	}
	pad := func(k int) string { return strings.Repeat(string(fs.fill), k) }
	switch align {
	case '<':
		return sign + body + pad(n), nil
	case '>':
		return pad(n) + sign + body, nil
	case '^':
		return pad(n/2) + sign + body + pad(n-n/2), nil
	}
	return sign + pad(n) + body, nil // '='
}

func absInt(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

// commas inserts thousands separators into a string of digits with an
// optional fraction.
func commas(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

func fixed(f float64, p int, comma bool) string {
	if math.IsInf(f, 0) {
		return "inf"
	}
	if math.IsNaN(f) {
		return "nan"
	}
	s := strconv.FormatFloat(f, 'f', p, 64)
	if comma {
		s = commas(s)
	}
	return s
}

// formatE is Python's 'e' format: at least two exponent digits.
func formatE(f float64, p int) string {
	if math.IsInf(f, 0) {
		return "inf"
	}
	if math.IsNaN(f) {
		return "nan"
	}
	return strconv.FormatFloat(f, 'e', p, 64) // Go also writes e+06
}

// formatG is Python's 'g' format: precision p significant digits,
// trailing zeros removed, exponent form when the exponent is < -4 or >= p.
func formatG(f float64, p int, typ byte) string {
	if math.IsInf(f, 0) {
		return "inf"
	}
	if math.IsNaN(f) {
		return "nan"
	}
	if p == 0 {
		p = 1
	}
	if f == 0 {
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', p-1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= p {
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		return mant + "e" + exp
	}
	s := strconv.FormatFloat(f, 'f', max(p-1-x, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
