package main

import (
	"fmt"
	"strconv"
	"strings"
)

// invocation is a parsed command line: the file, flags and parameters.
type invocation struct {
	file   string
	flags  map[string]string
	params map[string]string
}

// flagSpec says which flags a command takes and whether each has a value.
type flagSpec map[string]bool // name -> takes a value

// parseArgs reads FILE, flags (before or after FILE, `--f v` or `--f=v`)
// and NAME=VALUE parameters.
func parseArgs(args []string, spec flagSpec, needFile bool) (*invocation, error) {
	inv := &invocation{flags: map[string]string{}, params: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			takesValue, ok := spec[name]
			if !ok {
				return nil, fmt.Errorf("unknown flag '%s'", a)
			}
			if takesValue && !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag '%s' needs a value", a)
				}
				i++
				value = args[i]
			}
			if !takesValue {
				value = "true"
			}
			inv.flags[name] = value
			continue
		}
		if inv.file == "" && !looksLikeParam(a) {
			inv.file = a
			continue
		}
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("unexpected argument '%s'; parameters are written NAME=VALUE", a)
		}
		if _, dup := inv.params[name]; dup {
			return nil, fmt.Errorf("parameter '%s' is given twice", name)
		}
		inv.params[name] = value
	}
	if needFile && inv.file == "" {
		return nil, fmt.Errorf("no FILE given")
	}
	return inv, nil
}

func looksLikeParam(a string) bool {
	name, _, ok := strings.Cut(a, "=")
	return ok && name != "" && !strings.ContainsAny(name, "/.\\")
}

// intFlag reads a non-negative int flag.
func (inv *invocation) intFlag(name string) (int, error) {
	v, ok := inv.flags[name]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--%s needs a non-negative whole number, got '%s'", name, v)
	}
	return n, nil
}
