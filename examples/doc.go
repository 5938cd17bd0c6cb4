// Package examples holds the runnable rayflow programs a user starts
// from (hello, pi, wordcount, parameter_server, es_cartpole, serve_policy, each a
// .rayflow file that says how to run it), the text files in data/ that
// wordcount reads, and, in embed/, a Go program that embeds rayflow. It
// has no Go code of its own: this file only documents the directory.
//
// Its test (package examples_test) runs every example program through
// the real command line, as a user would: it builds cmd/rayflow once,
// runs each example from the repository root (the examples read files
// relative to the working directory) with small parameters, and checks
// the exit code and a key line of output; serve_policy is also served
// with `rayflow serve` and driven over HTTP by CartPole clients.
// TestEveryExampleIsTested keeps
// the examples and their tests in step.
//
// # Ownership and threading
//
// The test's package-level state (the built binary's path, the build
// error, the repository root) is written once by TestMain before any
// test runs and only read afterwards, so the examples' subtests run in
// parallel, each in a process of its own; the table of examples is only
// read. Each run is the state of its own process: nothing is shared
// between examples but the read-only files they read.
//
// Consumers: users and the documentation (README.md points at these
// programs). Nothing imports this package.
package examples
