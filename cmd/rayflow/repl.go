package main

import (
	"fmt"
	"io"

	"github.com/rayflow/rayflow/cmd/rayflow/internal/repl"
	"github.com/spf13/pflag"
)

// replFlags are the flags of `rayflow repl`.
type replFlags struct {
	address   []string
	bind      string
	cpus      int
	tokenFile string
	tls       tlsFlags
}

func (f *replFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("repl")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	fs.Var(&addressList{&f.address}, "address", "a session on the cluster whose heads are at these addresses: a driver there, whose tasks and actors run on the cluster's nodes")
	fs.StringVar(&f.bind, "bind", "", "with --address: the `HOST` the session listens on for results (default: the interface it reaches the heads from; 0.0.0.0 for every interface)")
	fs.Var(newCount(&f.cpus, 0), "cpus", "CPUs of the session's embedded cluster (default: this machine's)")
	return fs
}

func cmdRepl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f replFlags
	fs := f.flagSet()
	if _, err := parseCommand(fs, args, noArgs); err != nil {
		return usageExit("repl", err, stdout, stderr)
	}
	switch {
	case fs.Changed("address") && fs.Changed("cpus"):
		fmt.Fprintln(stderr, "error: --cpus applies to the session's embedded cluster; with --address the cluster's nodes were configured by 'rayflow start'")
		return exitUsage
	case fs.Changed("bind") && !fs.Changed("address"):
		fmt.Fprintln(stderr, "error: --bind applies to a session on a cluster: give --address too")
		return exitUsage
	case f.tls.given() && !fs.Changed("address"):
		fmt.Fprintln(stderr, "error: --tls-cert, --tls-key and --tls-ca apply to a session on a cluster: give --address too")
		return exitUsage
	}
	var token []byte
	if fs.Changed("address") {
		t, _, err := clientToken(f.tokenFile, f.address)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return exitUsage
		}
		token = t
	}
	tlsCfg, err := f.tls.config(true)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	if fs.Changed("address") {
		warnPlain(stderr, f.bind, tlsCfg) // as run --address does
	}
	return repl.Run(repl.Options{CPUs: f.cpus, Address: f.address, Bind: f.bind, Token: token, TLS: tlsCfg, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
