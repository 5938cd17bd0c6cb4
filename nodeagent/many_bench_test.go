package nodeagent_test

import (
	"strconv"
	"testing"
)

// BenchmarkRFManyCalls is b.N calls of a small task from a comprehension,
// then one get of them all (bench/rayflow/hints/many.rayflow, issue 10's
// batch benchmark), on one in-process node: ns/op and allocs/op are per
// call. RF_OPT selects --opt (batch, none; unset: the default, adaptive):
//
//	RF_OPT=batch go test ./nodeagent -run XXX -bench RFManyCalls -benchtime 200000x -benchmem
func BenchmarkRFManyCalls(b *testing.B) {
	prog := compileBench(b, "hints/many.rayflow")
	n := strconv.Itoa(max(2, b.N))
	b.ReportAllocs()
	b.ResetTimer()
	runPipeline(b, prog, "main", map[string]string{"n": n})
}
