package exec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// ParseLiteral reads a literal written as source text: a number, a
// string in quotes, true, false, none, or a list or map of literals.
func ParseLiteral(text string) (Value, error) {
	e, err := lang.ParseExpr("<literal>", text)
	if err != nil {
		return None, fmt.Errorf("not a literal")
	}
	return literal(e)
}

func literal(e *lang.Expr) (Value, error) {
	pf, neg := lang.SignedPostfixOf(e)
	if pf == nil || len(pf.Suffixes) > 0 {
		return None, fmt.Errorf("not a literal")
	}
	p := pf.Primary
	switch {
	case p.Int != nil:
		text := strings.ReplaceAll(*p.Int, "_", "")
		if neg {
			text = "-" + text
		}
		n, err := strconv.ParseInt(text, 10, 64)
		return Int(n), err
	case p.Float != nil:
		f, err := strconv.ParseFloat(strings.ReplaceAll(*p.Float, "_", ""), 64)
		if neg {
			f = -f
		}
		return Float(f), err
	case neg:
		return None, fmt.Errorf("not a literal")
	case p.String != nil:
		return Str(*p.String), nil
	case p.Bool != nil:
		return Bool(*p.Bool == "true"), nil
	case p.None:
		return None, nil
	case p.List != nil && p.List.Comp == nil:
		var out []Value
		if p.List.First != nil {
			for _, x := range append([]*lang.Expr{p.List.First}, p.List.Rest...) {
				v, err := literal(x)
				if err != nil {
					return None, err
				}
				out = append(out, v)
			}
		}
		return ListOf(out), nil
	case p.Map != nil:
		m := NewMap(len(p.Map.Entries))
		for _, en := range p.Map.Entries {
			k, err := literal(en.Key)
			if err != nil {
				return None, err
			}
			v, err := literal(en.Value)
			if err != nil {
				return None, err
			}
			if err := m.Set(k, v); err != nil {
				return None, err
			}
		}
		return MapValue(m), nil
	}
	return None, fmt.Errorf("not a literal")
}
