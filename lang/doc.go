// Package lang is the front end of rayflow: the lexer, the parser, the AST
// with positions, and syntax errors that read `FILE:LINE:COL: error: MESSAGE`
// in words a user knows.
//
// # Ownership and threading
//
// The package has no mutable state. Its package-level variables are the
// tables of the lexer and the parser (token types, keywords, punctuation,
// the words that start a declaration or a statement, the assignment and
// comparison operators); they are filled at init and only read, so Lex,
// Parse, ParseExpr, Walk and Report may run on any number of goroutines
// at once. Keywords is exported for other packages to read; nothing may
// write to it. Each Parse call has its own parser and token slice.
//
// The tree Parse returns belongs to its caller. The parser fills only the
// fields that have a parser tag; the others (Primary.Ref, Let.Slots, ...)
// are filled later by package compiler, which writes its name resolution
// into the tree. A File is therefore compiled once, by one goroutine, and
// only read afterwards: exec compiles its closures from it, the planner
// walks it, and code built from it may run on many goroutines. A caller
// that wants a second, independent program parses the source again (as
// the REPL does for every input).
//
// Consumers: compiler, planner, exec, frontend, the root package
// (rayflow), nodeagent/wire and the REPL. lang is the first stage of
// the one-way data flow and imports none of them.
package lang
