package exec

import (
	"fmt"
	"unsafe"
)

// MaxValueBytes bounds the memory that one operation may ask for to make
// one value (a repeated or concatenated string or list, a range made a
// list): 1 GiB. Without it a single expression such as [0] * 2**28 or
// "x" * 2**30 + ... takes the process down with it, and on a cluster the
// process is a node or a head that other jobs share.
const MaxValueBytes = 1 << 30

// valueSize is the memory of one element of a list.
const valueSize = int64(unsafe.Sizeof(Value{}))

// checkSize fails an operation that would make a what of n elements of
// each bytes, beyond MaxValueBytes; n*each is computed without
// overflow.
func checkSize(what string, n, each int64) *Error {
	if n < 0 || each <= 0 || n <= MaxValueBytes/each {
		return nil
	}
	return Errorf(KindValue, "%s would be too large: %s, more than the %s one value may take",
		what, byteCount(float64(n)*float64(each)), byteCount(MaxValueBytes))
}

// byteCount writes a size for people: 1.5 GiB, 12.0 MiB, 300 B.
func byteCount(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	exp, div := 0, float64(unit)
	for n := b / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b/div, "KMGTPE"[exp])
}
