package repl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/planner"
)

// How a session turns inputs into programs.
//
// Declarations (const, fn, task, actor, pipeline) are kept as source text,
// one entry per declared name; a new declaration of a name replaces the
// old one. Every input is compiled as a fresh program: the declarations,
// each parsed again from its text (so that no AST is shared with code
// still running from an earlier input), plus, for statements, a hidden
// pipeline:
//
//	pipeline __repl__(v1, v2, ...) {   # the session's variables
//	    {                              # the input's statements
//	        let y = ...                #   a top-level let may shadow a variable
//	        let __value__ = EXPR       #   a final expression statement
//	        return [v1, v2, ..., y, __value__]
//	    }
//	}
//
// The statements sit in an inner block so that `let x = ...` of an
// existing variable declares a new one instead of failing; the returned
// list carries every variable back, and the session keeps them as values.
// All inputs run on the session's one cluster, so futures and actor
// handles stay valid between inputs.

const (
	hiddenPipeline = "__repl__"
	valueName      = "__value__"
	inputFile      = "<repl>"
	wrapPrefix     = "pipeline " + hiddenPipeline + "() {\n"
)

// declEntry is one declared name and the input it came from.
type declEntry struct {
	name  string
	src   string // the whole input the declaration was typed in
	index int    // which declaration of that input
}

// file is the name positions in a stored declaration carry.
func (d *declEntry) file() string { return "<repl:" + d.name + ">" }

// Session is the state of one REPL: declarations, variables and the
// cluster everything runs on.
type Session struct {
	out, errOut io.Writer
	cpus        int
	// heads, when set, are a cluster's heads: the session is a driver
	// there (its inputs' tasks and actors run on the cluster's nodes),
	// listening for results at bind (nodeagent.ConnectDriverAt).
	heads []string
	bind  string
	token []byte      // the cluster's token
	tls   *tls.Config // the session's TLS; nil: none
	// safeOutput strips terminal controls from what the cluster's tasks
	// print (nodeagent.Config.SafeOutput): out is a terminal.
	safeOutput bool
	// mu guards cluster: a signal may close the session (from another
	// goroutine) while an input runs on it.
	mu      sync.Mutex
	cluster *nodeagent.Cluster

	decls []*declEntry
	// shipped is where each declaration sits in the text last sent to
	// the cluster's nodes, to give errors raised there the positions of
	// the inputs the declarations were typed in.
	shipped []shippedDecl
	vars    map[string]exec.Value
	order   []string // variable names in the order they were declared
	// hints is what the session says of the planner's decisions: the
	// refused hints it warned about, the last run's explanation.
	hints hintNotes
}

// NewSession starts a session and its cluster. out receives program
// output and values; errOut receives errors.
func NewSession(cpus int, out, errOut io.Writer) (*Session, error) {
	return start(&Session{out: out, errOut: errOut, cpus: cpus})
}

// NewClusterSession starts a session that is a driver on the cluster
// whose heads are at heads, listening for results at bind (empty: the
// interface it reaches the heads from). safeOutput, for an out that is a
// terminal, strips terminal controls from what the cluster's tasks print.
func NewClusterSession(heads []string, bind string, token []byte, tlsCfg *tls.Config, safeOutput bool, out, errOut io.Writer) (*Session, error) {
	return start(&Session{out: out, errOut: errOut, heads: heads, bind: bind, token: token, tls: tlsCfg, safeOutput: safeOutput})
}

func start(s *Session) (*Session, error) {
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

// newCluster starts what the session runs on: an embedded cluster, or a
// driver on the cluster of s.heads.
func (s *Session) newCluster() (*nodeagent.Cluster, error) {
	if len(s.heads) > 0 {
		return nodeagent.ConnectDriverAt(s.heads, s.bind, nodeagent.Config{Stdout: s.out, Token: s.token, TLS: s.tls, SafeOutput: s.safeOutput})
	}
	return nodeagent.NewCluster(nodeagent.Config{CPUs: s.cpus, Stdout: s.out})
}

func (s *Session) reset() error {
	if old := s.swapCluster(nil); old != nil {
		old.Shutdown("the session was reset")
	}
	cluster, err := s.newCluster()
	if err != nil {
		return err
	}
	s.swapCluster(cluster)
	s.decls = nil
	s.vars = map[string]exec.Value{}
	s.order = nil
	s.hints = hintNotes{}
	return nil
}

// Close stops the session's cluster. Any goroutine may call it.
func (s *Session) Close() {
	if c := s.swapCluster(nil); c != nil {
		c.Shutdown("the session has ended")
	}
}

// swapCluster makes c the session's cluster and returns the one before.
func (s *Session) swapCluster(c *nodeagent.Cluster) *nodeagent.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cluster
	s.cluster = c
	return old
}

// runCluster is the cluster inputs run on (nil once the session closed).
func (s *Session) runCluster() *nodeagent.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cluster
}

// errQuit is returned by Eval for :quit.
var errQuit = errors.New("quit")

// Eval runs one complete input: a command, declarations or statements.
// Errors are printed, not returned; the result is errQuit for :quit and
// nil otherwise. Cancelling ctx interrupts a running input.
func (s *Session) Eval(ctx context.Context, input string) error {
	trimmed := strings.TrimSpace(input)
	switch {
	case trimmed == "":
		return nil
	case strings.HasPrefix(trimmed, ":"):
		return s.command(ctx, trimmed)
	case isDeclaration(input):
		s.declare(input)
	default:
		s.run(ctx, input)
	}
	return nil
}

// isDeclaration reports whether input starts with a declaration keyword,
// after any decorators.
func isDeclaration(input string) bool {
	toks, _ := lang.Lex(inputFile, input)
	i := 0
	skipEOLs := func() {
		for i < len(toks) && toks[i].Type == lang.EOL {
			i++
		}
	}
	isPunct := func(v string) bool { return i < len(toks) && toks[i].Type == lang.Punct && toks[i].Value == v }
	for skipEOLs(); isPunct("@"); skipEOLs() {
		i++ // '@'
		if i < len(toks) && toks[i].Type == lang.Ident {
			i++
		}
		if isPunct("(") {
			for depth := 0; i < len(toks); i++ {
				if toks[i].Type == lang.Punct {
					switch toks[i].Value {
					case "(", "[", "{":
						depth++
					case ")", "]", "}":
						depth--
					}
				}
				if depth == 0 {
					i++
					break
				}
			}
		}
	}
	if i >= len(toks) || toks[i].Type == lang.EOF {
		return i > 0 // only decorators: let the parser say what is missing
	}
	if toks[i].Type != lang.Keyword {
		return false
	}
	switch toks[i].Value {
	case "const", "fn", "task", "actor", "pipeline", "method":
		return true
	}
	return false
}

// declare adds the declarations of input, replacing earlier ones with
// the same names, if the whole program still compiles.
func (s *Session) declare(input string) {
	f, err := lang.Parse(inputFile, input)
	if err != nil {
		s.reportCompile(err, input)
		return
	}
	var added []*declEntry
	seen := map[string]bool{}
	for i, d := range f.Decls {
		name := declName(d)
		if seen[name] {
			continue // the compiler reports the duplicate
		}
		seen[name] = true
		added = append(added, &declEntry{name: name, src: input, index: i})
	}
	var kept []*declEntry
	for _, d := range s.decls {
		if !seen[d.name] {
			kept = append(kept, d)
		}
	}
	file, perr := s.parseDecls(kept)
	if perr != nil {
		s.reportInternal(perr)
		return
	}
	// The new declarations keep the positions of this input in errors now.
	file.Source = input
	file.Decls = append(file.Decls, f.Decls...)
	if _, err := rayflow.CompileFile(file); err != nil {
		s.reportCompile(err, input)
		return
	}
	s.decls = append(kept, added...)
	for name := range seen {
		s.dropVar(name)
	}
}

func declName(d *lang.Decl) string {
	switch {
	case d.Const != nil:
		return d.Const.Name
	case d.Func != nil:
		return d.Func.Name
	case d.Actor != nil:
		return d.Actor.Name
	}
	return ""
}

func (s *Session) dropVar(name string) {
	if _, ok := s.vars[name]; !ok {
		return
	}
	delete(s.vars, name)
	for i, n := range s.order {
		if n == name {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// shippedDecl is where one declaration sits in the text sent to the
// nodes: its lines from..to there are its lines from line on in file.
type shippedDecl struct {
	file           string
	from, to, line int
}

// shippedSource is the text of the declarations typed so far, one after
// another: what the nodes of a cluster compile to run the session's
// tasks and actors (found there by name; the hidden pipeline of an input
// runs here only), and where each declaration is in it. Each starts on a
// line of its own at its column in its input, so that only lines need
// mapping back (fromShipped).
func shippedSource(decls []*declEntry) (string, []shippedDecl) {
	var b strings.Builder
	layout := make([]shippedDecl, 0, len(decls))
	line := 1
	for _, d := range decls {
		text, pos := declText(d)
		if pos.Column > 1 {
			b.WriteString(strings.Repeat(" ", pos.Column-1))
		}
		b.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteString("\n")
		}
		n := strings.Count(text, "\n") + 1
		if strings.HasSuffix(text, "\n") {
			n--
		}
		layout = append(layout, shippedDecl{file: d.file(), from: line, to: line + n - 1, line: pos.Line})
		line += n
	}
	return b.String(), layout
}

// fromShipped gives a position in the text sent to the nodes (file
// <repl>, as a node reports it) the file and line of the input its
// declaration was typed in.
func (s *Session) fromShipped(p *lang.Position) {
	if p.Filename != inputFile {
		return
	}
	for _, d := range s.shipped {
		if p.Line >= d.from && p.Line <= d.to {
			p.Filename, p.Line = d.file, p.Line-d.from+d.line
			return
		}
	}
}

// mapRemote gives the positions of a remote error (and of the frames
// that ran on a node) the inputs' files and lines; frames that ran here
// keep theirs.
func (s *Session) mapRemote(e *exec.Error) {
	for ; e != nil; e = e.Cause {
		if e.Node != "" {
			s.fromShipped(&e.Pos)
		}
		for i := range e.Stack {
			if e.Stack[i].Node != "" {
				s.fromShipped(&e.Stack[i].Pos)
			}
		}
	}
}

// declText is the text of one stored declaration within its input,
// decorators included: from its start to the next declaration's; and
// where it starts.
func declText(d *declEntry) (string, lang.Position) {
	f, err := lang.Parse(d.file(), d.src)
	if err != nil || d.index >= len(f.Decls) {
		return "", lang.Position{} // cannot happen: it parsed before
	}
	pos := f.Decls[d.index].Pos
	to := len(d.src)
	if d.index+1 < len(f.Decls) {
		to = f.Decls[d.index+1].Pos.Offset
	}
	return d.src[pos.Offset:to], pos
}

// parseDecls parses the stored declarations again, each with its own file
// name, into one file.
func (s *Session) parseDecls(entries []*declEntry) (*lang.File, error) {
	file := &lang.File{Name: inputFile}
	for _, d := range entries {
		f, err := lang.Parse(d.file(), d.src)
		if err != nil {
			return nil, err // cannot happen: it parsed before
		}
		file.Decls = append(file.Decls, f.Decls[d.index])
	}
	return file, nil
}

// run compiles input as the body of the hidden pipeline and runs it.
func (s *Session) run(ctx context.Context, input string) {
	body, err := parseStatements(input)
	if err != nil {
		s.reportCompile(err, input)
		return
	}
	// A final expression statement is the value to show.
	hasValue := false
	if n := len(body.Stmts); n > 0 {
		last := body.Stmts[n-1]
		if sm := last.Simple; sm != nil && sm.Op == "" && len(sm.Targets) == 1 {
			body.Stmts[n-1] = &lang.Stmt{Pos: last.Pos, Let: &lang.Let{Pos: last.Pos, Names: []string{valueName}, Value: sm.Targets[0]}}
			hasValue = true
		}
	}
	names := append([]string(nil), s.order...)
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, st := range body.Stmts {
		if st.Let == nil {
			continue
		}
		for _, n := range st.Let.Names {
			if n != valueName && !known[n] {
				known[n] = true
				names = append(names, n)
			}
		}
	}
	skeleton := fmt.Sprintf("pipeline %s(%s) {\n{\nreturn [%s]\n}\n}\n", hiddenPipeline,
		strings.Join(s.order, ", "), strings.Join(append(names, valueOrNone(hasValue)), ", "))
	sk, err := lang.Parse(inputFile, skeleton)
	if err != nil {
		s.reportInternal(fmt.Errorf("cannot build the program for this input: %v", err))
		return
	}
	pipe := sk.Decls[0].Func
	pipe.Pos = lang.Position{Filename: inputFile, Line: 1, Column: 1}
	inner := pipe.Body.Stmts[0].Block
	inner.Stmts = append(body.Stmts, inner.Stmts...)

	file, err := s.parseDecls(s.decls)
	if err != nil {
		s.reportInternal(err)
		return
	}
	file.Source = input
	file.Decls = append(file.Decls, sk.Decls[0])
	prog, err := rayflow.CompileFile(file)
	if err != nil {
		s.reportCompile(err, input)
		return
	}
	args := make([]exec.Value, len(s.order))
	for i, n := range s.order {
		args[i] = s.vars[n]
	}
	opts := rayflow.RunOptions{Pipeline: hiddenPipeline, Cluster: s.runCluster()}
	if len(s.heads) > 0 {
		opts.Shipped, s.shipped = shippedSource(s.decls)
	}
	result, err := s.runValues(ctx, prog, opts, args, true)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(s.errOut, "interrupted")
			return
		}
		s.reportRuntime(err)
		return
	}
	if result.Kind() != exec.ListKind || len(result.AsList().Elems) != len(names)+1 {
		s.reportInternal(fmt.Errorf("the input returned %s", result.TypeName()))
		return
	}
	elems := result.AsList().Elems
	for i, n := range names {
		if _, ok := s.vars[n]; !ok {
			s.order = append(s.order, n)
		}
		s.vars[n] = elems[i]
	}
	if v := elems[len(names)]; hasValue && !v.IsNone() {
		fmt.Fprintln(s.out, v.Repr())
	}
}

func valueOrNone(has bool) string {
	if has {
		return valueName
	}
	return "none"
}

// parseStatements parses input as the statements of a block, with
// positions relative to the input.
func parseStatements(input string) (*lang.Block, error) {
	src := wrapPrefix + input + "\n}\n"
	f, err := lang.Parse(inputFile, src)
	if err != nil {
		return nil, shiftErrors(err, input)
	}
	if len(f.Decls) != 1 || f.Decls[0].Func == nil {
		pos := lang.Position{Filename: inputFile, Line: 1, Column: 1}
		if len(f.Decls) > 1 {
			pos = f.Decls[1].Pos
			pos.Line--
		}
		return nil, &lang.Error{Pos: pos, Msg: "unexpected '}': it closes no block"}
	}
	body := f.Decls[0].Func.Body
	var bad *lang.Return
	walk(body, func(v any) {
		switch n := v.(type) {
		case *lang.Position:
			n.Line--
			n.Offset -= len(wrapPrefix)
		case *lang.Return:
			if bad == nil {
				bad = n
			}
		}
	})
	if bad != nil {
		return nil, &lang.Error{Pos: bad.Pos, Msg: "'return' outside a function"}
	}
	return body, nil
}

// shiftErrors moves the positions of errors in the wrapped input back to
// the input's own lines; an error past its end (an unclosed bracket) is
// put just after its last character.
func shiftErrors(err error, input string) error {
	var list lang.ErrorList
	switch e := err.(type) {
	case lang.ErrorList:
		list = e
	case *lang.Error:
		list = lang.ErrorList{e}
	default:
		return err
	}
	lines := strings.Split(input, "\n")
	out := make(lang.ErrorList, len(list))
	for i, e := range list {
		c := *e
		c.Pos.Line--
		c.Pos.Offset -= len(wrapPrefix)
		if c.Pos.Line < 1 {
			c.Pos.Line, c.Pos.Column = 1, 1
		}
		if c.Pos.Line > len(lines) {
			c.Pos.Line = len(lines)
			c.Pos.Column = len([]rune(lines[len(lines)-1])) + 1
		}
		if strings.Contains(c.Msg, hiddenPipeline) {
			c.Msg = "unbalanced brackets in the input"
		}
		out[i] = &c
	}
	return out
}

// reportCompile prints compile errors, each with the source line of the
// input it points into.
func (s *Session) reportCompile(err error, input string) {
	var list lang.ErrorList
	switch e := err.(type) {
	case lang.ErrorList:
		list = e
	case *lang.Error:
		list = lang.ErrorList{e}
	default:
		fmt.Fprint(s.errOut, rayflow.FormatError(err, input))
		return
	}
	for _, e := range list {
		src := input
		for _, d := range s.decls {
			if d.file() == e.Pos.Filename {
				src = d.src
			}
		}
		if e.Pos.Filename != inputFile && src == input {
			src = "" // a position in no text we have
		}
		fmt.Fprint(s.errOut, lang.Report(e, src))
	}
}

// reportRuntime prints a runtime error with its call stack, the hidden
// pipeline's frames named as the input.
func (s *Session) reportRuntime(err error) {
	var e *exec.Error
	if !errors.As(err, &e) {
		fmt.Fprint(s.errOut, rayflow.FormatError(err, ""))
		return
	}
	// A copy of the whole chain, which mapRemote and the renaming below
	// change: the error itself may be kept (a failed task's result).
	c := *e
	c.Stack = append([]exec.Frame(nil), e.Stack...)
	for p := &c; p.Cause != nil; p = p.Cause {
		cause := *p.Cause
		cause.Stack = append([]exec.Frame(nil), cause.Stack...)
		p.Cause = &cause
	}
	s.mapRemote(&c)
	for i := range c.Stack {
		if c.Stack[i].Name == hiddenPipeline {
			c.Stack[i].Name = "<input>"
		}
	}
	fmt.Fprint(s.errOut, c.Report())
}

func (s *Session) reportInternal(err error) {
	fmt.Fprintf(s.errOut, "error: internal error in the REPL: %v\nThis is a bug in rayflow %s; please report it with the input that caused it.\n",
		err, rayflow.Version)
}

// program compiles the declarations alone, for :plan.
func (s *Session) program() (*compiler.Program, error) {
	file, err := s.parseDecls(s.decls)
	if err != nil {
		return nil, err
	}
	prog, err := rayflow.CompileFile(file)
	if err != nil {
		return nil, err
	}
	return prog.Compiled, nil
}

const helpText = `Type declarations and statements; they run at once.
  task sq(x) { return x * x }     declarations (const fn task actor pipeline) are kept;
                                  declaring a name again replaces it
  let f = sq(4)                   variables are kept between inputs
  get(f) + 1                      an expression shows its value
Unfinished input (open brackets, a line ending in an operator) continues
on the next line after '... '; an empty line ends it.

Commands:
  :help          this text
  :vars          the session's variables and declarations
  :plan [NAME]   the planned task graph of a declaration (all when no NAME)
  :explain [OPT] every hint and planned decision: applied or refused, why
                 (OPT as in --opt: batch,fuse,... or none); without OPT,
                 also what the last input decided and did as it ran
  :run NAME [PARAM=VALUE ...]
                 run a declared pipeline, as 'rayflow run' would
  :reset         forget everything and start a new cluster
  :quit          leave (also Ctrl-D)
Ctrl-C stops a running input; at an empty prompt, press it twice to leave.

Reminders: get(f) waits for a future, wait(fs, num=1) for several, put(v)
stores a value; print(...) prints; try { } catch err { print(err.message) }.
Errors in code declared in an earlier input name it as <repl:NAME>.
`

func (s *Session) command(ctx context.Context, line string) error {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case ":quit", ":q", ":exit":
		return errQuit
	case ":help", ":h", ":?":
		fmt.Fprint(s.out, helpText)
	case ":vars":
		s.showVars()
	case ":reset":
		if err := s.reset(); err != nil {
			fmt.Fprintf(s.errOut, "error: cannot start a new cluster: %v\n", err)
			return errQuit
		}
		fmt.Fprintln(s.out, "session reset")
	case ":plan":
		s.plan(arg)
	case ":explain":
		s.explain(arg)
	case ":run":
		s.runPipeline(ctx, arg)
	default:
		fmt.Fprintf(s.errOut, "error: unknown command '%s'; type :help for the list\n", cmd)
	}
	return nil
}

func (s *Session) showVars() {
	if len(s.order) == 0 && len(s.decls) == 0 {
		fmt.Fprintln(s.out, "no variables or declarations yet")
		return
	}
	for _, n := range s.order {
		fmt.Fprintf(s.out, "%s = %s\n", n, s.vars[n].Repr())
	}
	if len(s.decls) > 0 {
		names := make([]string, len(s.decls))
		for i, d := range s.decls {
			names[i] = d.name
		}
		sort.Strings(names)
		fmt.Fprintf(s.out, "declared: %s\n", strings.Join(names, ", "))
	}
}

// explain prints the planner's decisions for the declarations, with the
// hints in the source or those opt (as --opt) turns on.
func (s *Session) explain(opt string) {
	o, err := planner.ParseOpt(opt)
	if err != nil {
		fmt.Fprintf(s.errOut, "error: :explain %s: %v\n", opt, err)
		return
	}
	cp, err := s.program()
	if err != nil {
		s.reportCompile(err, "")
		return
	}
	_, report := planner.Decide(cp, o)
	fmt.Fprint(s.out, report.Text())
	if opt == "" {
		s.hints.explainLast(s.out)
	}
}

// plan prints the planned graph of the declaration named name, or of
// every declaration.
func (s *Session) plan(name string) {
	cp, err := s.program()
	if err != nil {
		s.reportCompile(err, "")
		return
	}
	if name != "" {
		if _, ok := cp.Global(name); !ok {
			fmt.Fprintf(s.errOut, "error: nothing named '%s' is declared\n", name)
			return
		}
	}
	// Annotated as `rayflow plan` does: what a run would decide.
	g := planner.Build(cp)
	set, _ := planner.Decide(cp, planner.Default)
	planner.Annotate(g, set)
	text := g.Text()
	if name == "" {
		if strings.TrimSpace(text) == "" {
			fmt.Fprintln(s.out, "nothing to plan: no task or actor calls are declared")
			return
		}
		fmt.Fprint(s.out, text)
		return
	}
	// The plan is sections, each a line that names what it is about and
	// indented lines under it; keep the sections about name.
	var b strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			keep = mentions(line, name)
		}
		if keep {
			b.WriteString(line)
		}
	}
	if b.Len() == 0 {
		fmt.Fprintf(s.out, "nothing in the plan for %s: it makes no task or actor calls\n", name)
		return
	}
	fmt.Fprint(s.out, b.String())
}

// mentions reports whether line names name as a whole word (or as the
// actor of a method, "Name.method").
func mentions(line, name string) bool {
	words := strings.FieldsFunc(line, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	})
	for _, w := range words {
		if w == name || strings.HasPrefix(w, name+".") {
			return true
		}
	}
	return false
}

// runPipeline runs a declared pipeline with NAME=VALUE parameters, as
// `rayflow run` does, on the session's cluster.
func (s *Session) runPipeline(ctx context.Context, arg string) {
	words := strings.Fields(arg)
	if len(words) == 0 {
		fmt.Fprintln(s.errOut, "error: :run needs the name of a pipeline")
		return
	}
	params := map[string]string{}
	for _, w := range words[1:] {
		name, value, ok := strings.Cut(w, "=")
		if !ok || name == "" {
			fmt.Fprintf(s.errOut, "error: unexpected '%s'; parameters are written NAME=VALUE\n", w)
			return
		}
		params[name] = value
	}
	file, err := s.parseDecls(s.decls)
	if err != nil {
		s.reportInternal(err)
		return
	}
	prog, err := rayflow.CompileFile(file)
	if err != nil {
		s.reportCompile(err, "")
		return
	}
	if _, ok := prog.Compiled.Pipeline(words[0]); !ok {
		fmt.Fprintf(s.errOut, "error: no pipeline named '%s' is declared\n", words[0])
		return
	}
	result, err := s.runValues(ctx, prog, rayflow.RunOptions{Pipeline: words[0], Params: params, Cluster: s.runCluster()}, nil, false)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(s.errOut, "interrupted")
			return
		}
		s.reportRuntime(err)
		return
	}
	if !result.IsNone() {
		fmt.Fprintln(s.out, result.Repr())
	}
}
