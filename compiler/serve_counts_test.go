package compiler_test

import "testing"

// TestServeReplicaDefaults: the bounds of autoscaling default to
// replicas= (spec/serving.md), so @serve(replicas=2) keeps two replicas
// and does not scale; a given bound alone widens only its side.
func TestServeReplicaDefaults(t *testing.T) {
	cases := []struct {
		args      string
		n, lo, hi int
	}{
		{`route="/a"`, 1, 1, 1},
		{`route="/a", replicas=2`, 2, 2, 2},
		{`route="/a", replicas=2, max_replicas=4`, 2, 2, 4},
		{`route="/a", max_replicas=4`, 1, 1, 4},
		{`route="/a", min_replicas=3`, 3, 3, 3},
		{`route="/a", replicas=2, min_replicas=1`, 2, 1, 2},
	}
	for _, tc := range cases {
		p, err := compile(t, "@serve("+tc.args+")\nactor A() { method f() { return 1 } }\n")
		if err != nil {
			t.Fatalf("@serve(%s): %v", tc.args, err)
		}
		s := p.Actors[0].Serve
		if s.Replicas != tc.n || s.MinReplicas != tc.lo || s.MaxReplicas != tc.hi {
			t.Errorf("@serve(%s): replicas %d, min %d, max %d; want %d, %d, %d", tc.args, s.Replicas, s.MinReplicas, s.MaxReplicas, tc.n, tc.lo, tc.hi)
		}
	}
}
