package owner

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// releasesSent stands in for the transport side: it records the
// releases the owner sends to holders (QueryReleaseObjects).
type releasesSent struct {
	Network // nil: any method not defined below panics
	sent    chan []string
}

func (n *releasesSent) IsDead(string) bool { return false }
func (n *releasesSent) Call(_ context.Context, _ string, _ transport.MsgType, p []byte) (*transport.Message, error) {
	if len(p) > 0 && p[0] == wire.QueryReleaseObjects {
		ids, err := wire.DecodeStrings(p[1:])
		if err != nil {
			panic(err)
		}
		n.sent <- ids
	}
	return nil, nil
}

// nextRelease is the next release message the owner sends.
func nextRelease(t *testing.T, n *releasesSent) []string {
	t.Helper()
	select {
	case ids := <-n.sent:
		return ids
	case <-time.After(5 * time.Second):
		t.Fatal("no release was sent")
		return nil
	}
}

// releasedAlone releases a result not lent and waits for its release:
// the message holds it alone when nothing else was gathered before it
// (what a test waits for instead of the absence of a release).
func releasedAlone(t *testing.T, ow *Owner, n *releasesSent, id string) {
	t.Helper()
	callResult{ow}.Released(objstore.NewObject(id, "task 'g'"), "node:2")
	if ids := nextRelease(t, n); !slices.Equal(ids, []string{id}) {
		t.Fatalf("released %v, want only the control result %s", ids, id)
	}
}

// A fetched result's release waits while it is lent, and goes to its
// holder when the last lend comes back (issue 15: borrowers).
func TestReleaseWaitsForLastLend(t *testing.T) {
	n := &releasesSent{sent: make(chan []string, 4)}
	ow := New(n)
	o := objstore.NewObject("job1.1", "task 'f'")
	ow.Lend(o)
	ow.Lend(o)
	callResult{ow}.Released(o, "node:2")
	if got := ow.Unborrow([]string{o.ID()}); len(got) != 0 {
		t.Fatalf("one lend of two back returned %v", got)
	}
	releasedAlone(t, ow, n, "job1.2")
	if got := ow.Unborrow([]string{o.ID()}); !slices.Equal(got, []string{o.ID()}) {
		t.Fatalf("the last lend back returned %v", got)
	}
	if ids := nextRelease(t, n); !slices.Equal(ids, []string{o.ID()}) {
		t.Fatalf("released %v once the last lend came back", ids)
	}
	if c := ow.Lent(); c != 0 {
		t.Fatalf("%d objects still lent", c)
	}
}

// A lent result whose future a borrower let go further is never
// released: its last lend coming back sends nothing.
func TestEscapedLendIsNotReleased(t *testing.T) {
	n := &releasesSent{sent: make(chan []string, 4)}
	ow := New(n)
	o := objstore.NewObject("job1.1", "task 'f'")
	ow.Lend(o)
	callResult{ow}.Released(o, "node:2")
	ow.Escaped([]string{o.ID()})
	if got := ow.Unborrow([]string{o.ID()}); !slices.Equal(got, []string{o.ID()}) {
		t.Fatalf("the last lend back returned %v", got)
	}
	releasedAlone(t, ow, n, "job1.2")
	if c := ow.Lent(); c != 0 {
		t.Fatalf("%d objects still lent", c)
	}
}
