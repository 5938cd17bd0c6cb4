package resources

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/internal/bytesize"
)

// Limits on a single parsed quantity. They keep every sum over a cluster of
// up to about a thousand nodes far from int64 overflow, and keep memory exact
// in the float64 JSON form.
const (
	// MaxUnits is the largest cpu, gpu or custom quantity, in whole units.
	MaxUnits = 1_000_000_000
	// MaxMemory is the largest memory quantity, in bytes (8 PiB).
	MaxMemory = bytesize.Max
)

// misspelled maps names that are almost certainly a typo for a built-in
// resource. Accepting them as custom resources would silently give a node a
// resource no task asks for.
var misspelled = map[string]string{
	"cpus": CPU, "gpus": GPU, "mem": Memory, "ram": Memory, "memory_bytes": Memory,
}

// ValidateName checks a resource name: "cpu", "gpu", "memory", or a custom
// name of letters, digits, '_', '-' and '.', starting with a letter.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("empty resource name")
	}
	lower := strings.ToLower(name)
	if want, ok := misspelled[lower]; ok {
		return fmt.Errorf("unknown resource %q: did you mean %q?", name, want)
	}
	if lower != name && (lower == CPU || lower == GPU || lower == Memory) {
		return fmt.Errorf("unknown resource %q: did you mean %q?", name, lower)
	}
	for i, c := range name {
		letter := ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if i == 0 && !letter {
			return fmt.Errorf("invalid resource name %q: it must start with a letter", name)
		}
		if !letter && !('0' <= c && c <= '9') && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("invalid resource name %q: use only letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// ParseQuantity checks the name and converts v to the internal unit of that
// resource: milli-units for cpu, gpu and custom resources, bytes for memory.
// v may be a Go number, a json.Number or a string; a memory string may carry
// a unit ("1.5GiB", see ParseMemory). Quantities must be non-negative, at
// most MaxUnits (MaxMemory for memory), and no finer than the internal unit.
func ParseQuantity(name string, v any) (int64, error) {
	if err := ValidateName(name); err != nil {
		return 0, err
	}
	if name == Memory {
		return parseMemoryValue(v)
	}
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("invalid %s value %s: expected a number", name, x)
		}
		return unitsFromFloat(name, f)
	case float64:
		return unitsFromFloat(name, x)
	case float32:
		return unitsFromFloat(name, float64(x))
	default:
		n, ok := asInt(v)
		if !ok {
			return 0, fmt.Errorf("invalid %s value %v: expected a number, got %T", name, v, v)
		}
		if n < 0 || n > MaxUnits {
			return 0, rangeError(name, strconv.FormatInt(n, 10))
		}
		return n * Milli, nil
	}
	return parseUnits(name, s)
}

// parseUnits parses a decimal string of whole units exactly (no float
// rounding) into milli-units.
func parseUnits(name, s string) (int64, error) {
	r, ok := bytesize.ParseDecimal(s)
	if !ok {
		return 0, fmt.Errorf("invalid %s value %q: expected a non-negative number such as 2 or 0.5", name, s)
	}
	return ratToMilli(name, s, r)
}

func unitsFromFloat(name string, f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid %s value %v: expected a finite number", name, f)
	}
	// Go through the shortest decimal form so that 0.1 (which is not exact
	// in binary) means one tenth, as the user wrote it.
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'f', -1, 64))
	if !ok {
		return 0, fmt.Errorf("invalid %s value %v", name, f)
	}
	return ratToMilli(name, strconv.FormatFloat(f, 'g', -1, 64), r)
}

func ratToMilli(name, s string, r *big.Rat) (int64, error) {
	if r.Sign() < 0 || r.Cmp(big.NewRat(MaxUnits, 1)) > 0 {
		return 0, rangeError(name, s)
	}
	m := new(big.Rat).Mul(r, big.NewRat(Milli, 1))
	if !m.IsInt() {
		return 0, fmt.Errorf("invalid %s value %s: finer than the smallest step of 0.001", name, s)
	}
	return m.Num().Int64(), nil
}

func rangeError(name, s string) error {
	return fmt.Errorf("invalid %s value %s: must be between 0 and %d", name, s, MaxUnits)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return clampUint(uint64(x)), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return clampUint(x), true
	}
	return 0, false
}

func clampUint(x uint64) int64 {
	if x > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(x)
}

// ParseMemory parses a memory size in bytes, as bytesize.Parse: "256MB",
// "1gb", "1.5GiB", "512KiB" or "1048576" (the one parser of memory sizes,
// shared with @resources(memory=...)).
func ParseMemory(s string) (int64, error) { return bytesize.Parse(s) }

func parseMemoryValue(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return ParseMemory(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("invalid memory size %s: expected a number of bytes", x)
		}
		return parseMemoryValue(f)
	case float64, float32:
		f, _ := x.(float64)
		if f32, ok := x.(float32); ok {
			f = float64(f32)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid memory size %v: expected a finite number of bytes", f)
		}
		if f < 0 {
			return 0, fmt.Errorf("invalid memory size %v: must not be negative", f)
		}
		return ParseMemory(strconv.FormatFloat(f, 'f', -1, 64))
	}
	n, ok := asInt(v)
	if !ok {
		return 0, fmt.Errorf("invalid memory size %v: expected a number of bytes or a size such as 1GiB, got %T", v, v)
	}
	return n, bytesize.Check(n)
}

// ParseSpec parses the value of the --resources flag: comma-separated
// NAME=N items such as "cpu=4,gpu=1,mem_slot=2" or "memory=16GiB". Spaces
// around items are ignored, as is an empty item (a trailing comma). Errors
// name the bad item. The empty string is the empty vector.
func ParseSpec(spec string) (Resources, error) {
	var b builder
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return Resources{}, fmt.Errorf("invalid resource %q in %q: expected NAME=N such as cpu=4 or memory=8GiB", item, spec)
		}
		if seen[name] {
			return Resources{}, fmt.Errorf("invalid resource %q in %q: %s is given twice", item, spec, name)
		}
		seen[name] = true
		q, err := ParseQuantity(name, value)
		if err != nil {
			return Resources{}, fmt.Errorf("invalid resource %q in %q: %w", item, spec, err)
		}
		b.set(name, q)
	}
	return b.build(), nil
}

// MustParseSpec is ParseSpec for specs written in code (tests, defaults);
// it panics on an error. Never use it on user input.
func MustParseSpec(spec string) Resources {
	r, err := ParseSpec(spec)
	if err != nil {
		panic(err)
	}
	return r
}

// FormatQuantity formats a quantity in internal units for people: memory as
// a binary size with one decimal ("1.0GiB", "512.0MiB", "100B"), everything
// else in units with up to three decimals ("2", "0.5", "0.125").
func FormatQuantity(name string, q int64) string {
	if name == Memory {
		return bytesize.Format(q)
	}
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	whole, frac := q/Milli, q%Milli
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	return sign + strconv.FormatInt(whole, 10) + "." + f
}

// MarshalJSON encodes r in its map form (see Map), with keys in order.
func (r Resources) MarshalJSON() ([]byte, error) {
	m := r.Map()
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(m[name], 'f', -1, 64))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// UnmarshalJSON decodes the map form. Values may be numbers or, for
// readability in hand-written files, strings such as "1.5GiB" or "0.5".
func (r *Resources) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("invalid resources %s: expected an object such as {\"cpu\": 2}", data)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var b builder
	for _, name := range names {
		q, err := ParseQuantity(name, m[name])
		if err != nil {
			return err
		}
		b.set(name, q)
	}
	*r = b.build()
	return nil
}
