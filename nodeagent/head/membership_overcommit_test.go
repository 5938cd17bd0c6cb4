package head

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// A node that holds more than it has (free resources below zero) is
// busy, not broken: its heartbeat is taken, as nothing free, and it stays
// alive. (Refusing it made an over-committed node be declared dead.)
func TestOvercommittedNodeStaysAlive(t *testing.T) {
	st := openStore(t)
	m := NewMembership(st, 300*time.Millisecond)
	defer m.Close()
	e, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if err := m.Heartbeat("a", e, map[string]float64{"cpu": -1, "memory": 1 << 30}, 0, 3, 3); err != nil {
			t.Fatalf("heartbeat with cpu=-1 free: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	alive := m.Alive()
	if len(alive) != 1 || alive[0].State != gcs.NodeAlive {
		t.Fatalf("over-committed node: %+v, want alive", alive)
	}
	if got := alive[0].ResourcesAvailable["cpu"]; got != 0 {
		t.Fatalf("free cpu %v, want 0", got)
	}
}
