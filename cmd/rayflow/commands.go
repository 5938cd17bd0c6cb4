package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// command is one rayflow command as the usage text shows it.
type command struct {
	name     string
	synopsis string // what follows "rayflow NAME"
	summary  string // one line
	// flags returns a flag set with the command's flags, bound to
	// throw-away variables: the usage text is generated from it.
	flags func() *pflag.FlagSet
	// run runs the command on the words after its name.
	run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// noStdin adapts a command that reads no standard input.
func noStdin(f func(args []string, stdout, stderr io.Writer) int) func([]string, io.Reader, io.Writer, io.Writer) int {
	return func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return f(args, stdout, stderr) }
}

// commandAliases are other words for a command.
var commandAliases = map[string]string{"--version": "version", "-v": "version", "-h": "help", "--help": "help"}

// commands lists every command, in the order the usage text shows them;
// runMain dispatches through it.
func commands() []command {
	return []command{
		{"run", "FILE [flags] [NAME=VALUE ...]",
			"run a pipeline (on a cluster with --address)",
			func() *pflag.FlagSet { return new(runFlags).flagSet() }, noStdin(cmdRun)},
		{"check", "FILE", "parse and compile only",
			func() *pflag.FlagSet { return newFlagSet("check") }, noStdin(cmdCheck)},
		{"plan", "FILE [flags] [NAME=VALUE ...]", "print the planned task graph",
			func() *pflag.FlagSet { return new(planFlags).flagSet() }, noStdin(cmdPlan)},
		{"explain", "FILE [flags] [NAME=VALUE ...]", "print each hint and planned decision: applied or refused, why, where",
			func() *pflag.FlagSet { return new(explainFlags).flagSet() }, noStdin(cmdExplain)},
		{"repl", "[flags]", "an interactive session",
			func() *pflag.FlagSet { return new(replFlags).flagSet() }, cmdRepl},
		{"start", "--head | --address ADDR [flags]",
			"run a cluster node until SIGINT or SIGTERM",
			func() *pflag.FlagSet { return new(startFlags).flagSet() }, noStdin(cmdStart)},
		{"status", "[--address ADDR] [--json]", "print the cluster's nodes and GCS shards (default: the head on this machine)",
			func() *pflag.FlagSet { return new(statusFlags).flagSet() }, noStdin(cmdStatus)},
		{"job", "submit|list|status|logs|stop|delete [flags] [FILE [NAME=VALUE ...] | ID]",
			"submit a job to a head's Jobs API, list jobs, show one, its logs (-f follows), stop or delete it",
			func() *pflag.FlagSet { return new(jobFlags).flagSet() }, noStdin(cmdJob)},
		{"actor", "stop NAME [--namespace NS] [--address ADDR]",
			"stop (kill) a named actor of a cluster, detached ones included",
			func() *pflag.FlagSet { return new(actorFlags).flagSet() }, noStdin(cmdActor)},
		{"list", "tasks|actors|objects|nodes|jobs [--job ID] [--state S] [--json]",
			"list the cluster's tasks, actors, objects, nodes or jobs (a head's state API)",
			func() *pflag.FlagSet { return new(stateFlags).flagSet("list") }, noStdin(cmdList)},
		{"summary", "tasks [--job ID] [--json]", "count the cluster's tasks by name and state",
			func() *pflag.FlagSet { return new(stateFlags).flagSet("summary") }, noStdin(cmdSummary)},
		{"timeline", "--job ID [-o FILE]", "write a job's tasks as Chrome trace JSON (Perfetto, chrome://tracing)",
			func() *pflag.FlagSet { return new(stateFlags).flagSet("timeline") }, noStdin(cmdTimeline)},
		{"serve", "FILE [flags] [NAME=VALUE ...] | status | delete [NAME]",
			"serve the program's @serve actors over HTTP (deployed to a cluster with --address); list or delete a cluster's applications",
			func() *pflag.FlagSet { return new(serveFlags).flagSet() }, noStdin(cmdServe)},
		{"version", "", "print rayflow's version",
			func() *pflag.FlagSet { return newFlagSet("version") }, noStdin(cmdVersion)},
		{"help", "[COMMAND]", "print this text, or one command's",
			func() *pflag.FlagSet { return newFlagSet("help") }, noStdin(cmdHelp)},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

const (
	banner = "rayflow — tasks, actors and pipelines, from a laptop to a cluster\n"
	rules  = `Flags may stand before or after FILE; NAME=VALUE words after FILE are
pipeline parameters. Exit codes: 0 success, 1 the program failed, 2 usage
error, 130 interrupted. Errors go to stderr, results to stdout.
`
)

// usage is the top-level usage text: every command, then every
// command's flags.
func usage() string {
	var b strings.Builder
	b.WriteString(banner + "\nusage:\n")
	cmds := commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(synopsisLine(c)))
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, synopsisLine(c), c.summary)
	}
	b.WriteString("\n" + rules + "'rayflow COMMAND -h' shows one command.\n")
	for _, c := range cmds {
		if flags := flagUsages(c.flags(), false); flags != "" {
			fmt.Fprintf(&b, "\n%s flags:\n%s", c.name, flags)
		}
	}
	return b.String()
}

// commandUsage is the text `rayflow NAME -h` prints.
func commandUsage(name string) string {
	c, ok := lookupCommand(name)
	if !ok {
		return usage()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s.\n", "rayflow "+synopsisLine(c), capitalize(c.summary))
	if strings.Contains(c.synopsis, "FILE") {
		b.WriteString("\n" + rules)
	}
	fmt.Fprintf(&b, "\nflags:\n%s", flagUsages(c.flags(), true))
	return b.String()
}

// usageHint follows a usage error: the command's synopsis and where to
// read more.
func usageHint(name string) string {
	c, ok := lookupCommand(name)
	if !ok {
		return "Run 'rayflow help' for the commands and their flags.\n"
	}
	return fmt.Sprintf("usage: rayflow %s  (run 'rayflow %s --help' for its flags)\n", synopsisLine(c), name)
}

func synopsisLine(c command) string {
	return strings.TrimSpace(c.name + " " + c.synopsis)
}

// flagUsages lists the flags of fs, one a line; -h/--help only when
// withHelp.
func flagUsages(fs *pflag.FlagSet, withHelp bool) string {
	if !withHelp {
		fs.MarkHidden("help")
	}
	return fs.FlagUsages()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
