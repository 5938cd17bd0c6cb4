package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/spf13/pflag"
)

// actorFlags are the flags of `rayflow actor`.
type actorFlags struct {
	address   []string
	namespace string
	tokenFile string
	tls       tlsFlags
}

func (f *actorFlags) flagSet() *pflag.FlagSet {
	fs := newFlagSet("actor")
	fs.Var(&addressList{&f.address}, "address", "the cluster's heads (as 'rayflow start --head' printed); the first that answers is asked")
	fs.StringVar(&f.namespace, "namespace", compiler.DefaultNamespace, "the namespace `NS` of the actor's name")
	tokenFileVar(fs, &f.tokenFile)
	tlsVars(fs, &f.tls)
	return fs
}

// cmdActor runs `rayflow actor stop NAME`: it kills the named actor, as
// kill(handle) does in a program (spec/declarations.md#named-and-detached-actors).
func cmdActor(args []string, stdout, stderr io.Writer) int {
	var f actorFlags
	fs := f.flagSet()
	words, err := parseWords(fs, args)
	if err != nil {
		return usageExit("actor", err, stdout, stderr)
	}
	if len(words) != 2 || words[0] != "stop" {
		return usageExit("actor", errors.New("give 'stop NAME'"), stdout, stderr)
	}
	name := words[1]
	token, tlsCfg, ok := headClient(fs, &f.address, f.tokenFile, &f.tls, stderr)
	if !ok {
		return exitUsage
	}
	var lastErr error
	for _, addr := range f.address {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		lastErr = nodeagent.StopNamedActor(ctx, addr, token, tlsCfg, f.namespace, name)
		cancel()
		var e *exec.Error
		if lastErr == nil || errors.As(lastErr, &e) {
			break
		}
	}
	var e *exec.Error
	switch {
	case errors.As(lastErr, &e):
		fmt.Fprintf(stderr, "error: %s\n", e.Msg)
		return exitFailed
	case lastErr != nil:
		fmt.Fprintf(stderr, "error: cannot reach the cluster at %s: %v\n", strings.Join(f.address, ","), lastErr)
		return exitFailed
	}
	fmt.Fprintf(stdout, "stopped actor %q in namespace %q\n", name, f.namespace)
	return exitOK
}
