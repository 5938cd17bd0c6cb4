package spec

// One semantics everywhere: a program prints the same, fails with the same
// error text and exits the same embedded, on three in-process nodes and on
// a real cluster of three `rayflow start` processes. TestConformance runs
// each program these three ways; this file holds the other two ways and
// the comparison.

import (
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rayflow/rayflow/internal/testutil"
)

// embeddedOnlyFlags are flags of an embedded run that a run on a
// cluster (--address) refuses: a program that needs one runs only
// embedded and on in-process nodes.
var embeddedOnlyFlags = []string{"--cpus", "--nodes", "--resources", "--object-store-memory", "--data-dir", "--gcs-delay"}

// shared is the one real cluster every program of this test binary runs
// on, started by the first program that needs it.
var shared struct {
	once    sync.Once
	cluster *testutil.Cluster
	err     error
}

// sharedCluster starts the shared cluster once: three nodes with as many
// CPUs each as an embedded run's node has (this machine's), so that
// resource errors read the same.
func sharedCluster() (*testutil.Cluster, error) {
	shared.once.Do(func() {
		shared.cluster, shared.err = testutil.StartCluster(rayflowBin, 3, runtime.NumCPU())
	})
	return shared.cluster, shared.err
}

func stopSharedCluster() {
	if shared.cluster != nil {
		shared.cluster.Stop()
	}
}

// elsewhere returns the program as it runs on three in-process nodes and
// on the shared cluster, leaving out the ways its flags rule out.
func elsewhere(t *testing.T, p *program) []*program {
	var ways []*program
	if !hasFlag(p.flags, "--nodes") && !hasFlag(p.flags, "--address") {
		v := *p
		v.flags = append(append([]string(nil), p.flags...), "--nodes", "3")
		ways = append(ways, &v)
	}
	for _, f := range append(embeddedOnlyFlags, "--address") {
		if hasFlag(p.flags, f) {
			return ways
		}
	}
	c, err := sharedCluster()
	if err != nil {
		t.Fatalf("cannot start the shared cluster: %v", err)
	}
	v := *p
	v.flags = append(append([]string(nil), p.flags...), "--address", c.Address)
	return append(ways, &v)
}

// sameEverywhere checks a run of p elsewhere against the embedded run:
// the same exit code, stdout and stderr, with node names and job IDs
// left out of the comparison; a program that prints facts of its cluster
// is held to its exit code only.
func sameEverywhere(t *testing.T, p *program, embedded, res result) {
	t.Helper()
	problems := endProblems(t, res, embedded.exit, "embedded")
	if p.clusterFacts == "" {
		if a, b := testutil.WithoutPlaces(embedded.stdout), testutil.WithoutPlaces(res.stdout); a != b {
			problems = append(problems, "stdout differs from the embedded run's (-embedded +here):\n"+diff(a, b))
		}
		if a, b := testutil.WithoutPlaces(embedded.stderr), testutil.WithoutPlaces(res.stderr); a != b {
			problems = append(problems, "stderr differs from the embedded run's (-embedded +here):\n"+diff(a, b))
		}
	}
	if len(problems) == 0 {
		return
	}
	t.Errorf("%s (in spec/testdata)\n%s", strings.Join(res.argv, " "), strings.Join(problems, "\n"))
}
