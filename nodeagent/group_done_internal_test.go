package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A group's results are held with the first call's ID and without the
// IDs of the calls that follow it (the owner derives them,
// owner.HandleDoneList); an ID that does not follow travels whole.
func TestDoneListHoldsConsecutiveResultsWithoutIDs(t *testing.T) {
	defer func(d time.Duration) { doneHold = d }(doneHold)
	doneHold = time.Hour
	l := &doneList{calls: -1}
	ids := []string{"j.t.9", "j.t.10", "j.t.11", "j.u.1", "j.u.2", "j.t.12"}
	for _, id := range ids {
		l.mu.Lock()
		l.gatherLocked(true, &wire.Done{ID: id})
	}
	l.timer.Stop()
	payload := append([]byte{byte(l.n)}, l.held...)
	var got []string
	if err := wire.EachSubmit(payload, func(msg []byte) error {
		var m wire.Done
		err := wire.DecodeDoneInto(msg, &m)
		got = append(got, m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"j.t.9", "", "", "j.u.1", "", "j.t.12"}
	if len(got) != len(want) {
		t.Fatalf("held %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("held %q, want %q", got, want)
		}
	}
}
