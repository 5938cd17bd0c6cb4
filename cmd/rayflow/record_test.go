package main

import (
	"os"
	"path/filepath"
	"runtime/trace"
	"strconv"
	"testing"
)

// RAYFLOW_TRACE and RAYFLOW_CPUPROFILE write their recording to the file
// named, %p replaced by the process ID; a file that cannot be made is a
// warning, not a failure.
func TestRecordWritesItsFile(t *testing.T) {
	dir := t.TempDir()
	stop := traceExecution(filepath.Join(dir, "run-%p.trace"))
	stop()
	b, err := os.ReadFile(filepath.Join(dir, "run-"+strconv.Itoa(os.Getpid())+".trace"))
	if err != nil || len(b) == 0 {
		t.Fatalf("no trace written: %d bytes, %v", len(b), err)
	}
	if trace.IsEnabled() {
		t.Fatal("the trace is still on after stop")
	}
	traceExecution(filepath.Join(dir, "missing", "x.trace"))() // warns, records nothing
	traceExecution("")()
}
