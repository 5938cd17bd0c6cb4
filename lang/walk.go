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
//
// Walk dispatches on n's type once; below it each node type has its own
// walker that calls its children's walkers directly, so a node costs one
// call of f and no type switch (an operand is eleven nodes deep, from Expr
// down to Primary, and several passes of the compiler and the planner walk
// every function).
func Walk(n Node, f func(Node) bool) {
	if n == nil || n.isNil() {
		return
	}
	switch n := n.(type) {
	case *File:
		walkFile(n, f)
	case *Decl:
		walkDecl(n, f)
	case *Decorator:
		walkDecorator(n, f)
	case *Const:
		walkConst(n, f)
	case *Func:
		walkFunc(n, f)
	case *Param:
		walkParam(n, f)
	case *TypeRef:
		walkTypeRef(n, f)
	case *Actor:
		walkActor(n, f)
	case *ActorMember:
		walkActorMember(n, f)
	case *Method:
		walkMethod(n, f)
	case *Block:
		walkBlock(n, f)
	case *Stmt:
		walkStmt(n, f)
	case *Let:
		walkLet(n, f)
	case *If:
		walkIf(n, f)
	case *For:
		walkFor(n, f)
	case *While:
		walkWhile(n, f)
	case *Jump:
		walkJump(n, f)
	case *Return:
		walkReturn(n, f)
	case *Try:
		walkTry(n, f)
	case *Simple:
		walkSimple(n, f)
	case *Expr:
		walkExpr(n, f)
	case *Or:
		walkOr(n, f)
	case *And:
		walkAnd(n, f)
	case *Not:
		walkNot(n, f)
	case *Comparison:
		walkComparison(n, f)
	case *CmpOp:
		walkCmpOp(n, f)
	case *Sum:
		walkSum(n, f)
	case *SumOp:
		walkSumOp(n, f)
	case *Product:
		walkProduct(n, f)
	case *MulOp:
		walkMulOp(n, f)
	case *Unary:
		walkUnary(n, f)
	case *Power:
		walkPower(n, f)
	case *Postfix:
		walkPostfix(n, f)
	case *Suffix:
		walkSuffix(n, f)
	case *Call:
		walkCall(n, f)
	case *Arg:
		walkArg(n, f)
	case *Index:
		walkIndex(n, f)
	case *Primary:
		walkPrimary(n, f)
	case *ListLit:
		walkListLit(n, f)
	case *CompFor:
		walkCompFor(n, f)
	case *MapLit:
		walkMapLit(n, f)
	case *MapEntry:
		walkMapEntry(n, f)
	default:
		panic("lang.Walk: unexpected node type")
	}
}

func walkFile(n *File, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Decls {
		walkDecl(c, f)
	}
}

func walkDecl(n *Decl, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Decorators {
		walkDecorator(c, f)
	}
	walkConst(n.Const, f)
	walkFunc(n.Func, f)
	walkActor(n.Actor, f)
}

func walkDecorator(n *Decorator, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Args {
		walkArg(c, f)
	}
}

func walkConst(n *Const, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Value, f)
}

func walkFunc(n *Func, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Params {
		walkParam(c, f)
	}
	walkTypeRef(n.Result, f)
	walkBlock(n.Body, f)
}

func walkParam(n *Param, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkTypeRef(n.Type, f)
	walkExpr(n.Default, f)
}

func walkTypeRef(n *TypeRef, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
}

func walkActor(n *Actor, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Params {
		walkParam(c, f)
	}
	for _, c := range n.Members {
		walkActorMember(c, f)
	}
}

func walkActorMember(n *ActorMember, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkLet(n.Field, f)
	walkMethod(n.Method, f)
}

func walkMethod(n *Method, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Params {
		walkParam(c, f)
	}
	walkTypeRef(n.Result, f)
	walkBlock(n.Body, f)
}

func walkBlock(n *Block, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Stmts {
		walkStmt(c, f)
	}
}

func walkStmt(n *Stmt, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkLet(n.Let, f)
	walkIf(n.If, f)
	walkFor(n.For, f)
	walkWhile(n.While, f)
	walkJump(n.Break, f)
	walkReturn(n.Return, f)
	walkTry(n.Try, f)
	walkBlock(n.Block, f)
	walkSimple(n.Simple, f)
}

func walkLet(n *Let, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Value, f)
}

func walkIf(n *If, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Cond, f)
	walkBlock(n.Then, f)
	walkIf(n.ElseIf, f)
	walkBlock(n.Else, f)
}

func walkFor(n *For, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Iter, f)
	walkBlock(n.Body, f)
}

func walkWhile(n *While, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Cond, f)
	walkBlock(n.Body, f)
}

func walkJump(n *Jump, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
}

func walkReturn(n *Return, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Value, f)
}

func walkTry(n *Try, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkBlock(n.Body, f)
	walkBlock(n.Handler, f)
}

func walkSimple(n *Simple, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Targets {
		walkExpr(c, f)
	}
	walkExpr(n.Value, f)
}

func walkExpr(n *Expr, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkOr(n.Body, f)
	walkOr(n.Cond, f)
	walkExpr(n.Else, f)
}

func walkOr(n *Or, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Terms {
		walkAnd(c, f)
	}
}

func walkAnd(n *And, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Terms {
		walkNot(c, f)
	}
}

func walkNot(n *Not, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkNot(n.Negated, f)
	walkComparison(n.Cmp, f)
}

func walkComparison(n *Comparison, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkSum(n.Left, f)
	for _, c := range n.Rests {
		walkCmpOp(c, f)
	}
}

func walkCmpOp(n *CmpOp, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkSum(n.Right, f)
}

func walkSum(n *Sum, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkProduct(n.Left, f)
	for _, c := range n.Rests {
		walkSumOp(c, f)
	}
}

func walkSumOp(n *SumOp, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkProduct(n.Right, f)
}

func walkProduct(n *Product, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkUnary(n.Left, f)
	for _, c := range n.Rests {
		walkMulOp(c, f)
	}
}

func walkMulOp(n *MulOp, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkUnary(n.Right, f)
}

func walkUnary(n *Unary, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkUnary(n.Operand, f)
	walkPower(n.Power, f)
}

func walkPower(n *Power, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkPostfix(n.Base, f)
	walkUnary(n.Exponent, f)
}

func walkPostfix(n *Postfix, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkPrimary(n.Primary, f)
	for _, c := range n.Suffixes {
		walkSuffix(c, f)
	}
}

func walkSuffix(n *Suffix, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkCall(n.Call, f)
	walkIndex(n.Index, f)
}

func walkCall(n *Call, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Args {
		walkArg(c, f)
	}
}

func walkArg(n *Arg, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Value, f)
}

func walkIndex(n *Index, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Start, f)
	walkExpr(n.End, f)
	walkExpr(n.Step, f)
}

func walkPrimary(n *Primary, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkListLit(n.List, f)
	walkMapLit(n.Map, f)
	walkExpr(n.Paren, f)
}

func walkListLit(n *ListLit, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.First, f)
	walkCompFor(n.Comp, f)
	for _, c := range n.Rest {
		walkExpr(c, f)
	}
}

func walkCompFor(n *CompFor, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkOr(n.Iter, f)
	for _, c := range n.Conds {
		walkOr(c, f)
	}
	walkCompFor(n.Next, f)
}

func walkMapLit(n *MapLit, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range n.Entries {
		walkMapEntry(c, f)
	}
}

func walkMapEntry(n *MapEntry, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkExpr(n.Key, f)
	walkExpr(n.Value, f)
}
