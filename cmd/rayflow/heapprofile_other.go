//go:build !unix

package main

// profileHeapOnSignal writes heap profiles on SIGUSR2 on Unix only.
func profileHeapOnSignal(string) {}
