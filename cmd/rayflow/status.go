package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/spf13/pflag"
)

// statusFlags are the flags of `rayflow status`.
type statusFlags struct {
	address   []string
	json      bool
	tokenFile string
	tls       tlsFlags
}

func (f *statusFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("status")
	fs.Var(&addressList{&f.address}, "address", "the cluster's heads (as 'rayflow start --head' printed); the first that answers is asked")
	switchVar(fs, &f.json, "json", "", "print one JSON object with a \"nodes\" list instead of tables")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	return fs
}

// cmdStatus prints the cluster's nodes and GCS shards, as a table or,
// with --json, as one JSON object with a "nodes" list.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	var f statusFlags
	fs := f.flagSet()
	if _, err := parseCommand(fs, args, noArgs); err != nil {
		return usageExit("status", err, stdout, stderr)
	}
	token, tlsCfg, ok := headClient(fs, &f.address, f.tokenFile, &f.tls, stderr)
	if !ok {
		return exitUsage
	}
	address := strings.Join(f.address, ",")
	var st *head.Status
	var lastErr error
	for _, addr := range f.address {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, lastErr = head.FetchStatus(ctx, addr, token, tlsCfg)
		cancel()
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		fmt.Fprintf(stderr, "error: cannot reach the cluster at %s: %v\n", address, lastErr)
		return exitFailed
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return exitOK
	}
	printStatus(stdout, st)
	return exitOK
}

func printStatus(w io.Writer, st *head.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tSTATE\tCPU (free/total)\tMEMORY (free/total)\tOTHER\tRUNNING\tQUEUED\tACTORS")
	for _, n := range st.Nodes {
		if n.State == "dead" {
			// A dead node offers and holds nothing: no numbers that
			// read as if it still did.
			fmt.Fprintf(tw, "%s\t%s\t%s\t-/%g\t-/%s\t%s\t-\t-\t-\n", n.ID, n.Address, n.State,
				n.ResourcesTotal["cpu"], gib(n.ResourcesTotal["memory"]), otherResources(n.ResourcesTotal))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%g/%g\t%s/%s\t%s\t%d\t%d\t%d\n", n.ID, n.Address, n.State,
			n.ResourcesAvailable["cpu"], n.ResourcesTotal["cpu"],
			gib(n.ResourcesAvailable["memory"]), gib(n.ResourcesTotal["memory"]),
			otherResources(n.ResourcesTotal), n.Running, n.QueueLen, n.Actors)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GCS SHARD\tLEADER\tREPLICAS")
	for _, s := range st.GCS {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Shard, s.Leader, strings.Join(s.Replicas, ", "))
	}
	tw.Flush()
}

func gib(bytes float64) string { return fmt.Sprintf("%.1fGiB", bytes/(1<<30)) }

func otherResources(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		if k != "cpu" && k != "memory" && v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%g", k, v))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// headClient finds what a command that asks the heads over the cluster
// port (status, actor stop) needs: the heads (this machine's when
// --address was not given), the cluster token and the TLS settings. On a
// problem it says so on stderr and returns false: a usage error.
func headClient(fs *pflag.FlagSet, address *[]string, tokenFile string, tf *tlsFlags, stderr io.Writer) ([]byte, *tls.Config, bool) {
	if !fs.Changed("address") {
		addr, ok := localHeadAddress()
		if !ok {
			fmt.Fprintln(stderr, "error: no head runs on this machine: give --address HEAD_ADDRESS (the address 'rayflow start --head' printed)")
			return nil, nil, false
		}
		*address = []string{addr}
	}
	token, _, err := clientToken(tokenFile, *address)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, nil, false
	}
	tlsCfg, err := tf.config(false)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, nil, false
	}
	return token, tlsCfg, true
}
