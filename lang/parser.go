// Package lang is the front end of rayflow: the lexer, the grammar (built
// with participle), the AST with positions, and syntax errors that read
// `FILE:LINE:COL: error: MESSAGE` in words a user knows.
package lang

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var fileParser = participle.MustBuild[File](
	participle.Lexer(definition{}),
	participle.UseLookahead(4),
)

// Parse parses one source file. On failure the error is an ErrorList.
func Parse(filename, src string) (*File, error) {
	if _, err := Lex(filename, src); err != nil {
		return nil, err
	}
	f, err := fileParser.ParseString(filename, src)
	if err != nil {
		return nil, ErrorList{friendlyError(err)}
	}
	f.Name = filename
	f.Source = src
	return f, nil
}

// ParseExpr parses a single expression (used by the REPL and for
// parameter values).
func ParseExpr(filename, src string) (*Expr, error) {
	if _, err := Lex(filename, src); err != nil {
		return nil, err
	}
	e, err := exprParser.ParseString(filename, src)
	if err != nil {
		return nil, ErrorList{friendlyError(err)}
	}
	return e, nil
}

var exprParser = participle.MustBuild[Expr](
	participle.Lexer(definition{}),
	participle.UseLookahead(4),
	participle.Elide("EOL"),
)

// friendlyError turns participle's messages into ones a user knows.
func friendlyError(err error) *Error {
	var ut *participle.UnexpectedTokenError
	if errors.As(err, &ut) {
		return &Error{Pos: ut.Unexpected.Pos, Msg: unexpectedMessage(ut.Unexpected, ut.Expect)}
	}
	var pe participle.Error
	if errors.As(err, &pe) {
		return &Error{Pos: pe.Position(), Msg: cleanMessage(pe.Message())}
	}
	return &Error{Msg: err.Error()}
}

func describe(tok lexer.Token) string {
	switch tok.Type {
	case EOF:
		return "end of file"
	case EOL:
		if tok.Value == ";" {
			return "';'"
		}
		return "end of line"
	case String:
		return fmt.Sprintf("string %q", tok.Value)
	}
	return "'" + tok.Value + "'"
}

func unexpectedMessage(tok lexer.Token, expect string) string {
	msg := "unexpected " + describe(tok)
	if hint := expectationHint(expect); hint != "" {
		msg += "; expected " + hint
	}
	return msg
}

// expectationHint rewrites participle's "expected" text, which names
// grammar nodes, into a short list of tokens, or nothing when it would
// only confuse.
func expectationHint(expect string) string {
	if expect == "" || strings.ContainsAny(expect, "<>") && !strings.Contains(expect, "\"") {
		return ""
	}
	expect = strings.ReplaceAll(expect, "\"", "'")
	expect = strings.ReplaceAll(expect, "<ident>", "a name")
	expect = strings.ReplaceAll(expect, "<eol>", "end of line")
	if strings.Contains(expect, "<") {
		return ""
	}
	return expect
}

func cleanMessage(msg string) string {
	msg = strings.ReplaceAll(msg, "unexpected token", "unexpected")
	if i := strings.Index(msg, " (expected"); i >= 0 {
		hint := expectationHint(strings.TrimSuffix(msg[i+len(" (expected "):], ")"))
		msg = msg[:i]
		if hint != "" {
			msg += "; expected " + hint
		}
	}
	msg = strings.ReplaceAll(msg, "\"", "'")
	return msg
}
