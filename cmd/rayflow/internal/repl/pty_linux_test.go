package repl

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// TestTerminalSession drives the real binary through a pseudo-terminal:
// line editing on, prompts, values, an error, Ctrl-C during a running
// input, and :quit.
func TestTerminalSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the rayflow binary")
	}
	dir := t.TempDir()
	bin := cli.Path(t)

	controller, term := testutil.OpenPTY(t, 100)
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

	scr := testutil.ReadScreen(controller)
	typeIn := func(s string) {
		t.Helper()
		if _, err := controller.Write([]byte(s)); err != nil {
			t.Fatalf("write to the terminal: %v", err)
		}
	}
	const wait = 10 * time.Second

	scr.Expect(t, ">>> ", wait)
	typeIn("task sq(x) { return x * x }\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("let x = get(sq(4))\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("x + 1\r")
	scr.Expect(t, "17\r\n", wait)
	scr.Expect(t, ">>> ", wait)

	// A multi-line input shows the continuation prompt.
	typeIn("let l = [1,\r")
	scr.Expect(t, "... ", wait)
	typeIn("2]\r")
	scr.Expect(t, ">>> ", wait)

	// An error is shown and the session goes on.
	typeIn("x + nope\r")
	scr.Expect(t, "<repl>:1:5: error: undefined name 'nope'", wait)
	scr.Expect(t, ">>> ", wait)

	// Ctrl-C during a running input stops it and gives the prompt back.
	typeIn("print(\"sleeping\"); time.sleep(30)\r")
	scr.Expect(t, "sleeping\r\n", wait)
	start := time.Now()
	typeIn("\x03")
	scr.Expect(t, "interrupted", wait)
	scr.Expect(t, ">>> ", wait)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Ctrl-C took %v to stop the input", el)
	}

	// Ctrl-C at an empty prompt gives a hint; the session is still there.
	typeIn("\x03")
	scr.Expect(t, "press Ctrl-C again", wait)
	typeIn("len(l) + x\r")
	scr.Expect(t, "18\r\n", wait)
	scr.Expect(t, ">>> ", wait)

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
	<-scr.Done()
	if _, err := os.Stat(filepath.Join(dir, "cache", "rayflow", "repl_history")); err != nil {
		t.Errorf("no history file: %v", err)
	}
}
