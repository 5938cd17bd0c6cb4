package planner

import (
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// exprText renders an expression back as source text (normalised
// spacing), to show arguments whose value is not known before running.
func exprText(e *lang.Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e *lang.Expr) {
	if e == nil {
		return
	}
	writeOr(b, e.Body)
	if e.Cond != nil {
		b.WriteString(" if ")
		writeOr(b, e.Cond)
		b.WriteString(" else ")
		writeExpr(b, e.Else)
	}
}

func writeOr(b *strings.Builder, o *lang.Or) {
	for i, a := range o.Terms {
		if i > 0 {
			b.WriteString(" or ")
		}
		for j, n := range a.Terms {
			if j > 0 {
				b.WriteString(" and ")
			}
			writeNot(b, n)
		}
	}
}

func writeNot(b *strings.Builder, n *lang.Not) {
	for n.Negated != nil {
		b.WriteString("not ")
		n = n.Negated
	}
	writeSum(b, n.Cmp.Left)
	for _, op := range n.Cmp.Rests {
		b.WriteString(" " + op.Op + " ")
		writeSum(b, op.Right)
	}
}

func writeSum(b *strings.Builder, s *lang.Sum) {
	writeProduct(b, s.Left)
	for _, op := range s.Rests {
		b.WriteString(" " + op.Op + " ")
		writeProduct(b, op.Right)
	}
}

func writeProduct(b *strings.Builder, p *lang.Product) {
	writeUnary(b, p.Left)
	for _, op := range p.Rests {
		b.WriteString(" " + op.Op + " ")
		writeUnary(b, op.Right)
	}
}

func writeUnary(b *strings.Builder, u *lang.Unary) {
	for u.Operand != nil {
		b.WriteString(u.Op)
		u = u.Operand
	}
	writePostfix(b, u.Power.Base)
	if u.Power.Exponent != nil {
		b.WriteString(" ** ")
		writeUnary(b, u.Power.Exponent)
	}
}

func writePostfix(b *strings.Builder, pf *lang.Postfix) {
	writePrimary(b, pf.Primary)
	for _, s := range pf.Suffixes {
		switch {
		case s.Call != nil:
			b.WriteByte('(')
			for i, a := range s.Call.Args {
				if i > 0 {
					b.WriteString(", ")
				}
				if a.Name != "" {
					b.WriteString(a.Name + "=")
				}
				writeExpr(b, a.Value)
			}
			b.WriteByte(')')
		case s.Index != nil:
			b.WriteByte('[')
			writeExpr(b, s.Index.Start)
			if s.Index.Slice {
				b.WriteByte(':')
				writeExpr(b, s.Index.End)
				if s.Index.Step != nil {
					b.WriteByte(':')
					writeExpr(b, s.Index.Step)
				}
			}
			b.WriteByte(']')
		case s.Field != "":
			b.WriteString("." + s.Field)
		}
	}
}

func writePrimary(b *strings.Builder, p *lang.Primary) {
	switch {
	case p.Float != nil:
		b.WriteString(*p.Float)
	case p.Int != nil:
		b.WriteString(*p.Int)
	case p.String != nil:
		b.WriteString(quote(*p.String))
	case p.Bool != nil:
		b.WriteString(*p.Bool)
	case p.None:
		b.WriteString("none")
	case p.Name != "":
		b.WriteString(p.Name)
	case p.List != nil:
		writeList(b, p.List)
	case p.Map != nil:
		b.WriteByte('{')
		for i, e := range p.Map.Entries {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, e.Key)
			b.WriteString(": ")
			writeExpr(b, e.Value)
		}
		b.WriteByte('}')
	case p.Paren != nil:
		b.WriteByte('(')
		writeExpr(b, p.Paren)
		b.WriteByte(')')
	}
}

func writeList(b *strings.Builder, l *lang.ListLit) {
	b.WriteByte('[')
	if l.First != nil {
		writeExpr(b, l.First)
	}
	for c := l.Comp; c != nil; c = c.Next {
		b.WriteString(" for " + strings.Join(c.Names, ", ") + " in ")
		writeOr(b, c.Iter)
		for _, cond := range c.Conds {
			b.WriteString(" if ")
			writeOr(b, cond)
		}
	}
	for _, e := range l.Rest {
		b.WriteString(", ")
		writeExpr(b, e)
	}
	b.WriteByte(']')
}

// orText renders an `or` expression (a comprehension's iterable).
func orText(o *lang.Or) string {
	var b strings.Builder
	writeOr(&b, o)
	return b.String()
}

// shorten cuts long source text for a one-line display.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
