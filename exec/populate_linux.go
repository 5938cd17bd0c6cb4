package exec

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault in a
// range's pages, writable, in one system call.
const madvPopulateWrite = 23

// populate faults in b's memory, a few MiB per system call, on its own
// goroutine, ahead of the reads that fill a large tensor being received:
// memory fresh from the kernel costs about 1.3 µs a 4 KiB page here
// (33 ms for 100 MB, five times the copy), and this moves that cost off
// the reading goroutine and saves the trap of one fault per page. Memory
// the Go heap reused is already there (Go zeroed it), and is left alone:
// walking it again only cost time. populate never changes the memory's
// contents; an error (a kernel older than 5.14) changes nothing but
// speed.
func populate(b []byte) {
	const page = 4096
	if len(b) < populateMin {
		return
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	skip := int((page - start%page) % page)
	n := (len(b) - skip) / page * page
	if n <= 0 || resident(b[skip+n/2:skip+n/2+page]) {
		return
	}
	go func() {
		const step = 8 << 20
		for off := skip; off < skip+n; off += step {
			if syscall.Madvise(b[off:min(off+step, skip+n)], madvPopulateWrite) != nil {
				return
			}
		}
	}()
}

// resident reports whether the page p (one whole page) is in memory.
func resident(p []byte) bool {
	var vec [1]byte
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), uintptr(unsafe.Pointer(&vec[0])))
	return errno == 0 && vec[0]&1 == 1
}
