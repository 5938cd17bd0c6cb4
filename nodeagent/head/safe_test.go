package head

import (
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
)

// The head's membership monitor and its change callback survive a panic:
// after one, silent nodes are still declared dead.
func TestMembershipSurvivesPanics(t *testing.T) {
	log := &testutil.Buffer{}
	t.Cleanup(safe.SetOutput(log))
	st := openStore(t)
	m := NewMembership(st, 100*time.Millisecond)
	defer m.Close()
	m.SetOnChange(func() { panic("callback bug") })
	m.mu.Lock()
	m.members["broken"] = nil // makes the monitor panic
	m.mu.Unlock()
	testutil.Eventually(t, 5*time.Second, "a monitor panic", func() bool {
		return strings.Contains(log.String(), "the membership monitor panicked")
	})
	m.mu.Lock()
	delete(m.members, "broken")
	m.mu.Unlock()
	if _, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 1}, false); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the silent node declared dead", func() bool {
		info, err := st.GetNode("a")
		return err == nil && info.State == gcs.NodeDead
	})
	testutil.Eventually(t, 5*time.Second, "the callback's panic logged", func() bool {
		return strings.Contains(log.String(), "the membership change callback panicked: callback bug")
	})
}
