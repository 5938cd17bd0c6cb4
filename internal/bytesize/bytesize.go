package bytesize

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Max is the largest size Parse accepts, in bytes (8 PiB).
const Max = 1 << 53

// units maps the accepted units (lower-cased) to bytes.
var units = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"pb":  1e15,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
	"pib": 1 << 50,
}

// Parse reads a size in bytes: a non-negative number with an optional
// unit, "256MB", "1GB", "1.5GiB", "512KiB" or "1048576". Units are
// case-insensitive ("1gb" is "1GB"); KB, MB, GB, TB and PB are powers of
// 1000, KiB … PiB powers of 1024; no unit means bytes. Fractions round to
// the nearest byte. Sizes above Max are refused.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (('0' <= t[i] && t[i] <= '9') || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, okUnit := units[unit]
	r, okNum := ParseDecimal(num)
	if !okUnit || !okNum {
		if strings.HasPrefix(t, "-") {
			return 0, fmt.Errorf("invalid memory size %q: must not be negative", s)
		}
		return 0, fmt.Errorf("invalid memory size %q: expected a number with a unit such as 256MB or 1GiB", s)
	}
	r.Mul(r, big.NewRat(mult, 1))
	if r.Cmp(big.NewRat(Max, 1)) > 0 {
		return 0, fmt.Errorf("invalid memory size %q: larger than the limit of 8PiB", s)
	}
	// Round half up to whole bytes: floor(r + 1/2).
	r.Add(r, big.NewRat(1, 2))
	return new(big.Int).Quo(r.Num(), r.Denom()).Int64(), nil
}

// Check refuses a number of bytes that is negative or above Max.
func Check(n int64) error {
	if n < 0 {
		return fmt.Errorf("invalid memory size %d: must not be negative", n)
	}
	if n > Max {
		return fmt.Errorf("invalid memory size %d: larger than the limit of %s", n, Format(Max))
	}
	return nil
}

// ParseDecimal reads a plain non-negative decimal exactly: digits with
// at most one '.', no sign, exponent or fraction bar (which big.Rat
// would accept).
func ParseDecimal(s string) (*big.Rat, bool) {
	digits, dots := 0, 0
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return nil, false
		}
	}
	if digits == 0 || dots > 1 {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// Format shows n bytes in the largest binary unit it reaches, with one
// decimal: "1.5GiB", "512.0MiB", "100B", "-2.0KiB".
func Format(n int64) string {
	abs := math.Abs(float64(n))
	for _, u := range []struct {
		name string
		size float64
	}{{"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if abs >= u.size {
			return strconv.FormatFloat(float64(n)/u.size, 'f', 1, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// FormatExact shows b bytes in the largest unit, binary or decimal, that
// divides it exactly, as written in source: "256MB", "1GiB", "1500B".
func FormatExact(b float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9}, {"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3}} {
		if b >= u.size && math.Mod(b, u.size) == 0 {
			return fmt.Sprintf("%g%s", b/u.size, u.name)
		}
	}
	return fmt.Sprintf("%gB", b)
}
