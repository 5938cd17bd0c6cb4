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
		Walk(n.Const, f)
		Walk(n.Func, f)
		Walk(n.Actor, f)
	case *Decorator:
		walkAll(n.Args, f)
	case *Const:
		Walk(n.Value, f)
	case *Func:
		walkAll(n.Params, f)
		Walk(n.Result, f)
		Walk(n.Body, f)
	case *Param:
		Walk(n.Type, f)
		Walk(n.Default, f)
	case *TypeRef, *Jump:
		// leaves
	case *Actor:
		walkAll(n.Params, f)
		walkAll(n.Members, f)
	case *ActorMember:
		Walk(n.Field, f)
		Walk(n.Method, f)
	case *Method:
		walkAll(n.Params, f)
		Walk(n.Result, f)
		Walk(n.Body, f)
	case *Block:
		walkAll(n.Stmts, f)
	case *Stmt:
		walkStmt(n, f)
	case *Let:
		Walk(n.Value, f)
	case *If:
		Walk(n.Cond, f)
		Walk(n.Then, f)
		Walk(n.ElseIf, f)
		Walk(n.Else, f)
	case *For:
		Walk(n.Iter, f)
		Walk(n.Body, f)
	case *While:
		Walk(n.Cond, f)
		Walk(n.Body, f)
	case *Return:
		Walk(n.Value, f)
	case *Try:
		Walk(n.Body, f)
		Walk(n.Handler, f)
	case *Simple:
		walkAll(n.Targets, f)
		Walk(n.Value, f)
	default:
		walkExpr(n, f)
	}
}

// walkStmt visits the one statement a Stmt holds.
func walkStmt(s *Stmt, f func(Node) bool) {
	Walk(s.Let, f)
	Walk(s.If, f)
	Walk(s.For, f)
	Walk(s.While, f)
	Walk(s.Break, f)
	Walk(s.Return, f)
	Walk(s.Try, f)
	Walk(s.Block, f)
	Walk(s.Simple, f)
}

// walkExpr visits the children of the expression nodes, from the loosest
// level (Expr) down to literals.
func walkExpr(n Node, f func(Node) bool) {
	switch n := n.(type) {
	case *Expr:
		Walk(n.Body, f)
		Walk(n.Cond, f)
		Walk(n.Else, f)
	case *Or:
		walkAll(n.Terms, f)
	case *And:
		walkAll(n.Terms, f)
	case *Not:
		Walk(n.Negated, f)
		Walk(n.Cmp, f)
	case *Comparison:
		Walk(n.Left, f)
		walkAll(n.Rests, f)
	case *CmpOp:
		Walk(n.Right, f)
	case *Sum:
		Walk(n.Left, f)
		walkAll(n.Rests, f)
	case *SumOp:
		Walk(n.Right, f)
	case *Product:
		Walk(n.Left, f)
		walkAll(n.Rests, f)
	case *MulOp:
		Walk(n.Right, f)
	case *Unary:
		Walk(n.Operand, f)
		Walk(n.Power, f)
	case *Power:
		Walk(n.Base, f)
		Walk(n.Exponent, f)
	case *Postfix:
		Walk(n.Primary, f)
		walkAll(n.Suffixes, f)
	case *Suffix:
		Walk(n.Call, f)
		Walk(n.Index, f)
	case *Call:
		walkAll(n.Args, f)
	case *Arg:
		Walk(n.Value, f)
	case *Index:
		Walk(n.Start, f)
		Walk(n.End, f)
		Walk(n.Step, f)
	case *Primary:
		Walk(n.List, f)
		Walk(n.Map, f)
		Walk(n.Paren, f)
	case *ListLit:
		Walk(n.First, f)
		Walk(n.Comp, f)
		walkAll(n.Rest, f)
	case *CompFor:
		Walk(n.Iter, f)
		walkAll(n.Conds, f)
		Walk(n.Next, f)
	case *MapLit:
		walkAll(n.Entries, f)
	case *MapEntry:
		Walk(n.Key, f)
		Walk(n.Value, f)
	default:
		panic("lang.Walk: unexpected node type")
	}
}

func walkAll[T Node](nodes []T, f func(Node) bool) {
	for _, n := range nodes {
		Walk(n, f)
	}
}
