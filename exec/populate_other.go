//go:build !linux

package exec

// populate does nothing where there is no MADV_POPULATE_WRITE.
func populate([]byte) {}
