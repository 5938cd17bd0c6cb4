package bytesize

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"256MB": 256_000_000, "1GB": 1_000_000_000, "1gb": 1_000_000_000, "1Gb": 1_000_000_000,
		"1.5GiB": 3 << 29, "512KiB": 512 << 10, "512kib": 512 << 10, "1048576": 1 << 20,
		"100B": 100, "100b": 100, "2 gib": 2 << 30, "0.5KiB": 512, "1.0001KB": 1000, "1.5KB": 1500,
		"7": 7, " 3MB ": 3e6, "1TB": 1e12, "1tib": 1 << 40, "2PB": 2e15, "8PiB": 1 << 53,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"12XB":   `invalid memory size "12XB": expected a number with a unit such as 256MB or 1GiB`,
		"":       `invalid memory size "": expected a number`,
		"GiB":    `invalid memory size "GiB"`,
		"MB":     `invalid memory size "MB"`,
		"1..2GB": `invalid memory size "1..2GB"`,
		"-1GB":   `invalid memory size "-1GB": must not be negative`,
		"9PiB":   `larger than the limit of 8PiB`,
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0B", 100: "100B", 1023: "1023B", 1024: "1.0KiB", 1536: "1.5KiB", 512 << 20: "512.0MiB",
		1 << 30: "1.0GiB", 3 << 39: "1.5TiB", 1 << 53: "8.0PiB", -2048: "-2.0KiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatExact(t *testing.T) {
	for b, want := range map[float64]string{
		256e6: "256MB", 1 << 30: "1GiB", 1e9: "1GB", 1500: "1500B", 1536: "1536B", 2e3: "2KB", 0: "0B", 1 << 40: "1TiB",
	} {
		if got := FormatExact(b); got != want {
			t.Errorf("FormatExact(%g) = %q, want %q", b, got, want)
		}
	}
	// Parse reads back what FormatExact writes.
	for _, b := range []float64{256e6, 1 << 30, 1e9, 1500, 1 << 40} {
		if n, err := Parse(FormatExact(b)); err != nil || float64(n) != b {
			t.Errorf("Parse(FormatExact(%g)) = %d, %v", b, n, err)
		}
	}
}
