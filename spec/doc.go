// Package spec holds the rayflow language reference and its conformance
// corpus.
//
// The corpus lives in testdata/: every NAME.rayflow program is run through
// the real `rayflow` command line and its stdout, stderr and exit code are
// compared with NAME.out, NAME.err and the program's header lines (see
// testdata/README.md). The expected files are written by hand from
// LANGUAGE.md, never generated from the implementation, so that a change in
// behaviour shows up as a failing program rather than as a silently updated
// golden file.
//
// The pages' examples are tested too: every ```rayflow block followed by
// an ```output block is run and must print exactly that (docs_test.go).
//
// Run it with
//
//	go test ./spec
//	RAYFLOW_SPEC_ONLY='task_*,actor_*' go test ./spec -v
package spec
