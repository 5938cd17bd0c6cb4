package nodeagent_test

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent"
)

// Validate decides the options given as text once, before anything
// starts, and refuses what cannot work.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  nodeagent.Config
		want string // "" for valid
	}{
		{nodeagent.Config{}, ""},
		{nodeagent.Config{Lineage: "stash"}, ""},
		{nodeagent.Config{Lineage: "sync"}, ""},
		{nodeagent.Config{Lineage: "off"}, ""},
		{nodeagent.Config{Lineage: "sometimes"}, "sometimes"},
		{nodeagent.Config{ForwardBound: -1}, "forwarding bound"},
		{nodeagent.Config{Nodes: 3, Net: &nodeagent.NetConfig{}}, "one node"},
		{nodeagent.Config{Resources: map[string]float64{"gpu": -1}}, "gpu"},
	} {
		cfg := tc.cfg
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one mentioning %q", tc.cfg, err, tc.want)
		}
	}
	// NewCluster refuses a bad mode before it starts anything.
	if _, err := nodeagent.NewCluster(nodeagent.Config{Lineage: "sometimes"}); err == nil {
		t.Fatal("NewCluster accepted lineage mode 'sometimes'")
	}
}
