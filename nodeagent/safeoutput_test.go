package nodeagent

import "testing"

// stripControls keeps text, newlines and tabs, and drops every control a
// terminal acts on.
func TestStripControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext\n":                  "plain\ttext\n",
		"héllo 世界\n":                     "héllo 世界\n",
		"\x1b[31mred\x1b[0m\n":           "[31mred[0m\n",
		"a\x07b\x08c\rd\x00e\x7ff\n":     "abcdef\n",
		"csi\u009b2J osc\x9d bad\xff!\n": "csi2J osc bad!\n",
	} {
		if got := stripControls(in); got != want {
			t.Errorf("stripControls(%q) = %q, want %q", in, got, want)
		}
	}
}
