package clibuild

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build builds cmd/rayflow of the module rooted at root into dir and
// returns the binary's path.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "rayflow")
	// go test puts its own GOROOT/bin first on PATH, so this is the same go.
	cmd := exec.Command("go", "build", "-o", bin, "github.com/rayflow/rayflow/cmd/rayflow")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/rayflow: %v\n%s", err, out)
	}
	return bin, nil
}

// StatSources looks at every Go source of the module rooted at root. go
// test caches a package's result while the files its tests consulted are
// unchanged; a build in a subprocess reads the sources behind its back,
// so a test package that runs the built binary must call this from a test
// (not from TestMain, whose file reads are not recorded), or a change to
// the runtime leaves a stale "ok" in the cache.
func StatSources(root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "out" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			os.Stat(path)
		}
		return nil
	})
}
