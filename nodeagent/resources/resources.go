package resources

import (
	"iter"
	"math"
	"sort"
	"strings"
)

// Names of the built-in resources. Every other name is a custom resource.
const (
	CPU    = "cpu"
	GPU    = "gpu"
	Memory = "memory"
)

// Milli is the number of internal units in one cpu, one gpu or one unit of a
// custom resource.
const Milli = 1000

// Resources is a vector of resource quantities in internal units (see the
// package comment). The zero value is the empty vector.
type Resources struct {
	cpu, gpu int64 // milli-units
	memory   int64 // bytes
	// custom holds the custom resources sorted by name, without zero
	// quantities, so that equal vectors have equal representations and
	// Fits can walk two vectors side by side. It is never modified after
	// construction: copies of a Resources share it.
	custom []quantity
}

type quantity struct {
	name string
	q    int64
}

// Get returns the quantity of the named resource in internal units (0 when
// absent).
func (r Resources) Get(name string) int64 {
	switch name {
	case CPU:
		return r.cpu
	case GPU:
		return r.gpu
	case Memory:
		return r.memory
	}
	if i, ok := r.find(name); ok {
		return r.custom[i].q
	}
	return 0
}

// CPU returns the cpu quantity in milli-cpus.
func (r Resources) CPU() int64 { return r.cpu }

// GPU returns the gpu quantity in milli-gpus.
func (r Resources) GPU() int64 { return r.gpu }

// Memory returns the memory quantity in bytes.
func (r Resources) Memory() int64 { return r.memory }

// With returns a copy of r in which the named resource has quantity q (in
// internal units). The name is not checked; use ValidateName on names that
// come from users.
func (r Resources) With(name string, q int64) Resources {
	switch name {
	case CPU:
		r.cpu = q
		return r
	case GPU:
		r.gpu = q
		return r
	case Memory:
		r.memory = q
		return r
	}
	i, found := r.find(name)
	custom := make([]quantity, 0, len(r.custom)+1)
	custom = append(custom, r.custom[:i]...)
	if q != 0 {
		custom = append(custom, quantity{name, q})
	}
	if found {
		i++
	}
	custom = append(custom, r.custom[i:]...)
	r.custom = normalize(custom)
	return r
}

// find returns the index of name in r.custom, or where it would be inserted.
func (r Resources) find(name string) (int, bool) {
	// A linear scan beats binary search for the handful of custom
	// resources a node has, and allocates nothing.
	for i, c := range r.custom {
		if c.name >= name {
			return i, c.name == name
		}
	}
	return len(r.custom), false
}

// All yields every non-zero quantity of r in canonical order: cpu, memory,
// gpu, then custom resources sorted by name. This is the order of String.
func (r Resources) All() iter.Seq2[string, int64] {
	return func(yield func(string, int64) bool) {
		if r.cpu != 0 && !yield(CPU, r.cpu) {
			return
		}
		if r.memory != 0 && !yield(Memory, r.memory) {
			return
		}
		if r.gpu != 0 && !yield(GPU, r.gpu) {
			return
		}
		for _, c := range r.custom {
			if !yield(c.name, c.q) {
				return
			}
		}
	}
}

// Names returns the names of the non-zero quantities of r in canonical order.
func (r Resources) Names() []string {
	var names []string
	for name := range r.All() {
		names = append(names, name)
	}
	return names
}

// Add returns r + o. Sums saturate at the int64 limits instead of wrapping.
func (r Resources) Add(o Resources) Resources {
	return combine(r, o, SatAdd)
}

// Sub returns r - o. The result may be negative, for example when a node
// reports less free than it has promised; Fits treats a negative quantity
// as having nothing free.
func (r Resources) Sub(o Resources) Resources {
	return combine(r, o, func(a, b int64) int64 {
		if b == math.MinInt64 {
			return SatAdd(SatAdd(a, math.MaxInt64), 1)
		}
		return SatAdd(a, -b)
	})
}

// Fits reports whether r (a demand) fits in `in` (a capacity): every
// quantity that r asks for (every positive quantity of r) is at most the
// same quantity of in. Resources that r does not ask for are not checked,
// so a cpu-only task fits on a node whose gpus are over-committed.
//
// Fits allocates nothing; the scheduler calls it for every node.
func (r Resources) Fits(in Resources) bool {
	if (r.cpu > 0 && r.cpu > in.cpu) ||
		(r.gpu > 0 && r.gpu > in.gpu) ||
		(r.memory > 0 && r.memory > in.memory) {
		return false
	}
	// Both lists are sorted by name: walk them side by side.
	j := 0
	for _, c := range r.custom {
		if c.q <= 0 {
			continue
		}
		for j < len(in.custom) && in.custom[j].name < c.name {
			j++
		}
		if j == len(in.custom) || in.custom[j].name != c.name || in.custom[j].q < c.q {
			return false
		}
	}
	return true
}

// IsZero reports whether every quantity of r is zero.
func (r Resources) IsZero() bool {
	return r.cpu == 0 && r.gpu == 0 && r.memory == 0 && len(r.custom) == 0
}

// Equal reports whether r and o hold the same quantities.
func (r Resources) Equal(o Resources) bool {
	if r.cpu != o.cpu || r.gpu != o.gpu || r.memory != o.memory || len(r.custom) != len(o.custom) {
		return false
	}
	for i := range r.custom {
		if r.custom[i] != o.custom[i] {
			return false
		}
	}
	return true
}

// String formats r as space-separated NAME=VALUE words in canonical order,
// for example "cpu=2 memory=1.0GiB gpu=1 disk_fast=1"; zero quantities are
// left out and the empty vector is "none".
func (r Resources) String() string {
	var b strings.Builder
	for name, q := range r.All() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(FormatQuantity(name, q))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// Map returns r as a map from resource name to quantity in user units (cpus,
// gpus, bytes of memory, units of a custom resource): the JSON form. The keys
// "cpu", "gpu" and "memory" are always present; custom resources only when
// non-zero.
func (r Resources) Map() map[string]float64 {
	m := make(map[string]float64, 3+len(r.custom))
	m[CPU] = float64(r.cpu) / Milli
	m[GPU] = float64(r.gpu) / Milli
	m[Memory] = float64(r.memory)
	for _, c := range r.custom {
		m[c.name] = float64(c.q) / Milli
	}
	return m
}

// FromMap builds a Resources from its map form (see Map). Every name and
// quantity is checked as by ParseQuantity; zero quantities are dropped.
func FromMap(m map[string]float64) (Resources, error) {
	// Visit the names in order so that the error for a bad map is the same
	// every time.
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var b builder
	for _, name := range names {
		q, err := ParseQuantity(name, m[name])
		if err != nil {
			return Resources{}, err
		}
		b.set(name, q)
	}
	return b.build(), nil
}

// builder collects quantities and produces a normalized Resources.
type builder struct {
	r      Resources
	custom []quantity
}

func (b *builder) set(name string, q int64) {
	switch name {
	case CPU:
		b.r.cpu = q
	case GPU:
		b.r.gpu = q
	case Memory:
		b.r.memory = q
	default:
		b.custom = append(b.custom, quantity{name, q})
	}
}

func (b *builder) build() Resources {
	sort.SliceStable(b.custom, func(i, j int) bool { return b.custom[i].name < b.custom[j].name })
	// The last value set for a name wins.
	out := b.custom[:0]
	for _, c := range b.custom {
		if n := len(out); n > 0 && out[n-1].name == c.name {
			out[n-1] = c
			continue
		}
		out = append(out, c)
	}
	b.r.custom = normalize(out)
	return b.r
}

// normalize drops zero quantities, and returns nil for an empty list so that
// equal vectors compare equal field by field.
func normalize(custom []quantity) []quantity {
	out := custom[:0]
	for _, c := range custom {
		if c.q != 0 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// combine applies op to every quantity of a and b, treating a missing custom
// resource as zero.
func combine(a, b Resources, op func(x, y int64) int64) Resources {
	out := Resources{
		cpu:    op(a.cpu, b.cpu),
		gpu:    op(a.gpu, b.gpu),
		memory: op(a.memory, b.memory),
	}
	if len(a.custom) == 0 && len(b.custom) == 0 {
		return out
	}
	custom := make([]quantity, 0, len(a.custom)+len(b.custom))
	i, j := 0, 0
	for i < len(a.custom) || j < len(b.custom) {
		switch {
		case j == len(b.custom) || (i < len(a.custom) && a.custom[i].name < b.custom[j].name):
			custom = append(custom, quantity{a.custom[i].name, op(a.custom[i].q, 0)})
			i++
		case i == len(a.custom) || b.custom[j].name < a.custom[i].name:
			custom = append(custom, quantity{b.custom[j].name, op(0, b.custom[j].q)})
			j++
		default:
			custom = append(custom, quantity{a.custom[i].name, op(a.custom[i].q, b.custom[j].q)})
			i++
			j++
		}
	}
	out.custom = normalize(custom)
	return out
}

// SatAdd returns a+b, clamped to the int64 range.
func SatAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}
