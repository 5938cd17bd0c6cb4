//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rayflow/rayflow/internal/testutil"
)

// openPTY opens a pseudo-terminal pair: the controller side, which the
// test reads and writes as a user at a terminal would, and the terminal
// the program gets.
func openPTY(t *testing.T) (controller, term *os.File) {
	t.Helper()
	c, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	ioctl := func(req uintptr, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, c.Fd(), req, uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatalf("pty number: %v", err)
	}
	size := struct{ rows, cols, x, y uint16 }{24, 200, 0, 0}
	if err := ioctl(syscall.TIOCSWINSZ, unsafe.Pointer(&size)); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return c, term
}

// screen collects what a program writes to its terminal.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // how far expect has matched
}

// readScreen reads the controller side of a terminal until it closes.
func readScreen(controller *os.File) *screen {
	s := &screen{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := controller.Read(buf)
			s.mu.Lock()
			s.buf.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// expect waits until want appears after what earlier expects matched.
func (s *screen) expect(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	var rest string
	ok := false
	defer func() {
		if !ok {
			t.Logf("the terminal shows after the last match:\n%s", rest)
		}
	}()
	testutil.Eventually(t, timeout, fmt.Sprintf("%q on the terminal", want), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		rest = s.buf.String()[s.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			s.seen += i + len(want)
			return true
		}
		return false
	})
	ok = true
}
