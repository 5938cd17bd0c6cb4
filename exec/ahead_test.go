package exec

import "testing"

// The run-ahead window starts at aheadStart, then grows with the
// iterations done, up to the depth.
func TestAheadWindow(t *testing.T) {
	for _, c := range []struct{ k, depth, want int }{
		{0, 128, aheadStart}, {3, 128, aheadStart}, {20, 128, 20}, {500, 128, 128}, {0, 4, 4}, {50, 4, 4},
	} {
		if got := aheadWindow(c.k, c.depth); got != c.want {
			t.Errorf("aheadWindow(%d, %d) = %d, want %d", c.k, c.depth, got, c.want)
		}
	}
}
