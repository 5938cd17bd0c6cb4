package lang

// The AST is also the grammar: participle fills these structs from the
// `parser:"..."` tags. Every node carries the position where it starts.
// Fields without a parser tag are filled by the compiler (resolution); the
// parser leaves them alone.

// File is one source file: a list of top-level declarations.
type File struct {
	Pos   Position
	Decls []*Decl `parser:"EOL* ( @@ EOL+ )*"`

	Name   string // file name, set by Parse
	Source string // the source text, for error reports
}

// Decl is a top-level declaration with its decorators.
type Decl struct {
	Pos        Position
	Decorators []*Decorator `parser:"( @@ EOL* )*"`
	Const      *Const       `parser:"(   @@"`
	Func       *Func        `parser:"  | @@"`
	Actor      *Actor       `parser:"  | @@ )"`
}

// Decorator is `@name` or `@name(args)` before a declaration.
type Decorator struct {
	Pos  Position
	Name string `parser:"'@' @Ident"`
	Args []*Arg `parser:"( '(' ( @@ ( ',' @@ )* ','? )? ')' )?"`
}

// Const is `const NAME = expr`.
type Const struct {
	Pos   Position
	Name  string `parser:"'const' @Ident"`
	Value *Expr  `parser:"'=' @@"`
}

// Func is a `fn`, `task` or `pipeline` declaration.
type Func struct {
	Pos    Position
	Kind   string   `parser:"@( 'fn' | 'task' | 'pipeline' )"`
	Name   string   `parser:"@Ident"`
	Params []*Param `parser:"'(' ( @@ ( ',' @@ )* ','? )? ')'"`
	Result *TypeRef `parser:"( '->' @@ )?"`
	Body   *Block   `parser:"@@"`
}

// Param is one parameter: `name`, `name: type`, `name = default`.
type Param struct {
	Pos     Position
	Name    string   `parser:"@Ident"`
	Type    *TypeRef `parser:"( ':' @@ )?"`
	Default *Expr    `parser:"( '=' @@ )?"`
}

// TypeRef names a type in an annotation: `int`, `list`, `tensor`, ...
type TypeRef struct {
	Pos  Position
	Name string `parser:"( @Ident | @'none' )"`
}

// Actor is `actor Name(params) { let fields; methods }`.
type Actor struct {
	Pos     Position
	Name    string         `parser:"'actor' @Ident"`
	Params  []*Param       `parser:"'(' ( @@ ( ',' @@ )* ','? )? ')'"`
	Members []*ActorMember `parser:"'{' EOL* ( @@ EOL+ )* '}'"`
}

// ActorMember is a field (`let`) or a method of an actor.
type ActorMember struct {
	Pos    Position
	Field  *Let    `parser:"  @@"`
	Method *Method `parser:"| @@"`
}

// Method is `method name(params) -> type { body }` inside an actor.
type Method struct {
	Pos    Position
	Name   string   `parser:"'method' @Ident"`
	Params []*Param `parser:"'(' ( @@ ( ',' @@ )* ','? )? ')'"`
	Result *TypeRef `parser:"( '->' @@ )?"`
	Body   *Block   `parser:"@@"`
}

// Block is `{ statements }`.
type Block struct {
	Pos    Position
	Stmts  []*Stmt  `parser:"'{' EOL* ( @@ EOL+ )* '}'"`
	EndPos Position // the position of the closing '}'
}

// Stmt is one statement.
type Stmt struct {
	Pos    Position
	Let    *Let    `parser:"  @@"`
	If     *If     `parser:"| @@"`
	For    *For    `parser:"| @@"`
	While  *While  `parser:"| @@"`
	Break  *Jump   `parser:"| @@"`
	Return *Return `parser:"| @@"`
	Try    *Try    `parser:"| @@"`
	Block  *Block  `parser:"| @@"`
	Simple *Simple `parser:"| @@"`
}

// Let is `let a = expr` or `let a, b = pair`.
type Let struct {
	Pos   Position
	Names []string `parser:"'let' @Ident ( ',' @Ident )*"`
	Value *Expr    `parser:"'=' @@"`

	Slots []int // resolved frame slots of Names
}

// If is `if cond { } else if cond { } else { }`.
type If struct {
	Pos    Position
	Cond   *Expr  `parser:"'if' (?! '{') @@"`
	Then   *Block `parser:"@@"`
	ElseIf *If    `parser:"( 'else' ( @@"`
	Else   *Block `parser:"         | @@ ) )?"`
}

// For is `for x in xs { }` or `for i, x in xs { }`.
type For struct {
	Pos   Position
	Names []string `parser:"'for' @Ident ( ',' @Ident )?"`
	Iter  *Expr    `parser:"'in' (?! '{') @@"`
	Body  *Block   `parser:"@@"`

	Slots []int
}

// While is `while cond { }`.
type While struct {
	Pos  Position
	Cond *Expr  `parser:"'while' (?! '{') @@"`
	Body *Block `parser:"@@"`
}

// Jump is `break` or `continue`.
type Jump struct {
	Pos  Position
	Kind string `parser:"@( 'break' | 'continue' )"`
}

// Return is `return` or `return expr`.
type Return struct {
	Pos   Position
	Value *Expr `parser:"'return' @@?"`
}

// Try is `try { } catch err { }`.
type Try struct {
	Pos     Position
	Body    *Block `parser:"'try' @@"`
	ErrName string `parser:"'catch' @Ident?"`
	Handler *Block `parser:"@@"`

	ErrSlot int
}

// Simple is an expression statement or an assignment:
// `f(x)`, `x = e`, `a, b = pair`, `xs[i] += 1`. Several targets need `=`.
// When Op is set, every target is a name, an element `a[i]` or a field
// `a.b` (the parser checks it).
type Simple struct {
	Pos     Position
	Targets []*Expr `parser:"(?! '{') ( @@ (?! ',') | @@ ( ',' @@ )+ (?= '=') )"`
	Op      string  `parser:"( @( '=' | '+=' | '-=' | '*=' | '/=' | '//=' | '%=' )"`
	Value   *Expr   `parser:"  @@ )?"`
}

// Expr is the loosest expression: `a if cond else b`.
type Expr struct {
	Pos  Position
	Body *Or   `parser:"@@"`
	Cond *Or   `parser:"( 'if' @@"`
	Else *Expr `parser:"  'else' @@ )?"`
}

// Or is `a or b or c`.
type Or struct {
	Pos   Position
	Terms []*And `parser:"@@ ( 'or' @@ )*"`
}

// And is `a and b and c`.
type And struct {
	Pos   Position
	Terms []*Not `parser:"@@ ( 'and' @@ )*"`
}

// Not is `not x`, or a comparison.
type Not struct {
	Pos     Position
	Negated *Not        `parser:"  'not' @@"`
	Cmp     *Comparison `parser:"| @@"`
}

// Comparison is `a < b`, chained as in Python: `a < b < c`.
type Comparison struct {
	Pos   Position
	Left  *Sum     `parser:"@@"`
	Rests []*CmpOp `parser:"@@*"`
}

// CmpOp is one comparison operator with its right operand. Op is one of
// `== != <= >= < > in` or "not in" (one space).
type CmpOp struct {
	Pos   Position
	Op    string `parser:"@( '==' | '!=' | '<=' | '>=' | '<' | '>' | 'in' | 'not' 'in' )"`
	Right *Sum   `parser:"@@"`
}

// Sum is `a + b - c`.
type Sum struct {
	Pos   Position
	Left  *Product `parser:"@@"`
	Rests []*SumOp `parser:"@@*"`
}

// SumOp is one `+ x` or `- x`.
type SumOp struct {
	Pos   Position
	Op    string   `parser:"@( '+' | '-' )"`
	Right *Product `parser:"@@"`
}

// Product is `a * b / c // d % e`.
type Product struct {
	Pos   Position
	Left  *Unary   `parser:"@@"`
	Rests []*MulOp `parser:"@@*"`
}

// MulOp is one `* x`, `/ x`, `// x` or `% x`.
type MulOp struct {
	Pos   Position
	Op    string `parser:"@( '*' | '/' | '//' | '%' )"`
	Right *Unary `parser:"@@"`
}

// Unary is `-x`, `+x` or a power.
type Unary struct {
	Pos     Position
	Op      string `parser:"(  @( '-' | '+' )"`
	Operand *Unary `parser:"   @@"`
	Power   *Power `parser:") | @@"`
}

// Power is `base ** exponent`; it binds tighter than unary minus on its
// left and is right-associative: `-2 ** 2` is -4, `2 ** -1` is 0.5.
type Power struct {
	Pos      Position
	Base     *Postfix `parser:"@@"`
	Exponent *Unary   `parser:"( '**' @@ )?"`
}

// Postfix is a primary followed by calls, indexing and field access.
type Postfix struct {
	Pos      Position
	Primary  *Primary  `parser:"@@"`
	Suffixes []*Suffix `parser:"@@*"`
}

// Suffix is `(args)`, `[index]`, `[i:j]` or `.name`.
type Suffix struct {
	Pos   Position
	Call  *Call  `parser:"  @@"`
	Index *Index `parser:"| @@"`
	Field string `parser:"| '.' @Ident"`
}

// Call is an argument list.
type Call struct {
	Pos  Position
	Args []*Arg `parser:"'(' ( @@ ( ',' @@ )* ','? )? ')'"`
}

// Arg is a positional or keyword argument.
type Arg struct {
	Pos   Position
	Name  string `parser:"( @Ident '=' )?"`
	Value *Expr  `parser:"@@"`
}

// Index is `[i]` or a slice `[i:j]`, `[i:j:k]`; in a slice each part may
// be left out (`[:j]`, `[::2]`), but `[]` is an error.
type Index struct {
	Pos   Position
	Start *Expr `parser:"'[' ( @@?"`
	Slice bool  `parser:"    ( @':'"`
	End   *Expr `parser:"      @@?"`
	Step  *Expr `parser:"      ( ':' @@? )? )? )! ']'"`
}

// Primary is a literal, a name, or a bracketed expression.
type Primary struct {
	Pos    Position
	Float  *string  `parser:"  @Float"`
	Int    *string  `parser:"| @Int"`
	String *string  `parser:"| @String"`
	Bool   *string  `parser:"| @( 'true' | 'false' )"`
	None   bool     `parser:"| @'none'"`
	Name   string   `parser:"| @Ident"`
	List   *ListLit `parser:"| @@"`
	Map    *MapLit  `parser:"| @@"`
	Paren  *Expr    `parser:"| '(' @@ ')'"`

	Ref *Ref // what Name resolves to, set by the compiler
}

// ListLit is `[a, b]` or a comprehension `[f(x) for x in xs if p(x)]`.
type ListLit struct {
	Pos   Position
	First *Expr    `parser:"'[' ( @@"`
	Comp  *CompFor `parser:"  ( @@"`
	Rest  []*Expr  `parser:"  | ( ',' @@ )+ ','? | ',' )? )? ']'"`
}

// CompFor is the `for x in xs if cond` part of a comprehension.
type CompFor struct {
	Pos   Position
	Names []string `parser:"'for' @Ident ( ',' @Ident )?"`
	Iter  *Or      `parser:"'in' @@"`
	Conds []*Or    `parser:"( 'if' @@ )*"`
	Next  *CompFor `parser:"@@?"`

	Slots []int
}

// MapLit is `{k: v, ...}`.
type MapLit struct {
	Pos     Position
	Entries []*MapEntry `parser:"'{' ( @@ ( ',' @@ )* ','? )? '}'"`
}

// MapEntry is one `key: value`.
type MapEntry struct {
	Pos   Position
	Key   *Expr `parser:"@@"`
	Value *Expr `parser:"':' @@"`
}

// RefKind says what kind of thing a name refers to.
type RefKind int

// The kinds of reference a name can resolve to.
const (
	RefLocal   RefKind = iota // a slot in the current frame
	RefField                  // an actor field
	RefGlobal                 // a const or declaration of the program
	RefBuiltin                // a built-in function
	RefModule                 // a standard-library module
)

// Ref is a resolved name: a kind and an index whose meaning depends on it.
type Ref struct {
	Kind  RefKind
	Index int
	Name  string
}
