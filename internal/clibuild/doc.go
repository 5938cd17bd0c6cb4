// Package clibuild builds the rayflow command for tests that run it as a
// separate process (the conformance programs, the examples, the CLI's
// own tests, the terminal session): Build builds it, Shared builds it at
// most once per test binary. It owns no state besides a Shared's binary.
//
// # Ownership and threading
//
// Build, StatSources and ModuleRoot keep nothing between calls; any
// goroutine may call them. A Shared owns the temporary directory its
// binary is built in and the result of the build (the binary's path or
// the error): its sync.Once runs the build once, on the goroutine of the
// first test that calls Path, and every other caller waits for it and
// then only reads the result; its mutex guards the directory against a
// Remove racing the build. So parallel tests may share one Shared.
//
// A test package owns its Shared (a package-level variable) and removes
// the binary from TestMain after the tests. Consumers: the tests of
// cmd/rayflow and cmd/rayflow/internal/repl (Shared), and of spec and
// examples (Build, StatSources, ModuleRoot). Only tests use it.
package clibuild
