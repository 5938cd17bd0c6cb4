package tty

import "golang.org/x/term"

// IsTerminal reports whether v, a reader or writer the command reads from
// or draws on, is open on a terminal: v must have a file descriptor (an
// *os.File does) and that descriptor must be a terminal. Ask it of the
// descriptor that is actually drawn on: a progress line drawn on stderr
// asks it of stderr, not of stdout. A pipe, a file, /dev/null or a
// writer without a descriptor (a bytes.Buffer) is not a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
