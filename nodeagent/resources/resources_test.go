package resources

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		spec string
		want string // String() of the result
	}{
		{"", "none"},
		{"cpu=4,gpu=1,mem_slot=2", "cpu=4 gpu=1 mem_slot=2"},
		{" cpu = 0.5 , memory=1GiB, ", "cpu=0.5 memory=1.0GiB"},
		{"disk_fast=1,cpu=2,gpu=1,memory=1073741824", "cpu=2 memory=1.0GiB gpu=1 disk_fast=1"},
		{"b=1,a=2,c.d-e=0.125", "a=2 b=1 c.d-e=0.125"},
		{"gpu=0,cpu=1", "cpu=1"},
	}
	for _, c := range cases {
		r, err := ParseSpec(c.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.spec, err)
			continue
		}
		if got := r.String(); got != c.want {
			t.Errorf("ParseSpec(%q) = %q, want %q", c.spec, got, c.want)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	cases := []struct {
		spec string
		want string // substring of the error
	}{
		{"cpu=4,gpu", `invalid resource "gpu" in "cpu=4,gpu": expected NAME=N`},
		{"cpu=abc", `invalid resource "cpu=abc" in "cpu=abc": invalid cpu value "abc": expected a non-negative number`},
		{"cpu=-1", `invalid cpu value "-1"`},
		{"cpu=0.0001", `finer than the smallest step of 0.001`},
		{"cpu=1,cpu=2", `cpu is given twice`},
		{"=3", `invalid resource "=3"`},
		{"cpus=3", `unknown resource "cpus": did you mean "cpu"?`},
		{"GPU=3", `unknown resource "GPU": did you mean "gpu"?`},
		{"1x=3", `invalid resource name "1x": it must start with a letter`},
		{"a b=3", `invalid resource name "a b"`},
		{"memory=12XB", `invalid memory size "12XB": expected a number with a unit such as 256MB or 1GiB`},
		{"gpu=1e3", `invalid gpu value "1e3"`},
		{"x=2000000000", `must be between 0 and 1000000000`},
	}
	for _, c := range cases {
		_, err := ParseSpec(c.spec)
		if err == nil {
			t.Errorf("ParseSpec(%q): no error, want %q", c.spec, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSpec(%q) error = %q, want it to contain %q", c.spec, err, c.want)
		}
	}
}

func TestParseMemory(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"256MB", 256_000_000},
		{"1GB", 1_000_000_000},
		{"1.5GiB", 3 << 29},
		{"512KiB", 512 << 10},
		{"1048576", 1 << 20},
		{"100B", 100},
		{"2 gib", 2 << 30},
		{"0.5KiB", 512},
		{"1.0001KB", 1000}, // rounds to whole bytes
		{"8PiB", 1 << 53},
	}
	for _, c := range cases {
		got, err := ParseMemory(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for in, want := range map[string]string{
		"12XB":   `invalid memory size "12XB": expected a number with a unit such as 256MB or 1GiB`,
		"":       `invalid memory size "": expected a number`,
		"GiB":    `invalid memory size "GiB"`,
		"1..2GB": `invalid memory size "1..2GB"`,
		"-1GB":   `invalid memory size "-1GB": must not be negative`,
		"9PiB":   `larger than the limit of 8PiB`,
	} {
		_, err := ParseMemory(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMemory(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestParseQuantityTypes(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want int64
	}{
		{CPU, 2, 2000},
		{CPU, 0.5, 500},
		{CPU, float32(0.25), 250},
		{CPU, "0.1", 100},
		{CPU, 0.1, 100},
		{CPU, json.Number("1.5"), 1500},
		{GPU, uint8(3), 3000},
		{Memory, 1024, 1024},
		{Memory, 1.5e9, 1_500_000_000},
		{Memory, "1KiB", 1024},
		{Memory, json.Number("1e3"), 1000},
		{"slot", int64(7), 7000},
	}
	for _, c := range cases {
		got, err := ParseQuantity(c.name, c.v)
		if err != nil || got != c.want {
			t.Errorf("ParseQuantity(%q, %#v) = %d, %v; want %d", c.name, c.v, got, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		v    any
	}{
		{CPU, math.NaN()}, {CPU, -1}, {CPU, true}, {Memory, -5}, {Memory, 0.5e-1}, {Memory, []int{}},
		{CPU, 0.0005}, {"", 1}, {CPU, 1e300},
	} {
		if q, err := ParseQuantity(c.name, c.v); err == nil && !(c.name == Memory && q == 0) {
			t.Errorf("ParseQuantity(%q, %#v) = %d, want an error", c.name, c.v, q)
		}
	}
}

func TestArithmetic(t *testing.T) {
	a := MustParseSpec("cpu=2,memory=1GiB,disk=1,z=3")
	b := MustParseSpec("cpu=0.5,gpu=1,disk=1,y=2")
	sum := a.Add(b)
	if got, want := sum.String(), "cpu=2.5 memory=1.0GiB gpu=1 disk=2 y=2 z=3"; got != want {
		t.Errorf("Add = %q, want %q", got, want)
	}
	if !sum.Sub(b).Equal(a) {
		t.Errorf("(a+b)-b = %v, want %v", sum.Sub(b), a)
	}
	if d := a.Sub(a); !d.IsZero() {
		t.Errorf("a-a = %v, want zero", d)
	}
	// Fixed point: a thousand tenths are exactly 100.
	var acc Resources
	tenth := MustParseSpec("cpu=0.1")
	for range 1000 {
		acc = acc.Add(tenth)
	}
	if acc.CPU() != 100*Milli {
		t.Errorf("1000 × 0.1 cpu = %d milli, want 100000", acc.CPU())
	}
	// Inputs are not modified.
	if a.String() != "cpu=2 memory=1.0GiB disk=1 z=3" {
		t.Errorf("Add changed its receiver: %v", a)
	}
	// Saturation instead of wrapping.
	big := Resources{}.With(CPU, math.MaxInt64)
	if got := big.Add(big).CPU(); got != math.MaxInt64 {
		t.Errorf("saturating Add = %d", got)
	}
	if got := (Resources{}).Sub(Resources{}.With(CPU, math.MinInt64)).CPU(); got != math.MaxInt64 {
		t.Errorf("saturating Sub = %d", got)
	}
}

func TestFits(t *testing.T) {
	node := MustParseSpec("cpu=4,memory=8GiB,gpu=1,disk_fast=2")
	cases := []struct {
		demand string
		want   bool
	}{
		{"", true},
		{"cpu=4", true},
		{"cpu=4.001", false},
		{"gpu=1,memory=8GiB", true},
		{"gpu=2", false},
		{"disk_fast=2", true},
		{"disk_fast=3", false},
		{"disk_slow=1", false},
		{"a=1", false},
		{"zz=1", false},
	}
	for _, c := range cases {
		if got := MustParseSpec(c.demand).Fits(node); got != c.want {
			t.Errorf("%q.Fits(%v) = %v, want %v", c.demand, node, got, c.want)
		}
	}
	// Over-committed resources the demand does not ask for do not matter.
	over := node.Sub(MustParseSpec("gpu=2"))
	if !MustParseSpec("cpu=1").Fits(over) {
		t.Errorf("cpu=1 should fit on %v", over)
	}
	if MustParseSpec("gpu=1").Fits(over) {
		t.Errorf("gpu=1 should not fit on %v", over)
	}
}

func TestFitsAllocatesNothing(t *testing.T) {
	node := MustParseSpec("cpu=4,memory=8GiB,a=1,b=2,c=3")
	demand := MustParseSpec("cpu=1,b=1,c=1")
	if n := testing.AllocsPerRun(100, func() { _ = demand.Fits(node) }); n != 0 {
		t.Errorf("Fits allocates %v times", n)
	}
}

func TestWithAndGet(t *testing.T) {
	r := MustParseSpec("cpu=1,b=2")
	r2 := r.With("a", 1000).With("c", 3000).With("b", 0).With(GPU, 500)
	if got, want := r2.String(), "cpu=1 gpu=0.5 a=1 c=3"; got != want {
		t.Errorf("With = %q, want %q", got, want)
	}
	if r.String() != "cpu=1 b=2" {
		t.Errorf("With changed its receiver: %v", r)
	}
	if r2.Get("c") != 3000 || r2.Get("b") != 0 || r2.Get(GPU) != 500 || r2.Get("nope") != 0 {
		t.Errorf("Get on %v is wrong", r2)
	}
	if got := strings.Join(r2.Names(), ","); got != "cpu,gpu,a,c" {
		t.Errorf("Names = %q", got)
	}
}

func TestMapAndJSON(t *testing.T) {
	r := MustParseSpec("cpu=0.5,memory=1.5GiB,disk_fast=1")
	m := r.Map()
	want := map[string]float64{CPU: 0.5, GPU: 0, Memory: 1.5 * (1 << 30), "disk_fast": 1}
	if len(m) != len(want) {
		t.Fatalf("Map = %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("Map[%q] = %v, want %v", k, m[k], v)
		}
	}
	back, err := FromMap(m)
	if err != nil || !back.Equal(r) {
		t.Errorf("FromMap(Map(r)) = %v, %v; want %v", back, err, r)
	}
	if _, err := FromMap(map[string]float64{"cpu": -1}); err == nil {
		t.Error("FromMap accepted a negative cpu")
	}

	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"cpu":0.5,"disk_fast":1,"gpu":0,"memory":1610612736}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var decoded Resources
	if err := json.Unmarshal(data, &decoded); err != nil || !decoded.Equal(r) {
		t.Errorf("Unmarshal = %v, %v; want %v", decoded, err, r)
	}
	if err := json.Unmarshal([]byte(`{"memory":"2GiB","cpu":"0.5"}`), &decoded); err != nil || decoded.String() != "cpu=0.5 memory=2.0GiB" {
		t.Errorf("Unmarshal of strings = %v, %v", decoded, err)
	}
	if err := json.Unmarshal([]byte(`{"memory":"2XB"}`), &decoded); err == nil || !strings.Contains(err.Error(), `invalid memory size "2XB"`) {
		t.Errorf("Unmarshal of a bad size: %v", err)
	}
	if err := json.Unmarshal([]byte(`[1]`), &decoded); err == nil {
		t.Error("Unmarshal accepted a list")
	}
}

func TestFormatQuantity(t *testing.T) {
	cases := []struct {
		name string
		q    int64
		want string
	}{
		{CPU, 2000, "2"}, {CPU, 500, "0.5"}, {CPU, 125, "0.125"}, {CPU, 1010, "1.01"}, {CPU, -1500, "-1.5"},
		{GPU, 0, "0"}, {Memory, 1 << 30, "1.0GiB"}, {Memory, 256_000_000, "244.1MiB"}, {Memory, 100, "100B"},
		{Memory, 512 << 10, "512.0KiB"},
	}
	for _, c := range cases {
		if got := FormatQuantity(c.name, c.q); got != c.want {
			t.Errorf("FormatQuantity(%q, %d) = %q, want %q", c.name, c.q, got, c.want)
		}
	}
}

func TestDetect(t *testing.T) {
	r, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU() < Milli || r.Memory() <= 0 || r.GPU() != 0 {
		t.Errorf("Detect() = %v, want at least one cpu, some memory and no gpu", r)
	}
}
