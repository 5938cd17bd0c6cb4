package lang

import "testing"

// A reserved word may name a field after '.': err.task, the name of the
// task a caught error came from.
func TestReservedWordAfterDot(t *testing.T) {
	src := "pipeline main() {\n  try { fail(\"x\") } catch e { print(e.task, e.kind) }\n}\n"
	if _, err := Parse("p.rayflow", src); err != nil {
		t.Fatalf("e.task does not parse: %v", err)
	}
}
