package rayflow

import (
	"fmt"
	"math"

	"github.com/rayflow/rayflow/exec"
)

// HostModules are the modules, beyond the standard library, that programs
// compiled with opts use: opts.Modules and the Go functions registered in
// opts.Builtins and opts.Tasks. Compile checks programs against them; a
// process that joins a cluster to run such programs' tasks passes them as
// its nodeagent.Config.Modules, so that it can load the programs too.
func HostModules(opts *Options) []*exec.Module {
	if opts == nil {
		return nil
	}
	modules := append([]*exec.Module(nil), opts.Modules...)
	if len(opts.Builtins) > 0 || len(opts.Tasks) > 0 {
		modules = append(modules, hostModule(opts))
	}
	return modules
}

// hostModule puts an embedding program's Go functions in scope as bare
// names: built-ins run inline, tasks through the scheduler.
func hostModule(opts *Options) *exec.Module {
	host := &exec.Module{Name: "host", Global: true, Members: map[string]exec.Value{}}
	for name, fn := range opts.Builtins {
		host.Members[name] = exec.FuncValue(exec.NewBuiltin(name, fn))
	}
	for name, t := range opts.Tasks {
		host.Members[name] = exec.FuncValue(&exec.NativeTask{Builtin: exec.NewBuiltin(name, t.Fn), Resources: t.Resources})
	}
	return host
}

// ToGo converts a rayflow value to a Go value: nil, bool, int64,
// float64, string, []any, map[string]any (keys of other types are
// printed), or [][]float64/[]float64 for tensors of rank 2 and 1.
// Futures, actors and functions have no Go form and give an error.
func ToGo(v exec.Value) (any, error) {
	switch v.Kind() {
	case exec.NoneKind:
		return nil, nil
	case exec.BoolKind:
		return v.AsBool(), nil
	case exec.IntKind:
		return v.AsInt(), nil
	case exec.FloatKind:
		return v.AsFloat(), nil
	case exec.StringKind:
		return v.AsString(), nil
	case exec.ListKind:
		out := make([]any, len(v.AsList().Elems))
		for i, e := range v.AsList().Elems {
			g, err := ToGo(e)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	case exec.MapKind:
		m := v.AsMap()
		out := make(map[string]any, m.Len())
		for i, k := range m.Keys() {
			g, err := ToGo(m.Values()[i])
			if err != nil {
				return nil, err
			}
			out[k.String()] = g
		}
		return out, nil
	case exec.TensorKind:
		return tensorToGo(v.AsTensor()), nil
	}
	return nil, fmt.Errorf("a %s has no Go form", v.TypeName())
}

func tensorToGo(t *exec.Tensor) any {
	data := append([]float64(nil), t.Data...)
	if len(t.Shape) != 2 {
		return data
	}
	rows := make([][]float64, t.Shape[0])
	for i := range rows {
		rows[i] = data[i*t.Shape[1] : (i+1)*t.Shape[1]]
	}
	return rows
}

// FromGo converts a Go value to a rayflow value: nil, bool, ints,
// floats, string, []any and other slices of those, map[string]any, and
// []float64 (as a tensor).
func FromGo(x any) (exec.Value, error) {
	switch g := x.(type) {
	case nil:
		return exec.None, nil
	case exec.Value:
		return g, nil
	case bool:
		return exec.Bool(g), nil
	case int:
		return exec.Int(int64(g)), nil
	case int64:
		return exec.Int(g), nil
	case int32:
		return exec.Int(int64(g)), nil
	case uint64:
		if g > math.MaxInt64 {
			return exec.None, fmt.Errorf("%d does not fit in a rayflow int", g)
		}
		return exec.Int(int64(g)), nil
	case float64:
		return exec.Float(g), nil
	case float32:
		return exec.Float(float64(g)), nil
	case string:
		return exec.Str(g), nil
	case []float64:
		return exec.TensorValue(&exec.Tensor{Shape: []int{len(g)}, Data: append([]float64(nil), g...)}), nil
	case []any:
		return listFromGo(len(g), func(i int) any { return g[i] })
	case []string:
		return listFromGo(len(g), func(i int) any { return g[i] })
	case []int:
		return listFromGo(len(g), func(i int) any { return g[i] })
	case map[string]any:
		m := exec.NewMap(len(g))
		for k, e := range g {
			v, err := FromGo(e)
			if err != nil {
				return exec.None, err
			}
			_ = m.Set(exec.Str(k), v)
		}
		return exec.MapValue(m), nil
	}
	return exec.None, fmt.Errorf("a Go %T has no rayflow form", x)
}

func listFromGo(n int, at func(int) any) (exec.Value, error) {
	out := make([]exec.Value, n)
	for i := range out {
		v, err := FromGo(at(i))
		if err != nil {
			return exec.None, err
		}
		out[i] = v
	}
	return exec.ListOf(out), nil
}
