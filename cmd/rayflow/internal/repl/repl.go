package repl

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/peterh/liner"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/tty"
)

// Options configure a session.
type Options struct {
	CPUs int
	// Address, when set, lists a cluster's heads: the session is a
	// driver on that cluster (listening at Bind) instead of running an
	// embedded one.
	Address []string
	Bind    string
	Token   []byte      // the cluster's token, with Address
	TLS     *tls.Config // the session's TLS (cmd/rayflow/tls.go), with Address
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// HistoryFile is where a terminal session keeps its lines: "" for
	// the default (in the user's cache directory), "-" for nowhere.
	HistoryFile string
}

const (
	prompt       = ">>> "
	continuation = "... "
	quitHint     = "(to leave, press Ctrl-C again or Ctrl-D, or type :quit)"
)

// errInterrupt is what a reader returns when Ctrl-C is pressed at a prompt.
var errInterrupt = errors.New("interrupt")

// lineReader reads one line of input after showing a prompt.
type lineReader interface {
	// Read returns the line without its newline, io.EOF at the end of
	// input, or errInterrupt for Ctrl-C.
	Read(prompt string) (string, error)
	AddHistory(line string)
	Close()
}

// Run runs a session until end of input or :quit, returning the exit code.
func Run(opts Options) int {
	var mu sync.Mutex
	out := &syncWriter{mu: &mu, w: opts.Stdout}
	errOut := &syncWriter{mu: &mu, w: opts.Stderr}
	var sess *Session
	var err error
	if len(opts.Address) > 0 {
		sess, err = NewClusterSession(opts.Address, opts.Bind, opts.Token, opts.TLS, tty.IsTerminal(opts.Stdout), out, errOut)
	} else {
		sess, err = NewSession(opts.CPUs, out, errOut)
	}
	if err != nil {
		fmt.Fprintf(errOut, "error: cannot start the cluster: %v\n", err)
		return 1
	}
	defer sess.Close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	var in lineReader
	if isTerminal(opts.Stdin, opts.Stdout) {
		lr := newLinerReader(historyPath(opts.HistoryFile))
		in = lr
		// liner keeps the terminal in raw mode until Close: give it back
		// when the session is told to end by a signal other than Ctrl-C.
		ended := make(chan struct{})
		defer close(ended)
		go func() {
			term := make(chan os.Signal, 1)
			signal.Notify(term, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(term)
			select {
			case sig := <-term:
				lr.Close()
				sess.Close()
				code := 1
				if s, ok := sig.(syscall.Signal); ok {
					code = 128 + int(s)
				}
				os.Exit(code)
			case <-ended:
			}
		}()
	} else {
		in = newPlainReader(opts.Stdin, sigs)
	}
	defer in.Close()

	var pending []string
	interrupts := 0
	for {
		p := prompt
		if len(pending) > 0 {
			p = continuation
		}
		line, err := in.Read(p)
		switch {
		case errors.Is(err, errInterrupt):
			if len(pending) > 0 {
				pending, interrupts = nil, 0
				continue
			}
			interrupts++
			if interrupts >= 2 {
				return 0
			}
			fmt.Fprintln(errOut, quitHint)
			continue
		case errors.Is(err, io.EOF):
			if len(pending) > 0 {
				evalInterruptible(sess, sigs, strings.Join(pending, "\n"))
			}
			if _, ok := in.(*linerReader); ok {
				fmt.Fprintln(out)
			}
			return 0
		case err != nil:
			fmt.Fprintf(errOut, "error: cannot read input: %v\n", err)
			return 1
		}
		interrupts = 0
		if strings.TrimSpace(line) != "" {
			in.AddHistory(line)
		}
		if len(pending) > 0 && strings.TrimSpace(line) == "" {
			text := strings.Join(pending, "\n")
			pending = nil
			if evalInterruptible(sess, sigs, text) == errQuit {
				return 0
			}
			continue
		}
		pending = append(pending, line)
		text := strings.Join(pending, "\n")
		if !strings.HasPrefix(strings.TrimSpace(text), ":") && needsMore(text) {
			continue
		}
		pending = nil
		if evalInterruptible(sess, sigs, text) == errQuit {
			return 0
		}
	}
}

// evalInterruptible runs one input; an interrupt signal meanwhile
// cancels it.
func evalInterruptible(sess *Session, sigs chan os.Signal, text string) error {
	// A signal that came while no input ran is not meant for this one.
	select {
	case <-sigs:
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-sigs:
			cancel()
		case <-done:
		}
	}()
	err := sess.Eval(ctx, text)
	close(done)
	wg.Wait()
	return err
}

// syncWriter serialises the writes of the session and of tasks that
// print while the session prints.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// isTerminal reports whether the session talks to a terminal on both
// ends, one liner can edit lines on: liner works on the process's own
// stdin and stdout.
func isTerminal(in io.Reader, out io.Writer) bool {
	if in != io.Reader(os.Stdin) || out != io.Writer(os.Stdout) {
		return false
	}
	return tty.IsTerminal(os.Stdin) && tty.IsTerminal(os.Stdout) && liner.TerminalSupported()
}

func historyPath(opt string) string {
	switch opt {
	case "-":
		return ""
	case "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(dir, "rayflow", "repl_history")
	}
	return opt
}

// linerReader reads lines on a terminal with editing and history.
type linerReader struct {
	st      *liner.State
	history string
}

func newLinerReader(history string) *linerReader {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	r := &linerReader{st: st, history: history}
	if history != "" {
		if f, err := os.Open(history); err == nil {
			st.ReadHistory(f)
			f.Close()
		}
	}
	return r
}

func (r *linerReader) Read(p string) (string, error) {
	line, err := r.st.Prompt(p)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errInterrupt
	}
	return line, err
}

func (r *linerReader) AddHistory(line string) { r.st.AppendHistory(line) }

func (r *linerReader) Close() {
	if r.history != "" {
		if err := os.MkdirAll(filepath.Dir(r.history), 0o755); err == nil {
			if f, err := os.Create(r.history); err == nil {
				r.st.WriteHistory(f)
				f.Close()
			}
		}
	}
	r.st.Close()
}

// plainReader reads lines from a pipe or file, without prompts. Lines
// are read on a goroutine so that an interrupt signal can be seen while
// waiting for one.
type plainReader struct {
	lines chan lineOrErr
	sigs  <-chan os.Signal
	done  chan struct{}
}

type lineOrErr struct {
	line string
	err  error
}

func newPlainReader(in io.Reader, sigs <-chan os.Signal) *plainReader {
	r := &plainReader{lines: make(chan lineOrErr), sigs: sigs, done: make(chan struct{})}
	if in == nil {
		in = strings.NewReader("")
	}
	send := func(l lineOrErr) bool {
		select {
		case r.lines <- l:
			return true
		case <-r.done:
			return false
		}
	}
	// The goroutine ends at the end of input or when the session ends;
	// a read blocked on a terminal or pipe ends with the process.
	go func() {
		br := bufio.NewReader(in)
		for {
			line, err := br.ReadString('\n')
			if line != "" && !send(lineOrErr{line: strings.TrimRight(line, "\r\n")}) {
				return
			}
			if err != nil {
				send(lineOrErr{err: err})
				return
			}
		}
	}()
	return r
}

func (r *plainReader) Read(string) (string, error) {
	select {
	case l := <-r.lines:
		return l.line, l.err
	case <-r.sigs:
		return "", errInterrupt
	}
}

func (r *plainReader) AddHistory(string) {}

func (r *plainReader) Close() { close(r.done) }
