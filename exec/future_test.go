package exec_test

import (
	"testing"
	"unsafe"

	"github.com/rayflow/rayflow/exec"
)

// A future is its runtime's handle and nothing else (16 bytes): its ID
// and name are the handle's (issue 15: a million futures held).
func TestFutureIsOneHandle(t *testing.T) {
	if size := unsafe.Sizeof(exec.Future{}); size != 16 {
		t.Fatalf("exec.Future is %d bytes, want 16", size)
	}
	f := exec.NewFuture("j.7", "task 'f'")
	if f.ID() != "j.7" || f.Name() != "task 'f'" || exec.FutureValue(f).String() != "<future task 'f'>" {
		t.Fatalf("got %q %q %s", f.ID(), f.Name(), exec.FutureValue(f))
	}
}
