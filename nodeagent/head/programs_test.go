package head

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A program no job has used for ProgramRetention is deleted from the
// GCS; one a live job still uses (its driver's lease names it) stays; a
// program stored through another head gets the whole retention from
// when this head first sees it.
func TestUnusedProgramsAreDeleted(t *testing.T) {
	st, m := newTestStoreAndMembership(t)
	svc := NewService(st, m)
	reply, err := svc.HandleGCS("driver", append([]byte{wire.GCSPutProgram}, "pipeline main() { return 1 }"...))
	if err != nil {
		t.Fatal(err)
	}
	running := string(reply.Payload)
	other, f := st.PutProgram([]byte("pipeline main() { return 2 }")) // through another head
	if err := f.ErrorTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if gone := svc.sweepPrograms(t0, ProgramRetention); len(gone) != 0 {
		t.Fatalf("deleted at once: %v", gone)
	}
	// The job of the first program runs on: its driver renews its lease.
	svc.programs.touch([]string{running}, t0.Add(ProgramRetention))
	later := t0.Add(ProgramRetention + time.Minute)
	if gone := svc.sweepPrograms(later, ProgramRetention); !slices.Equal(gone, []string{other}) {
		t.Fatalf("deleted %v, want only the unused %s", gone, other)
	}
	testutil.Eventually(t, 5*time.Second, "the unused program deleted", func() bool {
		_, err := st.GetProgram(other)
		return errors.Is(err, gcs.ErrNotFound)
	})
	if _, err := st.GetProgram(running); err != nil {
		t.Fatalf("the program of a running job: %v", err)
	}
	// Once a minute at most.
	if !svc.programs.due(later) || svc.programs.due(later.Add(time.Second)) {
		t.Fatal("sweeps are not once a minute")
	}
}
