package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/internal/version"
)

// Every place that reports rayflow's version reports internal/version's.
func TestVersionHasOneSource(t *testing.T) {
	want := "rayflow " + version.Version + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		if code, out, _ := invoke(t, args...); code != exitOK || out != want {
			t.Errorf("rayflow %s: exit %d, %q; want %q", args[0], code, out, want)
		}
	}
	if rayflow.Version != version.Version {
		t.Errorf("rayflow.Version %q, internal/version %q", rayflow.Version, version.Version)
	}
}

// A release build sets the version once, at link time, and both the
// command and the programs it runs (sys.version) report it.
func TestVersionSetAtLinkTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	const set = "9.8.7-linktest"
	bin := filepath.Join(t.TempDir(), "rayflow")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X github.com/rayflow/rayflow/internal/version.Version="+set, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || string(out) != "rayflow "+set+"\n" {
		t.Errorf("rayflow version: %q (%v), want %q", out, err, "rayflow "+set)
	}
	prog := writeProgram(t, "pipeline main() { print(sys.version) }\n")
	if out, err := exec.Command(bin, "run", prog).Output(); err != nil || strings.TrimSpace(string(out)) != set {
		t.Errorf("sys.version: %q (%v), want %q", out, err, set)
	}
}
