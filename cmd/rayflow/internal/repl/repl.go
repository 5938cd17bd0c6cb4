// Package repl is rayflow's interactive session.
package repl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rayflow/rayflow"
)

// Options configure a session.
type Options struct {
	CPUs   int
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs a session until end of input or :quit, returning the exit code.
func Run(opts Options) int {
	in := bufio.NewScanner(opts.Stdin)
	var decls []string
	for {
		fmt.Fprint(opts.Stdout, ">>> ")
		if !in.Scan() {
			fmt.Fprintln(opts.Stdout)
			return 0
		}
		line := strings.TrimSpace(in.Text())
		switch {
		case line == "":
			continue
		case line == ":quit" || line == ":q":
			return 0
		}
		src := strings.Join(decls, "\n") + "\npipeline __repl__() {\n" + line + "\n}\n"
		prog, err := rayflow.Compile("<repl>", src, nil)
		if err != nil {
			fmt.Fprint(opts.Stderr, rayflow.FormatError(err, src))
			continue
		}
		v, err := prog.Run(context.Background(), rayflow.RunOptions{Pipeline: "__repl__", CPUs: opts.CPUs, Stdout: opts.Stdout})
		if err != nil {
			fmt.Fprint(opts.Stderr, rayflow.FormatError(err, src))
			continue
		}
		if !v.IsNone() {
			fmt.Fprintln(opts.Stdout, v.Repr())
		}
	}
}
