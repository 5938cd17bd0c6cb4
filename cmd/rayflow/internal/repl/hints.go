package repl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
)

// hintNotes is what a session says of the planner's decisions, as
// `rayflow run` does: a warning, once per session, for each hint of the
// declarations the planner refused, and what the last input's run
// decided and did, for :explain. The session's goroutine alone uses it.
type hintNotes struct {
	warned map[string]bool // refusals warned about, without their call site
	last   string          // the last run's explanation (run --explain's text)
}

// sitePrefix is the call site a warning starts with ("warning: FILE:L:C: "),
// which differs from input to input for the same refusal.
var sitePrefix = regexp.MustCompile(`^warning: .*?:\d+:\d+: `)

// runValues runs prog as the session runs every input: planned as
// `rayflow run` plans (the default options), warning of refused hints
// once per session, and keeping the run's explanation for :explain.
// input says prog runs a typed input, whose program need not use every
// declaration's hint (:run runs a declared pipeline, as `rayflow run`).
func (s *Session) runValues(ctx context.Context, prog *rayflow.Program, opts rayflow.RunOptions, args []exec.Value, input bool) (exec.Value, error) {
	var warn, explain bytes.Buffer
	opts.Warn, opts.Explain, opts.QuietUnused = &warn, &explain, input
	result, err := prog.RunValues(ctx, opts, args)
	s.hints.warn(s.errOut, warn.String())
	s.hints.last = explain.String()
	return result, err
}

// warn writes the warnings of text not written before in the session.
func (h *hintNotes) warn(w io.Writer, text string) {
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		key := sitePrefix.ReplaceAllString(line, "")
		if h.warned[key] {
			continue
		}
		if h.warned == nil {
			h.warned = map[string]bool{}
		}
		h.warned[key] = true
		fmt.Fprint(w, line)
	}
}

// explainLast writes what the last input decided and did as it ran, if
// an input ran.
func (h *hintNotes) explainLast(w io.Writer) {
	if h.last == "" {
		return
	}
	fmt.Fprintln(w, "the last input, as it ran:")
	for _, line := range strings.SplitAfter(h.last, "\n") {
		if line != "" {
			fmt.Fprint(w, "  ", line)
		}
	}
}
