package exec

import (
	"math"
	"testing"
)

// addSubInts, the int fast path of + and -, reports overflow exactly
// where intArith (the generic path) does, and otherwise the same result.
func TestAddSubIntsMatchesIntArith(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, -(1 << 62), -2, -1, 0, 1, 2, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}
	for _, a := range vals {
		for _, b := range vals {
			for _, sub := range []bool{false, true} {
				op := addSubOp(sub)
				want, err := intArith(op, a, b)
				c, ok := addSubInts(sub, a, b)
				if ok != (err == nil) || ok && c != want.AsInt() {
					t.Errorf("%d %s %d: %d (ok %v), want %s (error %v)", a, op, b, c, ok, want.Repr(), err)
				}
			}
		}
	}
}
