package exec

import (
	"strconv"
	"strings"
)

// formatSpec applies a Python-style format spec to one value: an
// optional fill/align and width, then precision and a type among
// d f e g % s. An empty spec gives the value's String form.
func formatSpec(v Value, spec string) (string, error) {
	if spec == "" {
		return v.String(), nil
	}
	align, width, prec, typ, err := parseSpec(spec)
	if err != nil {
		return "", err
	}
	var s string
	switch typ {
	case 'f', 'e', 'g', '%':
		if !v.IsNumber() {
			return "", Errorf(KindType, "format spec '%s' needs a number, not %s", spec, v.TypeName())
		}
		x := v.Number()
		if prec < 0 {
			prec = 6
		}
		if typ == '%' {
			s = strconv.FormatFloat(x*100, 'f', prec, 64) + "%"
		} else {
			s = strconv.FormatFloat(x, typ, prec, 64)
		}
	case 'd':
		if v.kind != IntKind {
			return "", Errorf(KindType, "format spec '%s' needs an int, not %s", spec, v.TypeName())
		}
		s = strconv.FormatInt(v.AsInt(), 10)
	default:
		s = v.String()
		if prec >= 0 && prec < len(s) {
			s = s[:prec]
		}
	}
	return pad(s, width, align, v.IsNumber()), nil
}

func parseSpec(spec string) (align byte, width, prec int, typ byte, err error) {
	prec = -1
	if len(spec) > 0 && strings.IndexByte("<>^", spec[0]) >= 0 {
		align, spec = spec[0], spec[1:]
	}
	i := 0
	for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
		width = width*10 + int(spec[i]-'0')
		i++
	}
	if i < len(spec) && spec[i] == '.' {
		i++
		prec = 0
		for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
			prec = prec*10 + int(spec[i]-'0')
			i++
		}
	}
	if i < len(spec) {
		typ = spec[i]
		i++
	}
	if i != len(spec) || typ != 0 && strings.IndexByte("dfeg%s", typ) < 0 || width > 1000 || prec > 100 {
		return 0, 0, 0, 0, Errorf(KindValue, "invalid format spec ':%s'", spec)
	}
	return align, width, prec, typ, nil
}

func pad(s string, width int, align byte, number bool) string {
	n := len([]rune(s))
	if n >= width {
		return s
	}
	fill := strings.Repeat(" ", width-n)
	if align == 0 {
		align = '<'
		if number {
			align = '>'
		}
	}
	switch align {
	case '>':
		return fill + s
	case '^':
		left := (width - n) / 2
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", width-n-left)
	}
	return s + fill
}

// tensorArithBasic is element-wise arithmetic for tensors of the same
// shape and a tensor with a number; the nd module replaces it with one
// that also broadcasts rows.
func tensorArithBasic(op byte, a, b Value) (Value, error) {
	at, bt := tensorOrNil(a), tensorOrNil(b)
	var shape []int
	n := 0
	switch {
	case at != nil && bt != nil:
		if !sameShape(at.Shape, bt.Shape) {
			return None, Errorf(KindValue, "tensor shapes %v and %v do not match", at.Shape, bt.Shape)
		}
		shape, n = at.Shape, len(at.Data)
	case at != nil:
		shape, n = at.Shape, len(at.Data)
	default:
		shape, n = bt.Shape, len(bt.Data)
	}
	out := make([]float64, n)
	get := func(v Value, t *Tensor, i int) float64 {
		if t != nil {
			return t.Data[i]
		}
		return v.Number()
	}
	for i := range out {
		x, y := get(a, at, i), get(b, bt, i)
		switch op {
		case '+':
			out[i] = x + y
		case '-':
			out[i] = x - y
		case '*':
			out[i] = x * y
		case '/':
			out[i] = x / y
		default:
			return None, Errorf(KindType, "tensors support + - * /, not %c", op)
		}
	}
	return TensorValue(&Tensor{Shape: append([]int(nil), shape...), Data: out}), nil
}

func tensorOrNil(v Value) *Tensor {
	if v.kind == TensorKind {
		return v.AsTensor()
	}
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
