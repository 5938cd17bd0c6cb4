package tty

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// openTerminal opens a pseudo-terminal and returns its terminal side
// (what a program run in a terminal gets as stdin, stdout and stderr).
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	c, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	var unlock int32
	var n uint32
	for _, req := range []struct {
		op  uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, c.Fd(), req.op, uintptr(req.arg)); e != 0 {
			t.Fatalf("ioctl %#x: %v", req.op, e)
		}
	}
	term, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	return term
}

func TestIsTerminal(t *testing.T) {
	if !IsTerminal(openTerminal(t)) {
		t.Errorf("a pseudo-terminal is not a terminal")
	}
	// /dev/null is a character device, and was taken for a terminal by
	// the check this one replaced (os.ModeCharDevice).
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "err.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, v := range map[string]any{"/dev/null": null, "a file": file, "a pipe": w,
		"a bytes.Buffer": &bytes.Buffer{}, "nil": nil, "a nil *os.File": (*os.File)(nil)} {
		if IsTerminal(v) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
}
