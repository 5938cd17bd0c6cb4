package exec

import (
	"math"
	"strconv"
	"strings"
)

// String is how print shows v at top level: strings bare, everything else
// as Repr.
func (v Value) String() string {
	if v.kind == StringKind {
		return v.AsString()
	}
	return v.Repr()
}

// Repr is how v prints inside containers and in the REPL: strings quoted.
func (v Value) Repr() string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

const maxReprDepth = 100

func writeRepr(b *strings.Builder, v Value, depth int) {
	if depth > maxReprDepth {
		b.WriteString("...")
		return
	}
	switch v.kind {
	case NoneKind:
		b.WriteString("none")
	case BoolKind:
		if v.AsBool() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case IntKind:
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case FloatKind:
		b.WriteString(FormatFloat(v.AsFloat()))
	case StringKind:
		writeQuoted(b, v.AsString())
	case ListKind:
		b.WriteByte('[')
		for i, e := range v.AsList().Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, depth+1)
		}
		b.WriteByte(']')
	case MapKind:
		m := v.AsMap()
		b.WriteByte('{')
		for i, k := range m.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, k, depth+1)
			b.WriteString(": ")
			writeRepr(b, m.vals[i], depth+1)
		}
		b.WriteByte('}')
	case TensorKind:
		writeTensor(b, v.AsTensor())
	case FutureKind:
		f := v.AsFuture()
		b.WriteString("<future ")
		b.WriteString(f.Name())
		b.WriteByte('>')
	case ActorKind:
		a := v.AsActor()
		b.WriteString("<actor ")
		if a.Class != nil {
			b.WriteString(a.Class.Name())
		}
		b.WriteByte('>')
	case FunctionKind:
		b.WriteString("<function ")
		b.WriteString(v.AsCallable().Name())
		b.WriteByte('>')
	case ObjectKind:
		o := v.AsObject()
		if s, ok := o.(interface{ String() string }); ok {
			b.WriteString(s.String())
			return
		}
		b.WriteByte('<')
		b.WriteString(o.TypeName())
		b.WriteByte('>')
	}
}

// writeTensor prints a tensor as nested lists inside tensor(...).
func writeTensor(b *strings.Builder, t *Tensor) {
	b.WriteString("tensor(")
	writeTensorDim(b, t.Shape, t.Data)
	b.WriteByte(')')
}

func writeTensorDim(b *strings.Builder, shape []int, data []float64) {
	if len(shape) == 0 {
		if len(data) > 0 {
			b.WriteString(FormatFloat(data[0]))
		}
		return
	}
	b.WriteByte('[')
	stride := 1
	for _, d := range shape[1:] {
		stride *= d
	}
	for i := 0; i < shape[0]; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		writeTensorDim(b, shape[1:], data[i*stride:(i+1)*stride])
	}
	b.WriteByte(']')
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 {
				b.WriteString(`\x`)
				b.WriteString(strconv.FormatInt(int64(r)+0x100, 16)[1:])
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// FormatFloat prints a float as Python's repr does: the shortest digits
// that read back to the same value, in plain decimals when
// 1e-4 <= |x| < 1e16 with at least one digit after the point, otherwise
// with an exponent of at least two digits.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	abs := math.Abs(f)
	if f == 0 || abs >= 1e-4 && abs < 1e16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+16, 2.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	if len(digits) < 2 {
		digits = strings.Repeat("0", 2-len(digits)) + digits
	}
	return mant + "e" + string(sign) + digits
}
