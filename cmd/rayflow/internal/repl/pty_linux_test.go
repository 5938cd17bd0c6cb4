package repl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// the program gets as its stdin, stdout and stderr.
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
	size := struct{ rows, cols, x, y uint16 }{24, 100, 0, 0}
	if err := ioctl(syscall.TIOCSWINSZ, unsafe.Pointer(&size)); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return c, term
}

// screen collects what the program writes to the terminal.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // how far expect has matched
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// expect waits until want appears after what earlier expects matched.
func (s *screen) expect(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	var rest string
	seen := false
	defer func() {
		if !seen {
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
	seen = true
}

// TestTerminalSession drives the real binary through a pseudo-terminal:
// line editing on, prompts, values, an error, Ctrl-C during a running
// input, and :quit.
func TestTerminalSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the rayflow binary")
	}
	dir := t.TempDir()
	bin := cli.Path(t)

	controller, term := openPTY(t)
	defer controller.Close()
	cmd := exec.Command(bin, "repl", "--cpus", "2")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	finished := false
	defer func() {
		if !finished {
			cmd.Process.Kill()
			<-exited
		}
	}()

	scr := &screen{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := controller.Read(buf)
			scr.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	typeIn := func(s string) {
		t.Helper()
		if _, err := controller.Write([]byte(s)); err != nil {
			t.Fatalf("write to the terminal: %v", err)
		}
	}
	const wait = 10 * time.Second

	scr.expect(t, ">>> ", wait)
	typeIn("task sq(x) { return x * x }\r")
	scr.expect(t, ">>> ", wait)
	typeIn("let x = get(sq(4))\r")
	scr.expect(t, ">>> ", wait)
	typeIn("x + 1\r")
	scr.expect(t, "17\r\n", wait)
	scr.expect(t, ">>> ", wait)

	// A multi-line input shows the continuation prompt.
	typeIn("let l = [1,\r")
	scr.expect(t, "... ", wait)
	typeIn("2]\r")
	scr.expect(t, ">>> ", wait)

	// An error is shown and the session goes on.
	typeIn("x + nope\r")
	scr.expect(t, "<repl>:1:5: error: undefined name 'nope'", wait)
	scr.expect(t, ">>> ", wait)

	// Ctrl-C during a running input stops it and gives the prompt back.
	typeIn("print(\"sleeping\"); time.sleep(30)\r")
	scr.expect(t, "sleeping\r\n", wait)
	start := time.Now()
	typeIn("\x03")
	scr.expect(t, "interrupted", wait)
	scr.expect(t, ">>> ", wait)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Ctrl-C took %v to stop the input", el)
	}

	// Ctrl-C at an empty prompt gives a hint; the session is still there.
	typeIn("\x03")
	scr.expect(t, "press Ctrl-C again", wait)
	typeIn("len(l) + x\r")
	scr.expect(t, "18\r\n", wait)
	scr.expect(t, ">>> ", wait)

	typeIn(":quit\r")
	select {
	case err := <-exited:
		finished = true
		if err != nil {
			t.Errorf("rayflow repl exited with %v", err)
		}
	case <-time.After(wait):
		t.Fatal(":quit did not end the session")
	}
	controller.Close()
	<-readDone
	if _, err := os.Stat(filepath.Join(dir, "cache", "rayflow", "repl_history")); err != nil {
		t.Errorf("no history file: %v", err)
	}
}
