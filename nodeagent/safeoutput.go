package nodeagent

import (
	"strings"
	"unicode/utf8"
)

// stripControls drops from s what a terminal would take as a control:
// the C0 controls but newline and tab (ESC among them, which starts every
// escape sequence), DEL, the C1 controls (U+0080 to U+009F, CSI among
// them), and bytes that are not UTF-8 (a terminal in an 8-bit mode reads
// 0x9B as CSI). Text without them is returned as it is.
func stripControls(s string) string {
	if !hasControls(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isControl(r) && !(r == utf8.RuneError && size == 1) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// hasControls reports whether s holds anything stripControls drops.
func hasControls(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isControl(r) || r == utf8.RuneError && size == 1 {
			return true
		}
		i += size
	}
	return false
}

func isControl(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f
}
