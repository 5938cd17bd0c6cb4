package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/httpapi"
	"github.com/spf13/pflag"
)

// `rayflow job` talks to a head's Jobs API (cmd/rayflow/internal/httpapi)
// over HTTP: submit a program as a job that runs on the cluster whether
// or not this command waits for it, and list, inspect, follow, stop and
// delete jobs.

// DefaultJobAddress is the Jobs API a `rayflow job` command talks to when
// not given --address: a head's default HTTP port on this machine.
var DefaultJobAddress = fmt.Sprintf("http://127.0.0.1:%d", DefaultHTTPPort)

// jobFlags are the flags of `rayflow job`, for every subcommand.
type jobFlags struct {
	address      string
	tokenFile    string
	tls          tlsFlags
	noWait       bool
	follow       bool
	json         bool
	pipeline     string
	submissionID string
	opt          string
}

func (f *jobFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("job")
	fs.StringVar(&f.address, "address", DefaultJobAddress, "the head's HTTP API at `http://HOST:PORT` (https:// when the head has TLS)")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	switchVar(fs, &f.noWait, "no-wait", "", "submit: print the job's ID and return without following it")
	switchVar(fs, &f.follow, "follow", "f", "logs: follow the log as it grows until the job ends")
	switchVar(fs, &f.json, "json", "", "list, status: print JSON as the API answers it")
	fs.StringVarP(&f.pipeline, "pipeline", "p", "", "submit: the pipeline to run (default main, or the only one)")
	fs.StringVar(&f.submissionID, "submission-id", "", "submit: the job's submission ID (default its job ID); another job cannot take it")
	fs.Var(&optValue{&f.opt}, "opt", "submit: run with these paradigm hints on wherever they are eligible, or none (as run --opt)")
	return fs
}

// jobClient is a connection to one Jobs API.
type jobClient struct {
	base  string // scheme://host:port
	token []byte
	http  *http.Client
	// ctx ends on SIGINT or SIGTERM: a command that follows a log stops
	// following (the job goes on).
	ctx context.Context
}

// errJobAPI is an answer of the API that is not a success: its error
// message, for the user.
type errJobAPI struct {
	code int
	msg  string
}

func (e *errJobAPI) Error() string { return e.msg }

// cmdJob dispatches `rayflow job SUBCOMMAND`.
func cmdJob(args []string, stdout, stderr io.Writer) int {
	var f jobFlags
	fs := f.flagSet()
	words, err := parseWords(fs, args)
	if err != nil {
		return usageExit("job", err, stdout, stderr)
	}
	if len(words) == 0 {
		return usageExit("job", errors.New("no subcommand: give submit, list, status, logs, stop or delete"), stdout, stderr)
	}
	sub, rest := words[0], words[1:]
	wantArgs := map[string]int{"list": 0, "status": 1, "logs": 1, "stop": 1, "delete": 1}
	if n, ok := wantArgs[sub]; ok && len(rest) != n {
		return usageExit("job", fmt.Errorf("'job %s' takes %d argument(s), not %d", sub, n, len(rest)), stdout, stderr)
	} else if !ok && sub != "submit" {
		return usageExit("job", fmt.Errorf("unknown subcommand '%s': give submit, list, status, logs, stop or delete", sub), stdout, stderr)
	}
	c, err := f.client()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.ctx = ctx
	switch sub {
	case "submit":
		return c.submit(&f, rest, stdout, stderr)
	case "list":
		return c.list(f.json, stdout, stderr)
	case "status":
		return c.status(rest[0], f.json, stdout, stderr)
	case "logs":
		return c.logs(rest[0], f.follow, stdout, stderr)
	case "stop":
		return c.stop(rest[0], stdout, stderr)
	default:
		return c.delete(rest[0], stdout, stderr)
	}
}

// client is the Jobs API the flags name, with the cluster token found as
// every command finds it (token.go; a head on this machine publishes it
// under its HTTP port too).
func (f *jobFlags) client() (*jobClient, error) {
	base := strings.TrimRight(f.address, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--address %q: give http://HOST:PORT (the head's HTTP API)", f.address)
	}
	token, _, err := clientToken(f.tokenFile, []string{base})
	if err != nil {
		return nil, err
	}
	tlsCfg, err := f.tls.config(false)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if tlsCfg != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: tlsCfg.RootCAs, Certificates: tlsCfg.Certificates, MinVersion: tls.VersionTLS12}
	}
	return &jobClient{base: base, token: token, http: &http.Client{Transport: transport}}, nil
}

// do sends one request and decodes a JSON answer into out (when not nil).
func (c *jobClient) do(method, path string, body any, out any) error {
	resp, err := c.send(method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cannot read the answer of %s: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &errJobAPI{code: resp.StatusCode, msg: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// send sends one request; the caller closes the answer's body.
func (c *jobClient) send(method, path string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(c.token) > 0 {
		req.Header.Set("Authorization", "Bearer "+string(c.token))
	}
	resp, err := c.http.Do(req)
	if c.ctx.Err() != nil {
		return nil, errInterrupted
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the head's HTTP API at %s (give --address http://HOST:PORT): %w", c.base, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		return nil, fmt.Errorf("the head at %s refused the token: give --token-file FILE or $%s (the token is in the head's DATA_DIR/token)", c.base, tokenEnv)
	}
	return resp, nil
}

// errInterrupted is a command's request cut by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted")

// failed prints an error and returns the exit code for it.
func failed(stderr io.Writer, err error) int {
	if errors.Is(err, errInterrupted) {
		fmt.Fprintln(stderr, "interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return exitFailed
}

func (c *jobClient) submit(f *jobFlags, words []string, stdout, stderr io.Writer) int {
	cl, err := parseCommand(newFlagSet("job"), words, fileAndParams)
	if err != nil {
		return usageExit("job", err, stdout, stderr)
	}
	src, err := os.ReadFile(cl.file)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	params := map[string]any{}
	for k, v := range cl.params {
		params[k] = v
	}
	req := httpapi.SubmitRequest{Source: string(src), File: filepath.Base(cl.file), Pipeline: f.pipeline,
		Params: params, SubmissionID: f.submissionID, Opt: f.opt}
	var sub httpapi.SubmitResponse
	if err := c.do("POST", "/api/jobs/", req, &sub); err != nil {
		return failed(stderr, err)
	}
	if f.noWait {
		fmt.Fprintln(stdout, sub.JobID)
		return exitOK
	}
	fmt.Fprintf(stderr, "job %s submitted\n", sub.JobID)
	if err := c.follow(sub.JobID, stdout); err != nil {
		if errors.Is(err, errInterrupted) {
			fmt.Fprintf(stderr, "interrupted: job %s goes on ('rayflow job stop %s' stops it)\n", sub.JobID, sub.JobID)
			return exitInterrupted
		}
		return failed(stderr, err)
	}
	var info httpapi.JobInfo
	if err := c.do("GET", "/api/jobs/"+sub.JobID, nil, &info); err != nil {
		return failed(stderr, err)
	}
	switch info.Status {
	case httpapi.StatusSucceeded:
		if info.Result != nil {
			fmt.Fprintln(stdout, *info.Result)
		}
		return exitOK
	default:
		fmt.Fprintf(stderr, "job %s %s\n", sub.JobID, info.Status)
		return exitFailed
	}
}

// follow copies a job's log to w as it grows until the job ends; a
// stream the server ends before the job does is asked for again from
// where it stopped.
func (c *jobClient) follow(id string, w io.Writer) error {
	offset := 0
	for {
		resp, err := c.send("GET", fmt.Sprintf("/api/jobs/%s/logs/tail?offset=%d", url.PathEscape(id), offset), nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct{ Error string }
			json.Unmarshal(data, &e)
			return &errJobAPI{code: resp.StatusCode, msg: e.Error}
		}
		n, _ := io.Copy(w, resp.Body)
		resp.Body.Close()
		offset += int(n)
		if c.ctx.Err() != nil {
			return errInterrupted
		}
		var info httpapi.JobInfo
		if err := c.do("GET", "/api/jobs/"+url.PathEscape(id), nil, &info); err != nil {
			return err
		}
		if info.EndTime != nil {
			return nil
		}
	}
}

func (c *jobClient) list(asJSON bool, stdout, stderr io.Writer) int {
	var jobs []httpapi.JobInfo
	if err := c.do("GET", "/api/jobs/", nil, &jobs); err != nil {
		return failed(stderr, err)
	}
	if asJSON {
		return printJSON(stdout, jobs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	jobRows(tw, jobs)
	tw.Flush()
	return exitOK
}

// jobRows writes the jobs as the rows of a table, with its header (job
// list, list jobs).
func jobRows(tw io.Writer, jobs []httpapi.JobInfo) {
	fmt.Fprintln(tw, "JOB ID\tSUBMISSION ID\tSTATUS\tSTARTED\tENDED")
	for _, j := range jobs {
		ended := "-"
		if j.EndTime != nil {
			ended = msTime(*j.EndTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.JobID, j.SubmissionID, j.Status, msTime(j.StartTime), ended)
	}
}

func msTime(ms int64) string { return time.UnixMilli(ms).Format("2006-01-02 15:04:05") }

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return exitOK
}

func (c *jobClient) status(id string, asJSON bool, stdout, stderr io.Writer) int {
	var info httpapi.JobInfo
	if err := c.do("GET", "/api/jobs/"+url.PathEscape(id), nil, &info); err != nil {
		return failed(stderr, err)
	}
	if asJSON {
		return printJSON(stdout, info)
	}
	fmt.Fprintf(stdout, "job %s: %s\n%s\n", info.JobID, info.Status, strings.TrimRight(info.Message, "\n"))
	if info.Result != nil {
		fmt.Fprintf(stdout, "result: %s\n", *info.Result)
	}
	return exitOK
}

func (c *jobClient) logs(id string, follow bool, stdout, stderr io.Writer) int {
	if follow {
		if err := c.follow(id, stdout); err != nil {
			return failed(stderr, err)
		}
		return exitOK
	}
	var logs struct{ Logs string }
	if err := c.do("GET", "/api/jobs/"+url.PathEscape(id)+"/logs", nil, &logs); err != nil {
		return failed(stderr, err)
	}
	fmt.Fprint(stdout, logs.Logs)
	return exitOK
}

// stopWait bounds how long `job stop` waits for the job to end.
const stopWait = 30 * time.Second

// stop asks the job to stop and waits for it to end.
func (c *jobClient) stop(id string, stdout, stderr io.Writer) int {
	var res struct{ Stopped bool }
	if err := c.do("POST", "/api/jobs/"+url.PathEscape(id)+"/stop", nil, &res); err != nil {
		return failed(stderr, err)
	}
	if !res.Stopped {
		fmt.Fprintf(stdout, "job %s had already ended\n", id)
		return exitOK
	}
	deadline := time.Now().Add(stopWait)
	for {
		var info httpapi.JobInfo
		if err := c.do("GET", "/api/jobs/"+url.PathEscape(id), nil, &info); err != nil {
			return failed(stderr, err)
		}
		if info.EndTime != nil {
			fmt.Fprintf(stdout, "job %s %s\n", id, info.Status)
			return exitOK
		}
		if time.Now().After(deadline) {
			return failed(stderr, fmt.Errorf("job %s did not stop within %s", id, stopWait))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *jobClient) delete(id string, stdout, stderr io.Writer) int {
	if err := c.do("DELETE", "/api/jobs/"+url.PathEscape(id), nil, nil); err != nil {
		return failed(stderr, err)
	}
	fmt.Fprintf(stdout, "job %s deleted\n", id)
	return exitOK
}
