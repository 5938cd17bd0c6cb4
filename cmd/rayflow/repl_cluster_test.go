//go:build linux

package main

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

// `rayflow repl --address HEAD` is a session on the cluster (it said "not
// available yet"): its tasks run on the cluster's nodes, declarations
// and an actor's state persist across inputs, and Ctrl-C during an
// input cancels that input's task there (status shows nothing running
// any more) while the session, and its actor, go on.
func TestReplOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, np := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--node-id", "head")
	startProc(t, bin, "start", "--address", head, "--port", fmt.Sprint(np), "--cpus", "1", "--node-id", "n1")

	dir := t.TempDir()
	controller, term := openPTY(t)
	defer controller.Close()
	cmd := exec.Command(bin, "repl", "--address", head)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	scr := readScreen(controller)
	typeIn := func(s string) {
		t.Helper()
		if _, err := controller.Write([]byte(s)); err != nil {
			t.Fatalf("write to the terminal: %v", err)
		}
	}
	const wait = 10 * time.Second
	scr.expect(t, ">>> ", wait)

	typeIn("task where() { return sys.node() }\r")
	scr.expect(t, ">>> ", wait)
	typeIn("get(where()) in [\"head\", \"n1\"]\r") // a node of the cluster, not the session's own
	scr.expect(t, "true\r\n", wait)
	scr.expect(t, ">>> ", wait)
	typeIn("actor Acc() {\r")
	scr.expect(t, "... ", wait)
	typeIn("let n = 0\r")
	typeIn("method add(x) { n += x\r")
	typeIn("return n }\r")
	typeIn("}\r")
	scr.expect(t, ">>> ", wait)
	typeIn("let a = Acc()\r")
	scr.expect(t, ">>> ", wait)
	typeIn("get(a.add(2))\r")
	scr.expect(t, "2\r\n", wait)
	typeIn("get(a.add(3))\r")
	scr.expect(t, "5\r\n", wait)
	scr.expect(t, ">>> ", wait)

	// An error raised on a node names the inputs' lines, as an embedded
	// session does.
	typeIn("fn helper(x) { return 10 / x }\r")
	scr.expect(t, ">>> ", wait)
	typeIn("task boom(x) {\r")
	typeIn("    return helper(x)\r")
	typeIn("}\r")
	scr.expect(t, ">>> ", wait)
	typeIn("get(boom(0))\r")
	scr.expect(t, "<repl:helper>:1:26: error: task 'boom' failed: division by zero", wait)
	scr.expect(t, "<repl:boom>:2:12 in boom (on node ", wait)
	scr.expect(t, ">>> ", wait)

	typeIn("task slow() { time.sleep(60)\r")
	typeIn("return 1 }\r")
	scr.expect(t, ">>> ", wait)
	typeIn("get(slow())\r")
	running := func() int {
		n := 0
		for _, node := range statusLoad(t, bin, head).Nodes {
			n += node.Running
		}
		return n
	}
	testutil.Eventually(t, wait, "the input's task running on the cluster", func() bool { return running() == 1 })
	typeIn("\x03")
	scr.expect(t, "interrupted", wait)
	scr.expect(t, ">>> ", wait)
	testutil.Eventually(t, wait, "the interrupted input's task cancelled on the cluster", func() bool { return running() == 0 })

	typeIn("get(a.add(1))\r")
	scr.expect(t, "6\r\n", wait)
	scr.expect(t, ">>> ", wait)
	typeIn(":quit\r")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("rayflow repl --address exited with %v:\n%s", err, scr.String())
		}
	case <-time.After(wait):
		t.Fatal(":quit did not end the session")
	}
}

// repl --bind without --address, and --cpus with it, are usage errors.
func TestReplClusterFlags(t *testing.T) {
	bin := buildCLI(t)
	for _, args := range [][]string{{"repl", "--bind", "0.0.0.0"}, {"repl", "--address", "127.0.0.1:1", "--cpus", "2"}} {
		cmd := exec.Command(bin, args...)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(out), "applies to") {
			t.Errorf("rayflow %s: exit %d:\n%s", strings.Join(args, " "), cmd.ProcessState.ExitCode(), out)
		}
	}
}
