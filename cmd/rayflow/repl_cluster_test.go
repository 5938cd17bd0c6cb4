//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

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
	controller, term := testutil.OpenPTY(t, 200)
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
	scr := testutil.ReadScreen(controller)
	typeIn := func(s string) {
		t.Helper()
		if _, err := controller.Write([]byte(s)); err != nil {
			t.Fatalf("write to the terminal: %v", err)
		}
	}
	const wait = 10 * time.Second
	scr.Expect(t, ">>> ", wait)

	typeIn("task where() { return sys.node() }\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("get(where()) in [\"head\", \"n1\"]\r") // a node of the cluster, not the session's own
	scr.Expect(t, "true\r\n", wait)
	scr.Expect(t, ">>> ", wait)
	typeIn("actor Acc() {\r")
	scr.Expect(t, "... ", wait)
	typeIn("let n = 0\r")
	typeIn("method add(x) { n += x\r")
	typeIn("return n }\r")
	typeIn("}\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("let a = Acc()\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("get(a.add(2))\r")
	scr.Expect(t, "2\r\n", wait)
	typeIn("get(a.add(3))\r")
	scr.Expect(t, "5\r\n", wait)
	scr.Expect(t, ">>> ", wait)

	// An error raised on a node names the inputs' lines, as an embedded
	// session does.
	typeIn("fn helper(x) { return 10 / x }\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("task boom(x) {\r")
	typeIn("    return helper(x)\r")
	typeIn("}\r")
	scr.Expect(t, ">>> ", wait)
	typeIn("get(boom(0))\r")
	scr.Expect(t, "<repl:helper>:1:26: error: task 'boom' failed: division by zero", wait)
	scr.Expect(t, "<repl:boom>:2:12 in boom (on node ", wait)
	scr.Expect(t, ">>> ", wait)

	typeIn("task slow() { time.sleep(60)\r")
	typeIn("return 1 }\r")
	scr.Expect(t, ">>> ", wait)
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
	scr.Expect(t, "interrupted", wait)
	scr.Expect(t, ">>> ", wait)
	testutil.Eventually(t, wait, "the interrupted input's task cancelled on the cluster", func() bool { return running() == 0 })

	typeIn("get(a.add(1))\r")
	scr.Expect(t, "6\r\n", wait)
	scr.Expect(t, ">>> ", wait)
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
