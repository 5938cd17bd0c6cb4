package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// `rayflow run FILE >/dev/null 2>err.txt`: stderr is a file, so the
// progress line (drawn on stderr only when stderr is a terminal) must not
// be drawn: err.txt gets no escape codes. /dev/null on stdout is a
// character device, which the check this replaced took for a terminal.
func TestNoProgressLineWhenStderrIsAFile(t *testing.T) {
	bin := buildCLI(t)
	// The task runs for several of the progress line's 100 ms redraws.
	prog := writeProgram(t, "task f(x) { time.sleep(0.5)\n return x }\npipeline main() { print(get(f(1))) }\n")
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	errPath := filepath.Join(t.TempDir(), "err.txt")
	errFile, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd := exec.Command(bin, "run", prog)
	cmd.Stdout, cmd.Stderr = null, errFile
	if err := cmd.Run(); err != nil {
		t.Fatalf("rayflow run: %v", err)
	}
	got, err := os.ReadFile(errPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(got, "\x1b\r") {
		t.Fatalf("stderr redirected to a file got terminal control codes:\n%q", got)
	}
}
