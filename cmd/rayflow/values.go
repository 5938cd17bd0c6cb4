package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/planner"
	"github.com/rayflow/rayflow/stash"
	"github.com/spf13/pflag"
)

// The typed flag values of the command line. Each checks its value when
// the flag is read, so a bad value is a usage error (exit 2) before
// anything runs. A Set error of type badValue is a phrase that stands
// between the flag's name and its value: "--cpus" "needs a non-negative
// whole number, got" "'x'" (flagError). Type names the value in the generated usage
// ("--cpus N").

// badValue is what a flag value says is wrong with it.
type badValue string

func (b badValue) Error() string { return string(b) }

// switchValue is a flag without a value (--head, --json, -h): given, it
// is true; `--json=false` turns it off again. It is pflag's bool with a
// shorter usage line ("--json", not "--json[=true|false]").
type switchValue struct{ on *bool }

// switchVar defines a switch on fs.
func switchVar(fs *pflag.FlagSet, on *bool, name, shorthand, usage string) {
	fs.VarPF(&switchValue{on}, name, shorthand, usage).NoOptDefVal = "true"
}

func (v *switchValue) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return badValue("takes no value, or true or false, got")
	}
	*v.on = on
	return nil
}

func (v *switchValue) String() string { return strconv.FormatBool(*v.on) }
func (v *switchValue) Type() string   { return "bool" }

// countValue is a non-negative whole number (--cpus N, --nodes N,
// --max-steps N).
type countValue[T int | int64] struct {
	n   *T
	min T // the least value allowed: 0, or 1 for --unroll
}

func newCount[T int | int64](n *T, min T) *countValue[T] { return &countValue[T]{n: n, min: min} }

func (v *countValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || int64(T(n)) != n {
		return badValue("needs a non-negative whole number, got")
	}
	if T(n) < v.min {
		return badValue("needs at least " + strconv.FormatInt(int64(v.min), 10) + ", got")
	}
	*v.n = T(n)
	return nil
}

func (v *countValue[T]) String() string { return strconv.FormatInt(int64(*v.n), 10) }
func (v *countValue[T]) Type() string   { return "N" }

// durationValue is a duration such as 5s (--dead-after, --gcs-delay).
type durationValue struct {
	d        *time.Duration
	example  string // shown in the complaint: "5s"
	positive bool   // zero is refused too
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || (v.positive && d == 0) {
		return badValue("needs a duration such as " + v.example + ", got")
	}
	*v.d = d
	return nil
}

func (v *durationValue) String() string {
	if *v.d == 0 {
		return ""
	}
	return v.d.String()
}
func (v *durationValue) Type() string { return "DURATION" }

// portValue is a port number, 0 to 65535 (--port, --http-port); 0 asks
// for any free port.
type portValue struct{ port *int }

func (v *portValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return badValue("needs a port number, got")
	}
	*v.port = n
	return nil
}

func (v *portValue) String() string { return strconv.Itoa(*v.port) }
func (v *portValue) Type() string   { return "PORT" }

// addressList is --address ADDR[,ADDR...]: the heads of a cluster. A
// later --address replaces an earlier one.
type addressList struct{ addrs *[]string }

func (v *addressList) Set(s string) error {
	addrs := strings.Split(s, ",")
	for _, a := range addrs {
		if strings.TrimSpace(a) == "" {
			return badValue("needs addresses such as 127.0.0.1:6379, separated by commas, got")
		}
	}
	*v.addrs = addrs
	return nil
}

func (v *addressList) String() string { return strings.Join(*v.addrs, ",") }
func (v *addressList) Type() string   { return "ADDR[,ADDR...]" }

// resourcesValue is --resources NAME=N,...: extra resources of a node.
type resourcesValue struct{ res *map[string]float64 }

func (v *resourcesValue) Set(s string) error {
	res, err := resources.ParseSpec(s)
	if err != nil {
		return err
	}
	*v.res = res.Map()
	return nil
}

func (v *resourcesValue) String() string { return "" }
func (v *resourcesValue) Type() string   { return "NAME=N,..." }

// memoryValue is a memory size in bytes, more than zero, written as
// resources.ParseMemory reads it: 512MB, 2GiB, 1048576.
type memoryValue struct{ bytes *int64 }

func (v *memoryValue) Set(s string) error {
	n, err := resources.ParseMemory(s)
	if err != nil {
		return err
	}
	if n <= 0 {
		return badValue("must be more than zero, got")
	}
	*v.bytes = n
	return nil
}

func (v *memoryValue) String() string { return "" }
func (v *memoryValue) Type() string   { return "SIZE" }

// lineageValue is --lineage: stash (the default), sync or off.
type lineageValue struct{ mode *string }

func (v *lineageValue) Set(s string) error {
	if _, err := stash.ParseMode(s); err != nil {
		return badValue("must be stash, sync or off, not")
	}
	*v.mode = s
	return nil
}

func (v *lineageValue) String() string { return *v.mode }
func (v *lineageValue) Type() string   { return "MODE" }

// optValue is --opt NAME[,NAME...] or --opt none, checked when parsed.
type optValue struct{ text *string }

func (v *optValue) Set(s string) error {
	if _, err := planner.ParseOpt(s); err != nil {
		return err
	}
	*v.text = s
	return nil
}

func (v *optValue) String() string { return *v.text }
func (v *optValue) Type() string   { return "NAME[,NAME...]|none" }
