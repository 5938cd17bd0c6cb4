package clibuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Shared is the rayflow command built at most once per test binary: the
// first test that asks for it builds it, every later one gets the same
// binary. A test package declares one Shared as a package variable and
// removes the binary from TestMain after m.Run:
//
//	var cli clibuild.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		cli.Remove()
//		os.Exit(code)
//	}
//
// Its methods are safe for concurrent use (parallel tests).
type Shared struct {
	once sync.Once
	mu   sync.Mutex // guards dir against a Remove racing the build
	dir  string     // the temporary directory the binary is built in
	bin  string
	err  error
}

// Path returns the built binary, building it on the first call, and
// fails t if it cannot be built. The first call also stats the module's
// sources (StatSources), which is why it must be called from a test.
func (s *Shared) Path(t testing.TB) string {
	t.Helper()
	s.once.Do(s.build)
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.bin
}

func (s *Shared) build() {
	wd, err := os.Getwd()
	if err != nil {
		s.err = err
		return
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		s.err = err
		return
	}
	StatSources(root)
	dir, err := os.MkdirTemp("", "rayflow-cli-")
	if err != nil {
		s.err = err
		return
	}
	s.mu.Lock()
	s.dir = dir
	s.mu.Unlock()
	s.bin, s.err = Build(root, dir)
}

// Remove deletes the built binary, if any.
func (s *Shared) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// ModuleRoot returns the directory of the go.mod at or above dir.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
