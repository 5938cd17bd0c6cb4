package exec

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// resident tells fresh memory from memory in use, and populate faults in
// fresh memory without changing what is there.
func TestPopulateFreshMemory(t *testing.T) {
	const size = 8 << 20
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(b)
	mid := b[size/2 : size/2+4096]
	if resident(mid) {
		t.Fatal("fresh memory reported resident")
	}
	b[0], b[size-1] = 7, 9
	populate(b)
	for deadline := time.Now().Add(10 * time.Second); !resident(mid); {
		if time.Now().After(deadline) {
			t.Skip("MADV_POPULATE_WRITE did not fault the memory in (kernel older than 5.14?)")
		}
		runtime.Gosched() // the populating goroutine runs; no fixed wait
	}
	if b[0] != 7 || b[size-1] != 9 || b[size/2] != 0 {
		t.Fatal("populate changed the memory")
	}
}
