package lang

// Node is any node of the syntax tree: a pointer to one of the structs in
// ast.go. Its one method, which keeps other types out of Walk, tells a
// nil pointer, so optional children can be passed to Walk as they are.
type Node interface{ isNil() bool }

func (n *File) isNil() bool        { return n == nil }
func (n *Decl) isNil() bool        { return n == nil }
func (n *Decorator) isNil() bool   { return n == nil }
func (n *Const) isNil() bool       { return n == nil }
func (n *Func) isNil() bool        { return n == nil }
func (n *Param) isNil() bool       { return n == nil }
func (n *TypeRef) isNil() bool     { return n == nil }
func (n *Actor) isNil() bool       { return n == nil }
func (n *ActorMember) isNil() bool { return n == nil }
func (n *Method) isNil() bool      { return n == nil }
func (n *Block) isNil() bool       { return n == nil }
func (n *Stmt) isNil() bool        { return n == nil }
func (n *Let) isNil() bool         { return n == nil }
func (n *If) isNil() bool          { return n == nil }
func (n *For) isNil() bool         { return n == nil }
func (n *While) isNil() bool       { return n == nil }
func (n *Jump) isNil() bool        { return n == nil }
func (n *Return) isNil() bool      { return n == nil }
func (n *Try) isNil() bool         { return n == nil }
func (n *Simple) isNil() bool      { return n == nil }
func (n *Expr) isNil() bool        { return n == nil }
func (n *Or) isNil() bool          { return n == nil }
func (n *And) isNil() bool         { return n == nil }
func (n *Not) isNil() bool         { return n == nil }
func (n *Comparison) isNil() bool  { return n == nil }
func (n *CmpOp) isNil() bool       { return n == nil }
func (n *Sum) isNil() bool         { return n == nil }
func (n *SumOp) isNil() bool       { return n == nil }
func (n *Product) isNil() bool     { return n == nil }
func (n *MulOp) isNil() bool       { return n == nil }
func (n *Unary) isNil() bool       { return n == nil }
func (n *Power) isNil() bool       { return n == nil }
func (n *Postfix) isNil() bool     { return n == nil }
func (n *Suffix) isNil() bool      { return n == nil }
func (n *Call) isNil() bool        { return n == nil }
func (n *Arg) isNil() bool         { return n == nil }
func (n *Index) isNil() bool       { return n == nil }
func (n *Primary) isNil() bool     { return n == nil }
func (n *ListLit) isNil() bool     { return n == nil }
func (n *CompFor) isNil() bool     { return n == nil }
func (n *MapLit) isNil() bool      { return n == nil }
func (n *MapEntry) isNil() bool    { return n == nil }

// Walk traverses the tree rooted at n in depth-first order, children in
// source order (as starlark-go's syntax.Walk). It calls f(n) first; if f
// returns true, Walk calls itself for each non-nil child of n. A nil n
// (or a typed nil pointer) is not visited.
//
// Walk is for code that visits: collecting names, finding calls. Code
// that gives each precedence level its own meaning (the closure compiler,
// the planner's abstract evaluator) descends by hand.
func Walk(n Node, f func(Node) bool) {
	if n == nil || n.isNil() || !f(n) {
		return
	}
	switch n := n.(type) {
	case *File:
		walkAll(n.Decls, f)
	case *Decl:
		walkAll(n.Decorators, f)
		if n.Const != nil {
			Walk(n.Const, f)
		}
		if n.Func != nil {
			Walk(n.Func, f)
		}
		if n.Actor != nil {
			Walk(n.Actor, f)
		}
	case *Decorator:
		walkAll(n.Args, f)
	case *Const:
		if n.Value != nil {
			Walk(n.Value, f)
		}
	case *Func:
		walkAll(n.Params, f)
		if n.Result != nil {
			Walk(n.Result, f)
		}
		if n.Body != nil {
			Walk(n.Body, f)
		}
	case *Param:
		if n.Type != nil {
			Walk(n.Type, f)
		}
		if n.Default != nil {
			Walk(n.Default, f)
		}
	case *TypeRef, *Jump:
		// leaves
	case *Actor:
		walkAll(n.Params, f)
		walkAll(n.Members, f)
	case *ActorMember:
		if n.Field != nil {
			Walk(n.Field, f)
		}
		if n.Method != nil {
			Walk(n.Method, f)
		}
	case *Method:
		walkAll(n.Params, f)
		if n.Result != nil {
			Walk(n.Result, f)
		}
		if n.Body != nil {
			Walk(n.Body, f)
		}
	case *Block:
		walkAll(n.Stmts, f)
	case *Stmt:
		walkStmt(n, f)
	case *Let:
		if n.Value != nil {
			Walk(n.Value, f)
		}
	case *If:
		if n.Cond != nil {
			Walk(n.Cond, f)
		}
		if n.Then != nil {
			Walk(n.Then, f)
		}
		if n.ElseIf != nil {
			Walk(n.ElseIf, f)
		}
		if n.Else != nil {
			Walk(n.Else, f)
		}
	case *For:
		if n.Iter != nil {
			Walk(n.Iter, f)
		}
		if n.Body != nil {
			Walk(n.Body, f)
		}
	case *While:
		if n.Cond != nil {
			Walk(n.Cond, f)
		}
		if n.Body != nil {
			Walk(n.Body, f)
		}
	case *Return:
		if n.Value != nil {
			Walk(n.Value, f)
		}
	case *Try:
		if n.Body != nil {
			Walk(n.Body, f)
		}
		if n.Handler != nil {
			Walk(n.Handler, f)
		}
	case *Simple:
		walkAll(n.Targets, f)
		if n.Value != nil {
			Walk(n.Value, f)
		}
	default:
		walkExpr(n, f)
	}
}

// Children that may be absent are tested before Walk is called: a
// statement holds one of nine kinds and a primary is rarely a list, a map
// or parentheses, so most children are nil, and calling Walk for each
// costs a conversion to Node and a dynamic isNil per child.

// walkStmt visits the one statement a Stmt holds.
func walkStmt(s *Stmt, f func(Node) bool) {
	if s.Let != nil {
		Walk(s.Let, f)
	}
	if s.If != nil {
		Walk(s.If, f)
	}
	if s.For != nil {
		Walk(s.For, f)
	}
	if s.While != nil {
		Walk(s.While, f)
	}
	if s.Break != nil {
		Walk(s.Break, f)
	}
	if s.Return != nil {
		Walk(s.Return, f)
	}
	if s.Try != nil {
		Walk(s.Try, f)
	}
	if s.Block != nil {
		Walk(s.Block, f)
	}
	if s.Simple != nil {
		Walk(s.Simple, f)
	}
}

// walkExpr visits the children of the expression nodes, from the loosest
// level (Expr) down to literals.
func walkExpr(n Node, f func(Node) bool) {
	switch n := n.(type) {
	case *Expr:
		if n.Body != nil {
			Walk(n.Body, f)
		}
		if n.Cond != nil {
			Walk(n.Cond, f)
		}
		if n.Else != nil {
			Walk(n.Else, f)
		}
	case *Or:
		walkAll(n.Terms, f)
	case *And:
		walkAll(n.Terms, f)
	case *Not:
		if n.Negated != nil {
			Walk(n.Negated, f)
		}
		if n.Cmp != nil {
			Walk(n.Cmp, f)
		}
	case *Comparison:
		if n.Left != nil {
			Walk(n.Left, f)
		}
		walkAll(n.Rests, f)
	case *CmpOp:
		if n.Right != nil {
			Walk(n.Right, f)
		}
	case *Sum:
		if n.Left != nil {
			Walk(n.Left, f)
		}
		walkAll(n.Rests, f)
	case *SumOp:
		if n.Right != nil {
			Walk(n.Right, f)
		}
	case *Product:
		if n.Left != nil {
			Walk(n.Left, f)
		}
		walkAll(n.Rests, f)
	case *MulOp:
		if n.Right != nil {
			Walk(n.Right, f)
		}
	case *Unary:
		if n.Operand != nil {
			Walk(n.Operand, f)
		}
		if n.Power != nil {
			Walk(n.Power, f)
		}
	case *Power:
		if n.Base != nil {
			Walk(n.Base, f)
		}
		if n.Exponent != nil {
			Walk(n.Exponent, f)
		}
	case *Postfix:
		if n.Primary != nil {
			Walk(n.Primary, f)
		}
		walkAll(n.Suffixes, f)
	case *Suffix:
		if n.Call != nil {
			Walk(n.Call, f)
		}
		if n.Index != nil {
			Walk(n.Index, f)
		}
	case *Call:
		walkAll(n.Args, f)
	case *Arg:
		if n.Value != nil {
			Walk(n.Value, f)
		}
	case *Index:
		if n.Start != nil {
			Walk(n.Start, f)
		}
		if n.End != nil {
			Walk(n.End, f)
		}
		if n.Step != nil {
			Walk(n.Step, f)
		}
	case *Primary:
		if n.List != nil {
			Walk(n.List, f)
		}
		if n.Map != nil {
			Walk(n.Map, f)
		}
		if n.Paren != nil {
			Walk(n.Paren, f)
		}
	case *ListLit:
		if n.First != nil {
			Walk(n.First, f)
		}
		if n.Comp != nil {
			Walk(n.Comp, f)
		}
		walkAll(n.Rest, f)
	case *CompFor:
		if n.Iter != nil {
			Walk(n.Iter, f)
		}
		walkAll(n.Conds, f)
		if n.Next != nil {
			Walk(n.Next, f)
		}
	case *MapLit:
		walkAll(n.Entries, f)
	case *MapEntry:
		if n.Key != nil {
			Walk(n.Key, f)
		}
		if n.Value != nil {
			Walk(n.Value, f)
		}
	default:
		panic("lang.Walk: unexpected node type")
	}
}

func walkAll[T Node](nodes []T, f func(Node) bool) {
	for _, n := range nodes {
		Walk(n, f)
	}
}
