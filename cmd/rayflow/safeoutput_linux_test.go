package main

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// A task on a cluster cannot drive the terminal of the user who runs the
// driver: its prints reach a driver whose stdout is a terminal without
// ESC, BEL or other controls (newlines and tabs kept); with stdout a pipe
// they arrive as printed, the same as embedded.
func TestRemotePrintsStrippedOnATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	head := startHeadAndWorker(t, bin)
	prog := writeProgram(t, `
task shout() {
    let esc = str.chr(27)
    print(esc + "[2J" + esc + "]0;pwned" + str.chr(7) + "red" + str.chr(13) + "\tdone" + str.chr(155) + "!")
    return 1
}
pipeline main() { get(shout()) }
`)
	const printed = "\x1b[2J\x1b]0;pwned\x07red\r\tdone\u009b!\n"

	// A pipe: as printed, as embedded.
	embedded, err := exec.Command(bin, "run", prog).Output()
	if err != nil || string(embedded) != printed {
		t.Fatalf("embedded: %v %q", err, embedded)
	}
	piped, err := exec.Command(bin, "run", "--address", head, prog).Output()
	if err != nil || string(piped) != printed {
		t.Fatalf("on the cluster, stdout a pipe: %v %q", err, piped)
	}

	// A terminal: the controls are gone.
	controller, term := testutil.OpenPTY(t, 200)
	defer controller.Close()
	cmd := exec.Command(bin, "run", "--address", head, prog)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = term, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	scr := testutil.ReadScreen(controller)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	scr.Expect(t, "!", 5*time.Second)
	shown := scr.String()
	// The terminal itself turns "\n" into "\r\n".
	if want := "[2J]0;pwnedred\tdone!\r\n"; shown != want || strings.ContainsAny(shown, "\x1b\x07") {
		t.Fatalf("on a terminal: %q, want %q", shown, want)
	}
}
