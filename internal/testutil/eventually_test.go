package testutil

import (
	"fmt"
	"testing"
	"time"
)

// fakeT records a Fatalf instead of ending the test.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(f)
}

// run calls Eventually with a fakeT and returns what it failed with.
func run(within time.Duration, cond func() bool) (failed string) {
	f := &fakeT{}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		failed = f.failed
	}()
	Eventually(f, within, "the thing", cond)
	return ""
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	if failed := run(time.Second, func() bool { calls++; return calls == 3 }); failed != "" {
		t.Fatalf("failed: %s", failed)
	}
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
}

func TestEventuallyFailsAtTheDeadlineWithWhat(t *testing.T) {
	start := time.Now()
	failed := run(50*time.Millisecond, func() bool { return false })
	if failed != "the thing: not within 50ms" {
		t.Fatalf("failed with %q", failed)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", el)
	}
}
