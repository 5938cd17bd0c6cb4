package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/httpapi"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/spf13/pflag"
)

// `rayflow list`, `rayflow summary` and `rayflow timeline` read a head's
// state API (/api/v0/..., cmd/rayflow/internal/httpapi/state.go) over
// HTTP, with the Jobs API's client (job.go): the same --address, token
// and TLS.

// stateFlags are the flags of list, summary and timeline.
type stateFlags struct {
	address   string
	tokenFile string
	tls       tlsFlags
	job       string
	state     string
	limit     int
	json      bool
	output    string
}

func (f *stateFlags) flagSet(name string) *pflag.FlagSet {
	fs := newFlagSet(name)
	fs.StringVar(&f.address, "address", DefaultJobAddress, "the head's HTTP API at `http://HOST:PORT` (https:// when the head has TLS)")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	fs.StringVar(&f.job, "job", "", "only the job with this `ID`")
	switch name {
	case "list":
		fs.StringVar(&f.state, "state", "", "only those in this `STATE` (tasks: PENDING RUNNING FINISHED FAILED CANCELLED; actors: ALIVE RESTARTING DEAD; nodes: ALIVE DEAD; jobs: PENDING RUNNING SUCCEEDED FAILED STOPPED)")
		fs.IntVar(&f.limit, "limit", 1000, "tasks: show at most `N` (at most 10000)")
		switchVar(fs, &f.json, "json", "", "print a JSON array")
	case "summary":
		switchVar(fs, &f.json, "json", "", "print the JSON object the API answers")
	case "timeline":
		fs.StringVarP(&f.output, "output", "o", "-", "write the Chrome trace JSON to `FILE` (- for stdout)")
	}
	return fs
}

// client is the state API's client: the Jobs API's (job.go).
func (f *stateFlags) client() (*jobClient, error) {
	jf := jobFlags{address: f.address, tokenFile: f.tokenFile, tls: f.tls}
	return jf.client()
}

// stateKinds are what `rayflow list` lists, and the states each may be
// filtered by.
var stateKinds = map[string][]string{
	"tasks":   taskevents.TaskStates,
	"actors":  taskevents.ActorStates,
	"objects": nil,
	"nodes":   {"ALIVE", "DEAD"},
	"jobs":    {httpapi.StatusPending, httpapi.StatusRunning, httpapi.StatusSucceeded, httpapi.StatusFailed, httpapi.StatusStopped},
}

// parseState reads the flags and words of a state command; words is
// what follows the flags. On a usage error it returns the exit code.
func parseState(name string, args []string, stdout, stderr io.Writer) (*stateFlags, []string, *jobClient, int) {
	f := new(stateFlags)
	fs := f.flagSet(name)
	words, err := parseWords(fs, args)
	if err != nil {
		return nil, nil, nil, usageExit(name, err, stdout, stderr)
	}
	c, err := f.client()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, nil, nil, exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_ = stop // released when the process ends
	c.ctx = ctx
	return f, words, c, -1
}

// cmdList is `rayflow list tasks|actors|objects|nodes|jobs`.
func cmdList(args []string, stdout, stderr io.Writer) int {
	f, words, c, code := parseState("list", args, stdout, stderr)
	if code >= 0 {
		return code
	}
	kinds := "tasks, actors, objects, nodes or jobs"
	if len(words) != 1 {
		return usageExit("list", fmt.Errorf("give one of %s", kinds), stdout, stderr)
	}
	kind := words[0]
	states, ok := stateKinds[kind]
	if !ok {
		return usageExit("list", fmt.Errorf("cannot list '%s': give %s", kind, kinds), stdout, stderr)
	}
	f.state = strings.ToUpper(f.state)
	if f.state != "" && !slices.Contains(states, f.state) {
		if len(states) == 0 {
			return usageExit("list", fmt.Errorf("%s have no states to filter by", kind), stdout, stderr)
		}
		return usageExit("list", fmt.Errorf("--state %s: %s are in one of %s", f.state, kind, strings.Join(states, ", ")), stdout, stderr)
	}
	if kind == "tasks" && (f.limit < 1 || f.limit > 10000) {
		return usageExit("list", fmt.Errorf("--limit must be from 1 to 10000, got %d", f.limit), stdout, stderr)
	}
	q := url.Values{}
	if f.job != "" {
		q.Set("job", f.job)
	}
	if f.state != "" && (kind == "tasks" || kind == "actors") {
		q.Set("state", f.state)
	}
	if kind == "tasks" {
		q.Set("limit", strconv.Itoa(f.limit))
	}
	path := "/api/v0/" + kind
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var answer struct {
		Result                json.RawMessage `json:"result"`
		Total, Shown, Dropped int64
	}
	if err := c.do("GET", path, nil, &answer); err != nil {
		return failed(stderr, err)
	}
	switch kind {
	case "tasks":
		var list []taskevents.Task
		return printList(stdout, stderr, f.json, answer.Result, &list, func(tw io.Writer) {
			fmt.Fprintln(tw, "TASK ID\tNAME\tSTATE\tNODE\tERROR")
			for _, t := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.TaskID, t.Name, t.State, dash(t.NodeID), dash(firstLine(t.Error)))
			}
		}, func() string {
			if answer.Shown < answer.Total || answer.Dropped > 0 {
				return fmt.Sprintf("%d tasks (%d shown; %d dropped)\n", answer.Total, answer.Shown, answer.Dropped)
			}
			return ""
		}, nil)
	case "actors":
		var list []taskevents.Actor
		return printList(stdout, stderr, f.json, answer.Result, &list, func(tw io.Writer) {
			fmt.Fprintln(tw, "ACTOR ID\tCLASS\tSTATE\tNODE\tRESTARTS")
			for _, a := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", a.ActorID, a.ClassName, a.State, dash(a.NodeID), a.Restarts)
			}
		}, nil, nil)
	case "objects":
		var list []nodeagent.StateObject
		return printList(stdout, stderr, f.json, answer.Result, &list, func(tw io.Writer) {
			fmt.Fprintln(tw, "OBJECT ID\tSIZE\tNODE\tSPILLED")
			for _, o := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%v\n", o.ObjectID, o.Size, o.NodeID, o.Spilled)
			}
		}, nil, nil)
	case "nodes":
		var list []httpapi.StateNode
		keep := func(n httpapi.StateNode) bool { return f.state == "" || n.State == f.state }
		return printList(stdout, stderr, f.json, answer.Result, &list, func(tw io.Writer) {
			fmt.Fprintln(tw, "NODE ID\tADDRESS\tSTATE\tHEAD\tCPU\tHEARTBEAT AGE")
			for _, n := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%g/%g\t%.1fs\n", n.NodeID, n.Address, n.State, n.IsHead,
					n.ResourcesAvailable["cpu"], n.ResourcesTotal["cpu"], n.HeartbeatAgeS)
			}
		}, nil, keep)
	default: // jobs
		var list []httpapi.JobInfo
		keep := func(j httpapi.JobInfo) bool {
			return (f.state == "" || j.Status == f.state) && (f.job == "" || j.JobID == f.job || j.SubmissionID == f.job)
		}
		return printList(stdout, stderr, f.json, answer.Result, &list, func(tw io.Writer) { jobRows(tw, list) }, nil, keep)
	}
}

// printList decodes a list into list, keeps the items keep accepts (all
// when keep is nil), and prints it as JSON or as aligned columns (rows)
// with a closing line (footer, when given).
func printList[T any](stdout, stderr io.Writer, asJSON bool, raw json.RawMessage, list *[]T, rows func(io.Writer), footer func() string, keep func(T) bool) int {
	if err := json.Unmarshal(raw, list); err != nil {
		return failed(stderr, fmt.Errorf("the head's answer is not a list: %v", err))
	}
	if keep != nil {
		*list = slices.DeleteFunc(*list, func(item T) bool { return !keep(item) })
	}
	if *list == nil {
		*list = []T{}
	}
	if asJSON {
		return printJSON(stdout, *list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	rows(tw)
	tw.Flush()
	if footer != nil {
		fmt.Fprint(stdout, footer())
	}
	return exitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// cmdSummary is `rayflow summary tasks`.
func cmdSummary(args []string, stdout, stderr io.Writer) int {
	f, words, c, code := parseState("summary", args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(words) != 1 || words[0] != "tasks" {
		return usageExit("summary", errors.New("give tasks: 'rayflow summary tasks'"), stdout, stderr)
	}
	path := "/api/v0/tasks/summary"
	if f.job != "" {
		path += "?job=" + url.QueryEscape(f.job)
	}
	var answer struct {
		Result         map[string]map[string]int `json:"result"`
		Total, Dropped int64
	}
	if err := c.do("GET", path, nil, &answer); err != nil {
		return failed(stderr, err)
	}
	if f.json {
		return printJSON(stdout, answer)
	}
	names := make([]string, 0, len(answer.Result))
	for name := range answer.Result {
		names = append(names, name)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\t"+strings.Join(taskevents.TaskStates, "\t"))
	for _, name := range names {
		fmt.Fprint(tw, name)
		for _, st := range taskevents.TaskStates {
			fmt.Fprintf(tw, "\t%d", answer.Result[name][st])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d tasks (%d dropped)\n", answer.Total, answer.Dropped)
	return exitOK
}

// cmdTimeline is `rayflow timeline --job ID [-o FILE]`.
func cmdTimeline(args []string, stdout, stderr io.Writer) int {
	f, words, c, code := parseState("timeline", args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(words) != 0 {
		return usageExit("timeline", fmt.Errorf("unexpected argument '%s'", words[0]), stdout, stderr)
	}
	if f.job == "" {
		return usageExit("timeline", errors.New("give --job ID: the job whose timeline to write"), stdout, stderr)
	}
	var trace json.RawMessage
	if err := c.do("GET", "/api/v0/timeline?job="+url.QueryEscape(f.job), nil, &trace); err != nil {
		return failed(stderr, err)
	}
	if f.output == "-" {
		fmt.Fprintf(stdout, "%s\n", trace)
		return exitOK
	}
	if err := os.WriteFile(f.output, append(trace, '\n'), 0o644); err != nil {
		return failed(stderr, err)
	}
	return exitOK
}
