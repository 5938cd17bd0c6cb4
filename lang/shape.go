package lang

// Every expression is a tower of eleven levels (Expr, Or, And, Not,
// Comparison, Sum, Product, Unary, Power, Postfix, Primary), most of them
// pass-through. These helpers see through the pass-through levels, so
// code that wants "is this just a name / a call / a literal" asks once.

// UnaryOf returns the unary expression e consists of, when e is nothing
// more: no conditional and no operator of a looser level. It returns nil
// for a nil e.
func UnaryOf(e *Expr) *Unary {
	if e == nil || e.Cond != nil || len(e.Body.Terms) != 1 || len(e.Body.Terms[0].Terms) != 1 {
		return nil
	}
	cmp := e.Body.Terms[0].Terms[0].Cmp
	if cmp == nil || len(cmp.Rests) != 0 || len(cmp.Left.Rests) != 0 || len(cmp.Left.Left.Rests) != 0 {
		return nil
	}
	return cmp.Left.Left.Left
}

// PostfixOf returns the postfix expression e consists of (a primary with
// its calls, indexes and fields), when e is nothing more. It returns nil
// for a nil e.
func PostfixOf(e *Expr) *Postfix {
	u := UnaryOf(e)
	if u == nil || u.Power == nil || u.Power.Exponent != nil {
		return nil
	}
	return u.Power.Base
}

// SignedPostfixOf returns the postfix expression e consists of, alone or
// behind one unary minus (neg): the shape of a literal such as -3. It
// returns nil when e is anything more.
func SignedPostfixOf(e *Expr) (pf *Postfix, neg bool) {
	if pf := PostfixOf(e); pf != nil {
		return pf, false
	}
	u := UnaryOf(e)
	if u == nil || u.Op != "-" || u.Operand == nil || u.Operand.Power == nil || u.Operand.Power.Exponent != nil {
		return nil, false
	}
	return u.Operand.Power.Base, true
}
