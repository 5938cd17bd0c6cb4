// Package version holds rayflow's version: the one string that
// `rayflow version`, sys.version, the embedding API's rayflow.Version and
// the "this is a bug in rayflow VERSION" reports print.
//
// A release build sets it at link time:
//
//	go build -ldflags "-X github.com/rayflow/rayflow/internal/version.Version=0.2.0" ./cmd/rayflow
//
// It owns that one variable. Only the linker writes it; any goroutine may
// read it.
package version
