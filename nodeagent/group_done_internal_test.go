package nodeagent

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
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
		if out := l.gatherLocked(true, &wire.Done{ID: id}); out.n > 0 {
			t.Fatalf("%s: %d results sent before the group's end", id, out.n)
		}
	}
	l.timer.Stop()
	got := partIDs(t, heldResults{msgs: l.held, n: l.n})
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

// A chain's results go back in parts as the chain runs (streamEvery),
// each part with its first ID whole; the rest at the chain's end.
func TestDoneListSendsAChainInParts(t *testing.T) {
	defer func(d time.Duration) { doneHold = d }(doneHold)
	doneHold = time.Hour
	l := &doneList{calls: -1}
	l.streamEvery(3)
	var sent []int // how many results went at each result added
	var parts [][]string
	for i := 1; i <= 7; i++ {
		if i == 7 {
			l.calls = 7
		}
		l.mu.Lock()
		out := l.gatherLocked(true, &wire.Done{ID: "j.t." + strconv.Itoa(i)})
		sent = append(sent, out.n)
		if out.n > 0 {
			parts = append(parts, partIDs(t, out))
		}
	}
	l.timer.Stop()
	if want := []int{0, 0, 3, 0, 0, 3, 1}; !slices.Equal(sent, want) {
		t.Fatalf("results sent as each was added: %v, want %v", sent, want)
	}
	want := [][]string{{"j.t.1", "", ""}, {"j.t.4", "", ""}, {"j.t.7"}}
	if !slices.EqualFunc(parts, want, slices.Equal) {
		t.Fatalf("parts %q, want %q", parts, want)
	}
}

// partIDs returns the ID each message of out carries ("" for one
// derived from the message before).
func partIDs(t *testing.T, out heldResults) []string {
	t.Helper()
	payload := append([]byte{byte(out.n)}, out.msgs...)
	var got []string
	if err := wire.EachSubmit(payload, func(msg []byte) error {
		var m wire.Done
		err := wire.DecodeDoneInto(msg, &m)
		got = append(got, m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// A fused run whose calls take earlier calls' results (a chain) sends
// its results in parts of chainPart; one of independent calls (a batch)
// at its end.
func TestFusedChainStreamsItsResults(t *testing.T) {
	zero, err := exec.Encode(nil, exec.Int(0))
	if err != nil {
		t.Fatal(err)
	}
	chain := &wire.GroupSubmit{Functions: []string{"step"}, Calls: []wire.GroupCall{
		{ID: "j.t.1", Args: []wire.Arg{{Inline: zero}}}, {ID: "j.t.2", Args: []wire.Arg{{Member: 1}}}}}
	batch := &wire.GroupSubmit{Functions: []string{"step"}, Calls: []wire.GroupCall{
		{ID: "j.t.1", Args: []wire.Arg{{Inline: zero}}}, {ID: "j.t.2", Args: []wire.Arg{{Inline: zero}}}}}
	for _, c := range []struct {
		gm   *wire.GroupSubmit
		part int
	}{{chain, chainPart}, {batch, 0}} {
		dones := &doneList{calls: -1}
		if _, ok, err := (&network{}).newFusedRun(c.gm, []*groupCallee{{name: "task 'step'"}}, dones); err != nil || !ok {
			t.Fatalf("newFusedRun: ok %v, err %v", ok, err)
		}
		if dones.part != c.part {
			t.Errorf("a group of %d calls, the second taking %v, sends its results in parts of %d, want %d",
				len(c.gm.Calls), c.gm.Calls[1].Args, dones.part, c.part)
		}
	}
}
