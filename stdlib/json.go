package stdlib

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rayflow/rayflow/exec"
)

// maxJSONDepth bounds the nesting of encoded and decoded values.
const maxJSONDepth = 1000

// JSONModule returns the json module: canonical encoding and decoding.
func JSONModule() *exec.Module {
	m := newModule("json")
	m.AddFunc("encode", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var v exec.Value
		if err := args.Unpack("value", &v); err != nil {
			return exec.None, err
		}
		s, err := EncodeJSON(v)
		if err != nil {
			return exec.None, err
		}
		return exec.Str(s), nil
	})
	m.AddFunc("decode", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var s string
		if err := args.Unpack("s", &s); err != nil {
			return exec.None, err
		}
		return DecodeJSON(s)
	})
	return m
}

// EncodeJSON is json.encode: canonical JSON with no spaces, maps in
// insertion order (int and bool keys become strings, as in Python), ints
// as ints, floats in their shortest form (always with a '.' or an
// exponent, so they decode as floats), tensors as nested lists, and only
// '"', '\\' and control characters escaped. nan and inf are "value"
// errors; futures, actors, functions and objects are "type" errors.
func EncodeJSON(v exec.Value) (string, error) {
	var b strings.Builder
	if err := encodeJSON(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func encodeJSON(b *strings.Builder, v exec.Value, depth int) error {
	if depth > maxJSONDepth {
		return valueErr("json.encode", "value nested more than %d deep (does a list contain itself?)", maxJSONDepth)
	}
	if b.Len() > exec.MaxValueBytes {
		return valueErr("json.encode", "the text would be larger than the %d bytes one value may take", exec.MaxValueBytes)
	}
	switch v.Kind() {
	case exec.NoneKind:
		b.WriteString("null")
	case exec.BoolKind:
		if v.AsBool() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case exec.IntKind:
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case exec.FloatKind:
		return encodeFloat(b, v.AsFloat())
	case exec.StringKind:
		if b.Len()+len(v.AsString()) > exec.MaxValueBytes {
			return valueErr("json.encode", "the text would be larger than the %d bytes one value may take", exec.MaxValueBytes)
		}
		writeJSONString(b, v.AsString())
	case exec.ListKind:
		b.WriteByte('[')
		for i, e := range v.AsList().Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeJSON(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case exec.MapKind:
		m := v.AsMap()
		b.WriteByte('{')
		for i, k := range m.Keys() {
			if i > 0 {
				b.WriteByte(',')
			}
			switch k.Kind() {
			case exec.StringKind:
				writeJSONString(b, k.AsString())
			case exec.IntKind:
				b.WriteByte('"')
				b.WriteString(strconv.FormatInt(k.AsInt(), 10))
				b.WriteByte('"')
			case exec.BoolKind:
				if k.AsBool() {
					b.WriteString(`"true"`)
				} else {
					b.WriteString(`"false"`)
				}
			default:
				return typeErr("json.encode", "cannot encode a map key of type %s", k.TypeName())
			}
			b.WriteByte(':')
			if err := encodeJSON(b, m.Values()[i], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case exec.TensorKind:
		t := v.AsTensor()
		for _, x := range t.Data {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return valueErr("json.encode", "cannot encode %s (a tensor element): JSON has no such number", exec.FormatFloat(x))
			}
		}
		writeTensorJSON(b, t.Shape, t.Data)
	default:
		return typeErr("json.encode", "cannot encode a value of type %s", v.TypeName())
	}
	return nil
}

func encodeFloat(b *strings.Builder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return valueErr("json.encode", "cannot encode %s: JSON has no such number", exec.FormatFloat(f))
	}
	b.WriteString(exec.FormatFloat(f))
	return nil
}

func writeTensorJSON(b *strings.Builder, shape []int, data []float64) {
	if len(shape) == 0 {
		b.WriteString(exec.FormatFloat(data[0]))
		return
	}
	b.WriteByte('[')
	stride := len(data) / max(shape[0], 1)
	for i := 0; i < shape[0]; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(shape) == 1 {
			b.WriteString(exec.FormatFloat(data[i]))
		} else {
			writeTensorJSON(b, shape[1:], data[i*stride:(i+1)*stride])
		}
	}
	b.WriteByte(']')
}

const hexDigits = "0123456789abcdef"

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`) // invalid UTF-8
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// DecodeJSON is json.decode: objects become maps in document order (a
// repeated key keeps its first place and its last value), numbers
// without '.' or an exponent become ints (a "value" error beyond 64
// bits), other numbers floats. Bad JSON is a "value" error naming the
// line and column.
func DecodeJSON(s string) (exec.Value, error) {
	d := &jsonDecoder{s: s}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return exec.None, err
	}
	d.space()
	if d.i < len(d.s) {
		return exec.None, d.errorf("unexpected %s after the value", d.what())
	}
	return v, nil
}

type jsonDecoder struct {
	s string
	i int
}

// errorf makes a "value" error at the current position.
func (d *jsonDecoder) errorf(format string, args ...any) error {
	line, col := 1, 1
	for _, r := range d.s[:min(d.i, len(d.s))] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	args = append(args, line, col)
	return valueErr("json.decode", "invalid JSON: "+format+" at line %d, column %d", args...)
}

// what describes the character at the current position.
func (d *jsonDecoder) what() string {
	if d.i >= len(d.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(d.s[d.i:])
	return "character " + strconv.QuoteRune(r)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (exec.Value, error) {
	if depth > maxJSONDepth {
		return exec.None, d.errorf("nested more than %d deep", maxJSONDepth)
	}
	if d.i >= len(d.s) {
		return exec.None, d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return exec.None, err
		}
		return exec.Str(s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return exec.True, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return exec.False, nil
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return exec.None, nil
	}
	return exec.None, d.errorf("unexpected %s", d.what())
}

func (d *jsonDecoder) object(depth int) (exec.Value, error) {
	d.i++ // {
	m := exec.NewMap(0)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return exec.MapValue(m), nil
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return exec.None, d.errorf("expected a string key, found %s", d.what())
		}
		k, err := d.str()
		if err != nil {
			return exec.None, err
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return exec.None, d.errorf("expected ':', found %s", d.what())
		}
		d.i++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return exec.None, err
		}
		if err := m.Set(exec.Str(k), v); err != nil {
			return exec.None, err
		}
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
			continue
		}
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return exec.MapValue(m), nil
		}
		return exec.None, d.errorf("expected ',' or '}', found %s", d.what())
	}
}

func (d *jsonDecoder) array(depth int) (exec.Value, error) {
	d.i++ // [
	elems := []exec.Value{}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return exec.ListOf(elems), nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return exec.None, err
		}
		elems = append(elems, v)
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
			continue
		}
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return exec.ListOf(elems), nil
		}
		return exec.None, d.errorf("expected ',' or ']', found %s", d.what())
	}
}

func (d *jsonDecoder) number() (exec.Value, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	intStart := d.i
	if n := digits(); n == 0 {
		return exec.None, d.errorf("expected a digit, found %s", d.what())
	} else if n > 1 && d.s[intStart] == '0' {
		d.i = intStart
		return exec.None, d.errorf("a number may not start with 0")
	}
	isFloat := false
	if d.i < len(d.s) && d.s[d.i] == '.' {
		isFloat = true
		d.i++
		if digits() == 0 {
			return exec.None, d.errorf("expected a digit after '.', found %s", d.what())
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		isFloat = true
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return exec.None, d.errorf("expected a digit in the exponent, found %s", d.what())
		}
	}
	text := d.s[start:d.i]
	if !isFloat {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			d.i = start
			return exec.None, d.errorf("integer %s does not fit in 64 bits", text)
		}
		return exec.Int(n), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) { // out-of-range floats become ±inf
		d.i = start
		return exec.None, d.errorf("bad number %s", text)
	}
	return exec.Float(f), nil
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // opening quote
	var b strings.Builder
	for {
		if d.i >= len(d.s) {
			return "", d.errorf("unterminated string")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c < 0x20:
			return "", d.errorf("control character %s in a string", d.what())
		case c == '\\':
			d.i++
			if d.i >= len(d.s) {
				return "", d.errorf("unterminated string")
			}
			e := d.s[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					// A high surrogate followed by \u and a low one is a pair.
					if r < 0xdc00 && strings.HasPrefix(d.s[d.i:], `\u`) {
						save := d.i
						d.i += 2
						r2, err := d.hex4()
						if err != nil {
							return "", err
						}
						if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
							r = p
						} else {
							d.i = save
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				b.WriteRune(r)
			default:
				d.i -= 2
				return "", d.errorf("bad escape \\%c in a string", e)
			}
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			b.WriteString(d.s[d.i : d.i+size])
			d.i += size
		}
	}
}

func (d *jsonDecoder) hex4() (rune, error) {
	if d.i+4 > len(d.s) {
		return 0, d.errorf("bad \\u escape")
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil {
		return 0, d.errorf("bad \\u escape")
	}
	d.i += 4
	return rune(n), nil
}
