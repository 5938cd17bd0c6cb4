package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rayflow/rayflow/lang"
	"github.com/spf13/pflag"
)

// Every command parses its flags with its own pflag.FlagSet (see
// commands.go): flags may stand before or after FILE, in GNU style
// (`--cpus 4`, `--cpus=4`, `-p main`), with typed values (values.go).

// positionals says which words other than flags a command takes.
type positionals int

const (
	noArgs        positionals = iota // flags only
	fileAndParams                    // FILE (required), then NAME=VALUE parameters (check reads and ignores them)
)

// commandLine is what is left of a command line once its flags are read:
// FILE and the NAME=VALUE pipeline parameters. The flags themselves are in
// the variables the command bound to its flag set.
type commandLine struct {
	file   string
	params map[string]string
}

// newFlagSet returns an empty flag set for the command name, with -h and
// --help. It prints nothing itself: parseCommand's caller reports errors
// and help (usageExit).
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rayflow "+name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	switchVar(fs, new(bool), "help", "h", "show this help and exit")
	return fs
}

// parseWords reads args with fs (flags anywhere, `--flag value` or
// `--flag=value`) and returns the words that are not flags, for a
// command that reads its words itself (a subcommand, a kind). It returns
// pflag.ErrHelp when -h or --help is given.
func parseWords(fs *pflag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(gnuArgs(fs, args)); err != nil {
		return nil, err
	}
	if help, _ := fs.GetBool("help"); help {
		return nil, pflag.ErrHelp
	}
	return fs.Args(), nil
}

// parseCommand reads args with fs (flags anywhere, `--flag value` or
// `--flag=value`), then FILE and NAME=VALUE words as want says. It
// returns pflag.ErrHelp when -h or --help is given.
func parseCommand(fs *pflag.FlagSet, args []string, want positionals) (*commandLine, error) {
	words, err := parseWords(fs, args)
	if err != nil {
		if want == fileAndParams && err != pflag.ErrHelp {
			if hint := paramFlagHint(fs, args); hint != "" {
				return nil, fmt.Errorf("%v; %s", err, hint)
			}
		}
		return nil, err
	}
	cl := &commandLine{params: map[string]string{}}
	for _, a := range words {
		if want == noArgs {
			return nil, fmt.Errorf("unexpected argument '%s'", a)
		}
		if cl.file == "" && !looksLikeParam(a) {
			cl.file = a
			continue
		}
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("unexpected argument '%s'; parameters are written NAME=VALUE", a)
		}
		if _, dup := cl.params[name]; dup {
			return nil, fmt.Errorf("parameter '%s' is given twice", name)
		}
		cl.params[name] = value
	}
	if want != noArgs && cl.file == "" {
		return nil, fmt.Errorf("no FILE given")
	}
	return cl, nil
}

// paramFlagHint explains an unknown flag that is the name of a pipeline
// parameter of the FILE among args (`run f.rayflow --n 3`, a Python
// argparse habit): "pipeline parameters are written NAME=VALUE: n=3".
// It returns "" when no unknown flag names a parameter.
func paramFlagHint(fs *pflag.FlagSet, args []string) string {
	params := fileParams(args)
	for i, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if fs.Lookup(name) != nil || len(name) == 1 && fs.ShorthandLookup(name) != nil || !params[name] {
			continue
		}
		if !hasValue {
			value = "VALUE"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				value = args[i+1]
			}
		}
		return fmt.Sprintf("pipeline parameters are written NAME=VALUE: %s=%s", name, value)
	}
	return ""
}

// fileParams reads the parameter names of every pipeline of the first
// word of args that is a file rayflow can parse.
func fileParams(args []string) map[string]bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-") || looksLikeParam(a) {
			continue
		}
		src, err := os.ReadFile(a)
		if err != nil {
			continue
		}
		f, err := lang.Parse(a, string(src))
		if err != nil {
			continue
		}
		names := map[string]bool{}
		for _, d := range f.Decls {
			if d.Func != nil && d.Func.Kind == "pipeline" {
				for _, p := range d.Func.Params {
					names[p.Name] = true
				}
			}
		}
		return names
	}
	return nil
}

// looksLikeParam reports whether a word is a NAME=VALUE parameter rather
// than a file (a file name may contain '=' after a '/' or '.').
func looksLikeParam(a string) bool {
	name, _, ok := strings.Cut(a, "=")
	return ok && name != "" && !strings.ContainsAny(name, "/.\\")
}

// gnuArgs rewrites the spellings the hand-written parser this package
// had accepted and pflag reads otherwise: a long flag with one dash
// (`-cpus 4`, read by pflag as -c -p -u -s) or with more than two, and a
// one-letter flag with two (`--p main`). Flag values are left alone, so
// `--nodes -3` still gives --nodes the value -3; everything after `--`
// is left alone too.
func gnuArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		word := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(word, "=")
		f := fs.Lookup(name)
		switch {
		case f != nil:
			a = "--" + word
		case len(name) == 1 && fs.ShorthandLookup(name) != nil:
			f = fs.ShorthandLookup(name)
			a = "-" + word
		}
		out = append(out, a)
		if f != nil && f.NoOptDefVal == "" && !hasValue && i+1 < len(args) {
			i++
			out = append(out, args[i]) // the flag's value, whatever it looks like
		}
	}
	return out
}

// usageExit reports a failed parse of the command name and returns the
// exit code: for -h/--help the command's usage on stdout and 0, for
// anything else one line saying what is wrong and a hint on stderr, and 2.
func usageExit(name string, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprint(stdout, commandUsage(name))
		return exitOK
	}
	fmt.Fprintf(stderr, "error: %s\n%s", flagError(err), usageHint(name))
	return exitUsage
}

// flagError says what is wrong with a flag the way rayflow's messages
// do: "--cpus needs a non-negative whole number, got 'x'".
func flagError(err error) string {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err.Error()
	}
	name := "--" + bad.GetFlag().Name
	var complaint badValue
	if errors.As(bad.Unwrap(), &complaint) {
		return fmt.Sprintf("%s %s '%s'", name, string(complaint), bad.GetValue())
	}
	return fmt.Sprintf("%s: %v", name, bad.Unwrap())
}
