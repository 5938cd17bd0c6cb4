// Package tty answers one question for the rayflow command: is this
// descriptor a terminal? It is the only place the command asks it (the
// progress line of `run`, the line editor of `repl`).
//
// It owns no state; IsTerminal may be called from any goroutine.
package tty
