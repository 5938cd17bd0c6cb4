package nodeagent

import (
	"testing"
	"unsafe"
)

// A task record stays in the 208-byte size class: a million queued tasks
// keep a million of them (issue 15: ~400 bytes a queued task).
func TestTaskRecordIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(task{}); n > 208 {
		t.Fatalf("a task record is %d bytes, want at most 208", n)
	}
}
