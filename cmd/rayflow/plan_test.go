package main

import (
	"strings"
	"testing"
)

// `rayflow plan` without --opt shows the graph as `rayflow run` runs it
// (adaptive and the source's hints), as explain does: here the loop
// adaptive runs ahead; --opt none shows no decision.
func TestPlanDefaultIsWhatRunDoes(t *testing.T) {
	prog := writeProgram(t, "task sq(i) { return i * i }\npipeline main() {\n    let t = 0\n    for i in range(50) { t += get(sq(i)) }\n    print(t)\n}\n")
	code, out, errOut := invoke(t, "plan", prog)
	if code != 0 || !strings.Contains(out, "(rewrites: batch(auto), pipeline)") || !strings.Contains(out, "note: pipeline: up to 128 calls in flight") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = invoke(t, "plan", "--opt", "none", prog)
	if code != 0 || !strings.Contains(out, "(rewrites: none)") || strings.Contains(out, "note:") {
		t.Fatalf("plan --opt none: exit %d\n%s%s", code, out, errOut)
	}
}
