package lang

// The parser is hand-written recursive descent over the tokens of Lex, one
// function per AST node. The `parser:"..."` tags in ast.go are the grammar
// it implements, written for participle; the tests build a participle parser
// from them and check that both give the same tree, so the tags stay the
// reference. The parser is hand-written for two reasons that participle could
// not meet: it knows what it was parsing when it fails, so an error points at
// the token that is wrong and says what was expected there in the user's
// words, and it runs a hundred times faster (participle allocates a dozen
// nodes through reflection for every literal).
//
// The parser stops at the first syntax error, as starlark's does: later
// errors are mostly consequences of the first.

import (
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// maxDepth bounds the nesting of blocks and expressions, so that a
// pathological input fails with an error instead of exhausting the stack
// here or in later passes.
const maxDepth = 200

// maxChain bounds the operands of one chain of binary operators
// (a + b + ...): later passes compile and evaluate a chain as nested
// left-to-right steps, so a 4 MB `1+1+...` took 2 GB of stack and heap to
// compile. No hand-written expression comes near it.
const maxChain = 10000

// chained fails a chain of binary operators that has grown past
// maxChain operands.
func (p *parser) chained(n int, at Position) {
	if n >= maxChain {
		p.failAt(at, "expression too long: more than %d operands joined by operators; split it into several statements", maxChain)
	}
}

// Parse parses one source file. On failure the error is an ErrorList.
func Parse(filename, src string) (f *File, err error) {
	var p *parser
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, ErrorList{internalError(p, filename, r)}
		}
	}()
	s := scan(filename, src, false)
	if len(s.errors) > 0 {
		return nil, s.tokenErrors()
	}
	p = &parser{src: src, toks: s.toks}
	if perr := p.run(p.parseFile); perr != nil {
		return nil, ErrorList{preferLexer(perr, s.bracketErrors)}
	}
	if len(s.bracketErrors) > 0 {
		return nil, s.bracketErrors.Sort()
	}
	f = p.file
	f.Name = filename
	f.Source = src
	return f, nil
}

// ParseExpr parses a single expression (used by the REPL and for
// parameter values).
func ParseExpr(filename, src string) (e *Expr, err error) {
	var p *parser
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, ErrorList{internalError(p, filename, r)}
		}
	}()
	s := scan(filename, src, true)
	if len(s.errors) > 0 {
		return nil, s.tokenErrors()
	}
	p = &parser{src: src, toks: s.toks}
	perr := p.run(func() {
		e = p.parseExpr()
		for p.tok().Type == EOL {
			p.next()
		}
		if p.tok().Type != EOF {
			p.failAt(p.tok().Pos, "expected end of input after the expression, found %s", p.describe(p.tok()))
		}
	})
	if perr != nil {
		return nil, ErrorList{preferLexer(perr, s.bracketErrors)}
	}
	if len(s.bracketErrors) > 0 {
		return nil, s.bracketErrors.Sort()
	}
	return e, nil
}

// preferLexer picks the error to show when the parser failed on a file
// whose brackets do not match. The parser stops at or before the lexer's
// first bracket error; when both are at the same token, the lexer's message
// (which names both ends) is the one users and tests know.
func preferLexer(perr *Error, bracketErrs ErrorList) *Error {
	if len(bracketErrs) > 0 {
		first := bracketErrs.Sort()[0]
		if first.Pos.Offset <= perr.Pos.Offset {
			return first
		}
	}
	return perr
}

// internalError turns a panic into an error a user can report.
func internalError(p *parser, filename string, r any) *Error {
	pos := Position{Filename: filename, Line: 1, Column: 1}
	if p != nil && len(p.toks) > 0 {
		pos = p.tok().Pos
	}
	return &Error{Pos: pos, Msg: fmt.Sprintf(
		"internal error: the parser failed on this input (%v); please report a bug with this file and the following trace:\n%s",
		r, debug.Stack())}
}

// parser is the state of one parse. Methods that fail call fail, which
// unwinds to run with a bailout.
type parser struct {
	src   string
	toks  []lexer.Token
	i     int
	depth int
	file  *File
	err   *Error
	nodes arena
}

// bailout is the panic value that unwinds the parser to run.
type bailout struct{}

// run calls parse and returns the syntax error it failed with, if any.
// Other panics pass through to the recover in Parse.
func (p *parser) run(parse func()) (err *Error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			err = p.err
		}
	}()
	parse()
	return nil
}

func (p *parser) failAt(pos Position, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.err = &Error{Pos: pos, Msg: withHint(msg, p.pythonHint(msg))}
	panic(bailout{})
}

// tok is the current token. The token list always ends with EOF.
func (p *parser) tok() lexer.Token { return p.toks[p.i] }

// peek is the token n places after the current one.
func (p *parser) peek(n int) lexer.Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

// next consumes the current token and returns it.
func (p *parser) next() lexer.Token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// is reports whether the current token is the keyword or punctuation v.
func (p *parser) is(v string) bool { return isSym(p.tok(), v) }

func isSym(t lexer.Token, v string) bool {
	return (t.Type == Keyword || t.Type == Punct) && t.Value == v
}

// got consumes the current token if it is the keyword or punctuation v.
func (p *parser) got(v string) bool {
	if p.is(v) {
		p.next()
		return true
	}
	return false
}

func (p *parser) skipEOLs() {
	for p.tok().Type == EOL {
		p.next()
	}
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failAt(p.tok().Pos, "code nested too deeply (more than %d levels of blocks or brackets)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// atEOF reports whether t is the end of the file, or the EOL that the lexer
// adds just before it.
func (p *parser) atEOF(t lexer.Token) bool {
	return t.Type == EOF || t.Type == EOL && t.Pos.Offset >= len(p.src)
}

// describe names a token as the user wrote it, for "found ..." in messages.
func (p *parser) describe(t lexer.Token) string {
	switch {
	case p.atEOF(t):
		return "end of file"
	case t.Type == EOL && t.Value == ";":
		return "';'"
	case t.Type == EOL && t.Value == "":
		return "'}'" // the lexer ends a statement just before '}'
	case t.Type == EOL:
		return "end of line"
	case t.Type == String:
		text := p.rawText(t)
		if utf8.RuneCountInString(text) > 20 {
			text = string([]rune(text)[:16]) + "...\""
		}
		return "string " + text
	}
	return "'" + t.Value + "'"
}

// rawText is the source text of token t.
func (p *parser) rawText(t lexer.Token) string {
	start := t.Pos.Offset
	if t.Type != String {
		return t.Value
	}
	end := start + 1
	for end < len(p.src) && p.src[end] != '"' && p.src[end] != '\n' {
		if p.src[end] == '\\' {
			end++
		}
		end++
	}
	if end < len(p.src) && p.src[end] == '"' {
		end++
	}
	if end > len(p.src) {
		end = len(p.src)
	}
	return p.src[start:end]
}

// endOf is the position just after token t.
func (p *parser) endOf(t lexer.Token) Position {
	text := p.rawText(t)
	pos := t.Pos
	pos.Offset += len(text)
	pos.Column += utf8.RuneCountInString(text)
	return pos
}

// expected fails with "expected WHAT after AFTER, found TOKEN" at the
// current token. When the current token is the end of the line, or on a
// later line than the previous one, the error points just after the
// previous token instead: that is where something is missing, and the
// "found" part would only name an unrelated line.
func (p *parser) expected(what, after string) {
	msg := "expected " + what
	if after != "" {
		msg += " after " + after
	}
	t := p.tok()
	var prev lexer.Token
	if p.i > 0 {
		prev = p.toks[p.i-1]
	}
	if p.i > 0 && (p.atEOF(t) || t.Type == EOL && t.Value == "\n" || t.Pos.Line > prev.Pos.Line) &&
		prev.Type != EOL {
		if p.atEOF(t) {
			msg += ", found end of file"
		}
		p.failAt(p.endOf(prev), "%s", msg)
	}
	p.failAt(t.Pos, "%s, found %s", msg, p.describe(t))
}

// prevDesc describes the previous token, for "after ..." in messages.
func (p *parser) prevDesc() string {
	if p.i == 0 {
		return ""
	}
	return p.describe(p.toks[p.i-1])
}

// name consumes a name; after says what it follows, for the error.
func (p *parser) name(what, after string) string {
	if t := p.tok(); t.Type == Keyword {
		p.failAt(t.Pos, "expected %s after %s, found '%s', which is a reserved word", what, after, t.Value)
	} else if t.Type != Ident {
		p.expected(what, after)
	}
	return p.next().Value
}

// fieldName reads the name after '.': any name, a reserved word too
// (err.task), since nothing else can stand there.
func (p *parser) fieldName() string {
	if t := p.tok(); t.Type == Keyword {
		return p.next().Value
	}
	return p.name("a field or method name", "'.'")
}

// closeErr fails at a token where the closer of open was expected.
func (p *parser) closeErr(open lexer.Token, what string) {
	t := p.tok()
	p.failAt(t.Pos, "expected '%s' to close the %s opened at %d:%d, found %s",
		closerOf[open.Value], what, open.Pos.Line, open.Pos.Column, p.describe(t))
}

// listEnd is called after an item of a bracketed, comma-separated list
// when neither ',' nor the closer follows.
func (p *parser) listEnd(open lexer.Token, what, item string) {
	t := p.tok()
	if t.Type == EOL || t.Type == EOF || t.Type == Keyword && !canStartExpr(t) ||
		t.Type == Punct && strings.Contains(")]}", t.Value) {
		p.closeErr(open, what)
	}
	p.expected(fmt.Sprintf("',' or '%s'", closerOf[open.Value]), item)
}

// commaList parses `( item ( ',' item )* ','? )? closer` after open.
func (p *parser) commaList(open lexer.Token, what, item string, parseItem func()) {
	closer := closerOf[open.Value]
	p.enter()
	for !p.is(closer) {
		if p.atEOF(p.tok()) {
			p.closeErr(open, what)
		}
		parseItem()
		if p.got(",") {
			continue
		}
		if !p.is(closer) {
			p.listEnd(open, what, "the "+item)
		}
	}
	p.leave()
	p.next()
}

// ---- declarations ----

func (p *parser) parseFile() {
	f := &File{Pos: p.tok().Pos}
	p.file = f
	p.skipEOLs()
	for p.tok().Type != EOF {
		d := p.parseDecl()
		f.Decls = append(f.Decls, d)
		if p.tok().Type != EOL {
			p.expected("end of line", "the declaration")
		}
		p.skipEOLs()
	}
}

// declWords are the keywords that start a declaration.
var declWords = map[string]bool{"const": true, "fn": true, "task": true, "pipeline": true, "actor": true}

func (p *parser) parseDecl() *Decl {
	d := &Decl{Pos: p.tok().Pos}
	for p.is("@") {
		d.Decorators = append(d.Decorators, p.parseDecorator())
		p.skipEOLs()
	}
	t := p.tok()
	switch {
	case isSym(t, "const"):
		d.Const = p.parseConst()
	case isSym(t, "fn"), isSym(t, "task"), isSym(t, "pipeline"):
		d.Func = p.parseFunc()
	case isSym(t, "actor"):
		d.Actor = p.parseActor()
	case len(d.Decorators) > 0:
		p.expected("'fn', 'task', 'actor' or 'pipeline'", "the decorators")
	case t.Type == Keyword && stmtWords[t.Value] || t.Type == Ident:
		p.failAt(t.Pos, "expected a declaration (const, fn, task, actor or pipeline), found %s; statements belong inside a function or pipeline", p.describe(t))
	case isSym(t, "method"):
		p.failAt(t.Pos, "unexpected 'method' outside an actor")
	default:
		p.failAt(t.Pos, "expected a declaration (const, fn, task, actor or pipeline), found %s", p.describe(t))
	}
	return d
}

func (p *parser) parseDecorator() *Decorator {
	d := &Decorator{Pos: p.next().Pos}
	d.Name = p.name("a decorator name", "'@'")
	if p.is("(") {
		open := p.next()
		p.commaList(open, "call", "argument", func() { d.Args = append(d.Args, p.parseArg()) })
	}
	return d
}

func (p *parser) parseConst() *Const {
	c := &Const{Pos: p.next().Pos}
	c.Name = p.name("a name", "'const'")
	if !p.got("=") {
		p.expected("'='", "the name in 'const'")
	}
	c.Value = p.parseExprAfter()
	return c
}

// kindNames are how a declaration keyword is called in messages.
var kindNames = map[string]string{"fn": "function", "task": "task", "pipeline": "pipeline", "method": "method", "actor": "actor"}

func (p *parser) parseFunc() *Func {
	kw := p.next()
	f := &Func{Pos: kw.Pos, Kind: kw.Value}
	f.Name = p.name("a name", "'"+kw.Value+"'")
	what := kindNames[kw.Value] + " '" + f.Name + "'"
	f.Params = p.parseParams(what)
	f.Result = p.parseResult()
	f.Body = p.parseBody("the body of " + what)
	return f
}

func (p *parser) parseParams(what string) []*Param {
	if !p.is("(") {
		p.expected("'(' to start the parameters of "+what, "")
	}
	var params []*Param
	open := p.next()
	p.commaList(open, "parameter list", "parameter", func() { params = append(params, p.parseParam()) })
	return params
}

func (p *parser) parseParam() *Param {
	pm := &Param{Pos: p.tok().Pos}
	pm.Name = p.name("a parameter name", p.prevDesc())
	if p.got(":") {
		pm.Type = p.parseTypeRef("':'")
	}
	if p.got("=") {
		pm.Default = p.parseExprAfter()
	}
	return pm
}

func (p *parser) parseResult() *TypeRef {
	if p.got("->") {
		return p.parseTypeRef("'->'")
	}
	return nil
}

func (p *parser) parseTypeRef(after string) *TypeRef {
	t := p.tok()
	if t.Type != Ident && !isSym(t, "none") {
		p.expected("a type name", after)
	}
	p.next()
	return &TypeRef{Pos: t.Pos, Name: t.Value}
}

func (p *parser) parseActor() *Actor {
	a := &Actor{Pos: p.next().Pos}
	a.Name = p.name("a name", "'actor'")
	what := "actor '" + a.Name + "'"
	a.Params = p.parseParams(what)
	if !p.is("{") {
		p.expectedBrace("to start the body of " + what)
	}
	open := p.next()
	p.enter()
	for {
		p.skipEOLs()
		t := p.tok()
		switch {
		case isSym(t, "}"):
			p.next()
			p.leave()
			return a
		case t.Type == EOF:
			p.closeErr(open, "block")
		case isSym(t, "let"):
			a.Members = append(a.Members, &ActorMember{Pos: t.Pos, Field: p.parseLet()})
		case isSym(t, "method"):
			a.Members = append(a.Members, &ActorMember{Pos: t.Pos, Method: p.parseMethod()})
		case isSym(t, "fn"):
			p.failAt(t.Pos, "expected 'let' or 'method' in the body of %s, found 'fn'; functions of an actor are declared with 'method'", what)
		default:
			p.failAt(t.Pos, "expected 'let' or 'method' in the body of %s, found %s", what, p.describe(t))
		}
		if p.tok().Type != EOL {
			p.expected("end of line", "the actor member")
		}
	}
}

func (p *parser) parseMethod() *Method {
	m := &Method{Pos: p.next().Pos}
	m.Name = p.name("a name", "'method'")
	what := "method '" + m.Name + "'"
	m.Params = p.parseParams(what)
	m.Result = p.parseResult()
	m.Body = p.parseBody("the body of " + what)
	return m
}

// ---- statements ----

// expectedBrace fails where a '{' was expected.
func (p *parser) expectedBrace(purpose string) {
	t := p.tok()
	if isSym(t, "=") {
		p.failAt(t.Pos, "expected '{' %s, found '='; use '==' to compare", purpose)
	}
	p.expected("'{' "+purpose, "")
}

// parseBody parses a block that must follow; purpose names it for errors.
func (p *parser) parseBody(purpose string) *Block {
	if !p.is("{") {
		if t := p.tok(); t.Type == EOL && t.Value == "\n" && isSym(p.peek(1), "{") {
			p.failAt(p.endOf(p.toks[p.i-1]), "expected '{' to start %s on the same line", purpose)
		}
		p.expectedBrace("to start " + purpose)
	}
	return p.parseBlock()
}

func (p *parser) parseBlock() *Block {
	open := p.next()
	b := &Block{Pos: open.Pos}
	p.enter()
	for {
		p.skipEOLs()
		t := p.tok()
		if isSym(t, "}") {
			b.EndPos = t.Pos
			p.next()
			p.leave()
			return b
		}
		if t.Type == EOF {
			p.closeErr(open, "block")
		}
		b.Stmts = append(b.Stmts, p.parseStmt())
		if p.tok().Type != EOL {
			p.expected("end of line or ';'", "a statement")
		}
	}
}

// stmtWords are the keywords that start a statement.
var stmtWords = map[string]bool{
	"let": true, "if": true, "for": true, "while": true, "break": true,
	"continue": true, "return": true, "try": true,
}

func (p *parser) parseStmt() *Stmt {
	t := p.tok()
	s := &Stmt{Pos: t.Pos}
	switch {
	case isSym(t, "let"):
		s.Let = p.parseLet()
	case isSym(t, "if"):
		s.If = p.parseIf()
	case isSym(t, "for"):
		s.For = p.parseFor()
	case isSym(t, "while"):
		s.While = p.parseWhile()
	case isSym(t, "break"), isSym(t, "continue"):
		s.Break = &Jump{Pos: t.Pos, Kind: p.next().Value}
	case isSym(t, "return"):
		p.next()
		s.Return = &Return{Pos: t.Pos}
		if canStartExpr(p.tok()) {
			s.Return.Value = p.parseExpr()
		}
	case isSym(t, "try"):
		s.Try = p.parseTry()
	case isSym(t, "{"):
		s.Block = p.parseBlock()
	case canStartExpr(t):
		s.Simple = p.parseSimple()
	case isSym(t, "else"):
		p.failAt(t.Pos, "unexpected 'else' without an 'if' before it")
	case isSym(t, "catch"):
		p.failAt(t.Pos, "unexpected 'catch' without a 'try' before it")
	case t.Type == Keyword && (declWords[t.Value] || t.Value == "method"):
		p.failAt(t.Pos, "unexpected '%s': declarations are only allowed at the top level of a file", t.Value)
	default:
		p.failAt(t.Pos, "expected a statement, found %s", p.describe(t))
	}
	return s
}

func (p *parser) parseLet() *Let {
	l := &Let{Pos: p.next().Pos}
	l.Names = append(l.Names, p.name("a name", "'let'"))
	for p.got(",") {
		l.Names = append(l.Names, p.name("a name", "','"))
	}
	if !p.got("=") {
		p.expected("'='", "the names in 'let'")
	}
	l.Value = p.parseExprAfter()
	return l
}

// parseCond parses the condition of if/while or the iterable of for,
// which must not start with '{' (that would be the body).
func (p *parser) parseCond(what, after string) *Expr {
	if p.is("{") || !canStartExpr(p.tok()) {
		p.expected(what, after)
	}
	return p.parseExpr()
}

func (p *parser) parseIf() *If {
	n := &If{Pos: p.next().Pos}
	n.Cond = p.parseCond("a condition", "'if'")
	n.Then = p.parseBody("the body of 'if'")
	if p.got("else") {
		switch {
		case p.is("if"):
			p.enter()
			n.ElseIf = p.parseIf()
			p.leave()
		case p.is("{"):
			n.Else = p.parseBlock()
		default:
			p.expected("'if' or '{'", "'else'")
		}
	}
	return n
}

func (p *parser) parseFor() *For {
	n := &For{Pos: p.next().Pos}
	n.Names = p.loopNames("'for'")
	n.Iter = p.parseCond("an expression", "'in'")
	n.Body = p.parseBody("the body of 'for'")
	return n
}

// loopNames parses `name (',' name)? 'in'` of a for loop or comprehension.
func (p *parser) loopNames(after string) []string {
	names := []string{p.name("a loop variable", after)}
	if p.got(",") {
		names = append(names, p.name("a second loop variable", "','"))
	}
	if !p.got("in") {
		if p.is(",") {
			p.failAt(p.tok().Pos, "expected 'in' after the loop variables, found ','; a loop has at most two variables")
		}
		p.expected("'in'", "the loop variables")
	}
	return names
}

func (p *parser) parseWhile() *While {
	n := &While{Pos: p.next().Pos}
	n.Cond = p.parseCond("a condition", "'while'")
	n.Body = p.parseBody("the body of 'while'")
	return n
}

func (p *parser) parseTry() *Try {
	n := &Try{Pos: p.next().Pos}
	n.Body = p.parseBody("the body of 'try'")
	if !p.got("catch") {
		p.expected("'catch'", "the body of 'try'")
	}
	if p.tok().Type == Ident {
		n.ErrName = p.next().Value
	} else if !p.is("{") {
		p.expected("a name for the error or '{'", "'catch'")
	}
	n.Handler = p.parseBody("the body of 'catch'")
	return n
}

// assignOps are the operators of an assignment statement.
var assignOps = map[string]bool{"=": true, "+=": true, "-=": true, "*=": true, "/=": true, "//=": true, "%=": true}

func (p *parser) parseSimple() *Simple {
	s := &Simple{Pos: p.tok().Pos}
	s.Targets = append(s.Targets, p.parseExpr())
	for p.got(",") {
		s.Targets = append(s.Targets, p.parseExpr())
	}
	t := p.tok()
	if t.Type == Punct && assignOps[t.Value] {
		if len(s.Targets) > 1 && t.Value != "=" {
			p.failAt(t.Pos, "'%s' takes a single target, not %d", t.Value, len(s.Targets))
		}
		s.Op = p.next().Value
		s.Value = p.parseExprAfter()
	} else if len(s.Targets) > 1 {
		p.expected("'='", "the targets of an assignment")
	}
	if s.Op != "" {
		for _, target := range s.Targets {
			if msg := badTarget(target); msg != "" {
				p.failAt(target.Pos, "cannot assign to %s; only a name, an element a[i] or a field a.b can be assigned", msg)
			}
		}
	}
	return s
}

// badTarget describes what target is when it cannot be assigned to, or
// returns "".
func badTarget(e *Expr) string {
	const expr = "an expression"
	if e.Cond != nil || len(e.Body.Terms) != 1 || len(e.Body.Terms[0].Terms) != 1 {
		return expr
	}
	cmp := e.Body.Terms[0].Terms[0].Cmp
	if cmp == nil || len(cmp.Rests) > 0 || len(cmp.Left.Rests) > 0 || len(cmp.Left.Left.Rests) > 0 {
		return expr
	}
	pw := cmp.Left.Left.Left.Power
	if pw == nil || pw.Exponent != nil {
		return expr
	}
	post := pw.Base
	if n := len(post.Suffixes); n > 0 {
		switch last := post.Suffixes[n-1]; {
		case last.Call != nil:
			return "a call"
		case last.Index != nil && last.Index.Slice:
			return "a slice"
		}
		return ""
	}
	switch prim := post.Primary; {
	case prim.Name != "":
		return ""
	case prim.Paren != nil:
		return "an expression in parentheses"
	case prim.List != nil:
		return "a list"
	case prim.Map != nil:
		return "a map"
	}
	return "a literal"
}

// ---- expressions ----

// canStartExpr reports whether t can begin an expression.
func canStartExpr(t lexer.Token) bool {
	switch t.Type {
	case Ident, Int, Float, String:
		return true
	case Keyword:
		switch t.Value {
		case "not", "true", "false", "none":
			return true
		}
	case Punct:
		switch t.Value {
		case "-", "+", "(", "[", "{":
			return true
		}
	}
	return false
}

// parseExprAfter parses an expression that must follow the previous
// token, with an error that names that token when there is none.
func (p *parser) parseExprAfter() *Expr {
	if !canStartExpr(p.tok()) {
		p.expected("an expression", p.prevDesc())
	}
	return p.parseExpr()
}

func (p *parser) parseExpr() *Expr {
	p.enter()
	e := p.nodes.exprs.new()
	e.Pos = p.tok().Pos
	e.Body = p.parseOr()
	if p.got("if") {
		e.Cond = p.parseOr()
		if !p.got("else") {
			p.expected("'else'", "the condition of a conditional expression 'a if cond else b'")
		}
		e.Else = p.parseExprAfter()
	}
	p.leave()
	return e
}

func (p *parser) parseOr() *Or {
	n := p.nodes.ors.new()
	n.Pos = p.tok().Pos
	n.Terms = p.nodes.orTerms.one(p.parseAnd())
	for p.got("or") {
		p.chained(len(n.Terms), n.Pos)
		n.Terms = append(n.Terms, p.parseAnd())
	}
	return n
}

func (p *parser) parseAnd() *And {
	n := p.nodes.ands.new()
	n.Pos = p.tok().Pos
	n.Terms = p.nodes.andTerms.one(p.parseNot())
	for p.got("and") {
		p.chained(len(n.Terms), n.Pos)
		n.Terms = append(n.Terms, p.parseNot())
	}
	return n
}

func (p *parser) parseNot() *Not {
	n := p.nodes.nots.new()
	n.Pos = p.tok().Pos
	if p.got("not") {
		p.enter()
		n.Negated = p.parseNot()
		p.leave()
	} else {
		n.Cmp = p.parseComparison()
	}
	return n
}

// cmpOps are the comparison operators other than `in` and `not in`.
var cmpOps = map[string]bool{"==": true, "!=": true, "<=": true, ">=": true, "<": true, ">": true}

func (p *parser) parseComparison() *Comparison {
	n := p.nodes.cmps.new()
	n.Pos = p.tok().Pos
	n.Left = p.parseSum()
	for {
		t := p.tok()
		op := &CmpOp{Pos: t.Pos}
		switch {
		case t.Type == Punct && cmpOps[t.Value], isSym(t, "in"):
			op.Op = p.next().Value
		case isSym(t, "not") && isSym(p.peek(1), "in"):
			p.next()
			p.next()
			op.Op = "not in"
		default:
			return n
		}
		p.chained(len(n.Rests)+1, n.Pos)
		op.Right = p.parseSum()
		n.Rests = append(n.Rests, op)
	}
}

func (p *parser) parseSum() *Sum {
	n := p.nodes.sums.new()
	n.Pos = p.tok().Pos
	n.Left = p.parseProduct()
	for p.is("+") || p.is("-") {
		p.chained(len(n.Rests)+1, n.Pos)
		op := &SumOp{Pos: p.tok().Pos, Op: p.next().Value}
		op.Right = p.parseProduct()
		n.Rests = append(n.Rests, op)
	}
	return n
}

func (p *parser) parseProduct() *Product {
	n := p.nodes.products.new()
	n.Pos = p.tok().Pos
	n.Left = p.parseUnary()
	for p.is("*") || p.is("/") || p.is("//") || p.is("%") {
		p.chained(len(n.Rests)+1, n.Pos)
		op := &MulOp{Pos: p.tok().Pos, Op: p.next().Value}
		op.Right = p.parseUnary()
		n.Rests = append(n.Rests, op)
	}
	return n
}

func (p *parser) parseUnary() *Unary {
	n := p.nodes.unaries.new()
	n.Pos = p.tok().Pos
	if p.is("-") || p.is("+") {
		n.Op = p.next().Value
		p.enter()
		n.Operand = p.parseUnary()
		p.leave()
		return n
	}
	n.Power = p.parsePower()
	return n
}

func (p *parser) parsePower() *Power {
	n := p.nodes.powers.new()
	n.Pos = p.tok().Pos
	n.Base = p.parsePostfix()
	if p.got("**") {
		n.Exponent = p.parseUnary()
	}
	return n
}

func (p *parser) parsePostfix() *Postfix {
	n := p.nodes.postfix.new()
	n.Pos = p.tok().Pos
	n.Primary = p.parsePrimary()
	for {
		t := p.tok()
		switch {
		case isSym(t, "("):
			p.next()
			c := &Call{Pos: t.Pos}
			p.commaList(t, "call", "argument", func() { c.Args = append(c.Args, p.parseArg()) })
			n.Suffixes = append(n.Suffixes, &Suffix{Pos: t.Pos, Call: c})
		case isSym(t, "["):
			n.Suffixes = append(n.Suffixes, &Suffix{Pos: t.Pos, Index: p.parseIndex()})
		case isSym(t, "."):
			p.next()
			n.Suffixes = append(n.Suffixes, &Suffix{Pos: t.Pos, Field: p.fieldName()})
		default:
			return n
		}
	}
}

func (p *parser) parseArg() *Arg {
	a := p.nodes.args.new()
	a.Pos = p.tok().Pos
	if p.tok().Type == Ident && isSym(p.peek(1), "=") {
		a.Name = p.next().Value
		p.next()
		a.Value = p.parseExprAfter()
		return a
	}
	a.Value = p.parseExprAfter()
	return a
}

func (p *parser) parseIndex() *Index {
	open := p.next()
	n := &Index{Pos: open.Pos}
	p.enter()
	if p.is("]") {
		p.failAt(p.tok().Pos, "expected an index or a slice inside '[]'")
	}
	if !p.is(":") {
		n.Start = p.parseExprAfter()
	}
	if p.got(":") {
		n.Slice = true
		if canStartExpr(p.tok()) {
			n.End = p.parseExpr()
		}
		if p.got(":") && canStartExpr(p.tok()) {
			n.Step = p.parseExpr()
		}
	}
	if !p.is("]") {
		if canStartExpr(p.tok()) || p.is(",") {
			p.expected("']' or ':'", "the index")
		}
		p.closeErr(open, "index")
	}
	p.next()
	p.leave()
	return n
}

func (p *parser) parsePrimary() *Primary {
	t := p.tok()
	n := p.nodes.prims.new()
	n.Pos = t.Pos
	switch {
	case t.Type == Float:
		n.Float = stringPtr(p.next().Value)
	case t.Type == Int:
		n.Int = stringPtr(p.next().Value)
	case t.Type == String:
		n.String = stringPtr(p.next().Value)
	case isSym(t, "true"), isSym(t, "false"):
		n.Bool = stringPtr(p.next().Value)
	case isSym(t, "none"):
		p.next()
		n.None = true
	case t.Type == Ident:
		n.Name = p.next().Value
	case isSym(t, "["):
		n.List = p.parseList()
	case isSym(t, "{"):
		n.Map = p.parseMap()
	case isSym(t, "("):
		p.next()
		n.Paren = p.parseExprAfter()
		if !p.got(")") {
			if canStartExpr(p.tok()) || p.is(",") {
				p.expected("')'", "the expression in parentheses")
			}
			p.closeErr(t, "parenthesis")
		}
	default:
		p.expected("an expression", p.prevDesc())
	}
	return n
}

func stringPtr(s string) *string { return &s }

func (p *parser) parseList() *ListLit {
	open := p.next()
	n := &ListLit{Pos: open.Pos}
	if p.got("]") {
		return n
	}
	p.enter()
	n.First = p.parseExprAfter()
	switch {
	case p.is("for"):
		n.Comp = p.parseCompFor()
		if !p.is("]") {
			p.closeErr(open, "list")
		}
	case p.got(","):
		for !p.is("]") {
			if p.atEOF(p.tok()) {
				p.closeErr(open, "list")
			}
			n.Rest = append(n.Rest, p.parseExprAfter())
			if !p.got(",") && !p.is("]") {
				p.listEnd(open, "list", "the list element")
			}
		}
	case !p.is("]"):
		p.listEnd(open, "list", "the list element")
	}
	p.next()
	p.leave()
	return n
}

func (p *parser) parseCompFor() *CompFor {
	n := &CompFor{Pos: p.next().Pos}
	n.Names = p.loopNames("'for'")
	if !canStartExpr(p.tok()) {
		p.expected("an expression", "'in'")
	}
	n.Iter = p.parseOr()
	for p.got("if") {
		if !canStartExpr(p.tok()) {
			p.expected("a condition", "'if'")
		}
		n.Conds = append(n.Conds, p.parseOr())
	}
	if p.is("for") {
		p.enter()
		n.Next = p.parseCompFor()
		p.leave()
	}
	return n
}

func (p *parser) parseMap() *MapLit {
	open := p.next()
	n := &MapLit{Pos: open.Pos}
	p.commaList(open, "map", "map entry", func() {
		e := &MapEntry{Pos: p.tok().Pos}
		e.Key = p.parseExprAfter()
		if !p.got(":") {
			p.expected("':'", "the map key")
		}
		e.Value = p.parseExprAfter()
		n.Entries = append(n.Entries, e)
	})
	return n
}
