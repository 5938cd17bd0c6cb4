package testutil

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
)

// OpenPTY opens a pseudo-terminal pair of 24 rows and cols columns: the
// controller side, which a test reads and writes as a person at the
// terminal would, and the terminal a program gets as its stdin, stdout
// and stderr. It skips the test where there are no pseudo-terminals.
func OpenPTY(t testing.TB, cols uint16) (controller, term *os.File) {
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
	size := struct{ rows, cols, x, y uint16 }{24, cols, 0, 0}
	if err := ioctl(syscall.TIOCSWINSZ, unsafe.Pointer(&size)); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return c, term
}

// Screen collects what a program writes to its terminal, read from the
// controller side by ReadScreen's goroutine.
type Screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // how far Expect has matched
	done chan struct{}
}

// ReadScreen reads the controller side of a terminal until it closes.
func ReadScreen(controller *os.File) *Screen {
	s := &Screen{done: make(chan struct{})}
	go func() {
		defer close(s.done)
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

// Done is closed when the terminal has closed and everything it showed
// has been read.
func (s *Screen) Done() <-chan struct{} { return s.done }

// String is everything the terminal has shown so far.
func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Expect waits until want appears after what earlier Expects matched.
func (s *Screen) Expect(t testing.TB, want string, within time.Duration) {
	t.Helper()
	var rest string
	ok := false
	defer func() {
		if !ok {
			t.Logf("the terminal shows after the last match:\n%s", rest)
		}
	}()
	Eventually(t, within, fmt.Sprintf("%q on the terminal", want), func() bool {
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
