package planner

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecideLongFunction plans a pipeline of 3,000 dependent calls
// with --opt fuse (every compile plans, with adaptive: this is on the
// start-up path of `rayflow run` and `rayflow check`). Per-site walks of
// the whole function once made it take 13 s.
func BenchmarkDecideLongFunction(b *testing.B) {
	var src strings.Builder
	src.WriteString("task f(x) { return x + 1 }\npipeline main() {\n    let x0 = f(0)\n")
	for i := 1; i < 3000; i++ {
		fmt.Fprintf(&src, "    let x%d = f(x%d)\n", i, i-1)
	}
	src.WriteString("    print(get(x2999))\n}\n")
	prog := compileDecide(b, src.String())
	opt, _ := ParseOpt("fuse,adaptive")
	b.ResetTimer()
	for b.Loop() {
		Decide(prog, opt)
	}
}
