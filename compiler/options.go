package compiler

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Call-site options (spec/declarations.md#call-site-options):
// `Counter.options(name="c", lifetime="detached")(args)` makes an actor
// with settings over those its declaration's decorators give, as Ray's
// `Actor.options(...).remote(...)`; `task.options(retries=2)(args)` runs
// a task so. The option names are the decorators' names.

// actorOptions and taskOptions are the options each kind of declaration
// takes, in the order the spec lists them.
var (
	actorOptions = []string{"name", "namespace", "lifetime", "restarts", "concurrency", "checkpoint", "resources"}
	taskOptions  = []string{"resources", "retries"}
)

// OptionNames lists the options a declaration of kind ("actor" or
// "task") takes.
func OptionNames(kind string) []string {
	if kind == "actor" {
		return actorOptions
	}
	return taskOptions
}

// Options are the settings of one `options(...)` call. A string is ""
// and a count -1 when the option is not given; Resources nil.
type Options struct {
	Name, Namespace, Lifetime                  string
	Restarts, Concurrency, Checkpoint, Retries int
	Resources                                  map[string]float64
}

// NewOptions returns options that give nothing.
func NewOptions() Options {
	return Options{Restarts: -1, Concurrency: -1, Checkpoint: -1, Retries: -1}
}

// OptionError is a bad option value: of the wrong type (Type, error kind
// "type") or out of range (kind "value").
type OptionError struct {
	Type bool
	Msg  string
}

func (e *OptionError) Error() string { return e.Msg }

func badType(format string, args ...any) *OptionError {
	return &OptionError{Type: true, Msg: fmt.Sprintf(format, args...)}
}

func badValue(format string, args ...any) *OptionError {
	return &OptionError{Msg: fmt.Sprintf(format, args...)}
}

// Set records the option name = v of a declaration of kind ("actor" or
// "task"). v is an int64, float64, string, bool, or, for resources, a
// map[string]any of such values.
func (o *Options) Set(kind, name string, v any) *OptionError {
	if indexOf(OptionNames(kind), name) < 0 {
		return badValue("unknown option '%s' of a%s %s's options(...)%s; it takes %s", name, map[bool]string{true: "n"}[kind == "actor"], kind, Suggest(name, OptionNames(kind)), strings.Join(OptionNames(kind), ", "))
	}
	switch name {
	case "name", "namespace":
		s, ok := v.(string)
		if !ok {
			return badType("option %s= must be a string, not %s", name, goTypeName(v))
		}
		if !validActorName(s) {
			return badValue("option %s= must be a non-empty string of letters, digits, '_' and '-', such as %s=\"policy\"; got %q", name, name, s)
		}
		if name == "name" {
			o.Name = s
		} else {
			o.Namespace = s
		}
	case "lifetime":
		s, ok := v.(string)
		if !ok {
			return badType("option lifetime= must be a string, not %s", goTypeName(v))
		}
		if s != "detached" && s != "job" {
			return badValue("unknown lifetime %q; it is \"detached\" (outlives its job) or \"job\" (the default)%s", s, Suggest(s, []string{"detached", "job"}))
		}
		o.Lifetime = s
	case "restarts", "retries":
		return o.setCount(name, v, 0, 1<<31-1)
	case "concurrency":
		return o.setCount(name, v, 1, maxConcurrency)
	case "checkpoint":
		return o.setCount(name, v, 1, 1<<31-1)
	case "resources":
		m, ok := v.(map[string]any)
		if !ok {
			return badType("option resources= must be a map such as {\"cpu\": 2, \"memory\": \"1GB\"}, not %s", goTypeName(v))
		}
		res, err := ResourceMap(m)
		if err != nil {
			return err
		}
		o.Resources = res
	}
	return nil
}

// setCount records an int option between lo and hi.
func (o *Options) setCount(name string, v any, lo, hi int64) *OptionError {
	n, ok := v.(int64)
	if !ok {
		return badType("option %s= must be an int, not %s", name, goTypeName(v))
	}
	if n < lo || n > hi {
		return badValue("option %s= must be an int from %d to %d, got %d", name, lo, hi, n)
	}
	switch name {
	case "restarts":
		o.Restarts = int(n)
	case "retries":
		o.Retries = int(n)
	case "concurrency":
		o.Concurrency = int(n)
	case "checkpoint":
		o.Checkpoint = int(n)
	}
	return nil
}

// ResourceMap reads resources as @resources does: cpu defaults to 1,
// memory is bytes or a string with a unit, every other name a
// non-negative number.
func ResourceMap(m map[string]any) (map[string]float64, *OptionError) {
	res := map[string]float64{"cpu": 1}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n, err := resourceValue(k, m[k])
		if err != nil {
			return nil, err
		}
		res[k] = n
	}
	return res, nil
}

// resourceValue is the amount of one resource, as @resources reads it.
func resourceValue(name string, v any) (float64, *OptionError) {
	if name == "" {
		return 0, badValue("a resource needs a name, such as \"cpu\"")
	}
	if name == "memory" {
		bytes, err := ParseMemory(v)
		if err != nil {
			return 0, badValue("%v", err)
		}
		return float64(bytes), nil
	}
	n, ok := number(v)
	if !ok {
		return 0, badType("resource '%s' must be a non-negative number, not %s", name, goTypeName(v))
	}
	if n < 0 {
		return 0, badValue("resource '%s' must be a non-negative number", name)
	}
	return n, nil
}

// goTypeName is the rayflow name of a Go value's type in an option.
func goTypeName(v any) string {
	switch v.(type) {
	case int64:
		return "int"
	case float64:
		return "float"
	case string, identName:
		return "string"
	case bool:
		return "bool"
	case map[string]any:
		return "map"
	case nil:
		return "none"
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", v)
}

// Actor returns a copy of a with the options over its decorators, or an
// error when together they break a rule of the decorators.
func (o Options) Actor(a *Actor) (*Actor, *OptionError) {
	d := *a
	d.Declared = a.Declaration()
	if o.Name != "" {
		d.ActorName = o.Name
		if d.Namespace == "" {
			d.Namespace = DefaultNamespace
		}
	}
	if o.Namespace != "" {
		d.Namespace = o.Namespace
	}
	switch o.Lifetime {
	case "detached":
		d.Detached = true
	case "job":
		d.Detached = false
	}
	if o.Restarts >= 0 {
		d.Restarts = o.Restarts
	}
	if o.Concurrency >= 0 {
		d.Concurrency = o.Concurrency
	}
	if o.Checkpoint >= 0 {
		d.Checkpoint = o.Checkpoint
	}
	if o.Resources != nil {
		d.Resources = o.Resources
	}
	switch {
	case d.ActorName == "" && o.Namespace != "":
		return nil, badValue("option namespace= needs a name: give name= too, or declare the actor with @name")
	case d.ActorName == "" && d.Detached:
		return nil, badValue("lifetime \"detached\" needs a name: a detached actor is found again by its name; give name=\"%s\" too", strings.ToLower(a.Name))
	case d.Concurrency > 1 && d.Restarts > 0 && d.ReplaysCalls():
		return nil, badValue("concurrency %d cannot go with restarts %d: the calls of a concurrent actor interleave at their waits, so no logged order replays them into the same state", d.Concurrency, d.Restarts)
	}
	return &d, nil
}

// Func returns a copy of the task f with the options over its decorators.
func (o Options) Func(f *Func) *Func {
	d := *f
	d.Declared = f.Declaration()
	if o.Resources != nil {
		d.Resources = o.Resources
	}
	if o.Retries >= 0 {
		d.Retries = o.Retries
	}
	return &d
}

// Encode writes the options given as a query string (url.Values), ""
// when none is given: the same options encode to the same string.
func (o Options) Encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"name": o.Name, "namespace": o.Namespace, "lifetime": o.Lifetime} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for k, n := range map[string]int{"restarts": o.Restarts, "concurrency": o.Concurrency, "checkpoint": o.Checkpoint, "retries": o.Retries} {
		if n >= 0 {
			v.Set(k, strconv.Itoa(n))
		}
	}
	if o.Resources != nil {
		r := url.Values{}
		for k, n := range o.Resources {
			r.Set(k, strconv.FormatFloat(n, 'g', -1, 64))
		}
		v.Set("resources", r.Encode())
	}
	return v.Encode()
}

// DecodeOptions reads what Encode wrote, for a declaration of kind.
func DecodeOptions(kind, s string) (Options, error) {
	o := NewOptions()
	v, err := url.ParseQuery(s)
	if err != nil {
		return o, err
	}
	for name := range v {
		val := v.Get(name)
		var arg any = val
		switch name {
		case "restarts", "concurrency", "checkpoint", "retries":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return o, err
			}
			arg = n
		case "resources":
			r, err := url.ParseQuery(val)
			if err != nil {
				return o, err
			}
			m := map[string]any{}
			for k := range r {
				f, err := strconv.ParseFloat(r.Get(k), 64)
				if err != nil {
					return o, err
				}
				m[k] = f
				if k == "memory" {
					m[k] = int64(f) // bytes, as @resources keeps them
				}
			}
			arg = m
		}
		if err := o.Set(kind, name, arg); err != nil {
			return o, err
		}
	}
	return o, nil
}
