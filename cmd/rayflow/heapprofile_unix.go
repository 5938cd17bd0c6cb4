//go:build unix

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

// profileHeapOnSignal makes the process write a heap profile to path (set
// by RAYFLOW_HEAPPROFILE, for developers; %p in it is the process ID)
// each time it receives SIGUSR2, after a collection, so that what a
// long-running head or node holds can be read with `go tool pprof
// -sample_index=inuse_space`. Nothing when path is empty.
func profileHeapOnSignal(path string) {
	if path == "" {
		return
	}
	path = strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	go func() {
		for range sig {
			runtime.GC()
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "warning: RAYFLOW_HEAPPROFILE: %v\n", err)
			}
		}
	}()
}

// writeHeapProfile writes the heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
