package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/internal/bytesize"
	"github.com/rayflow/rayflow/lang"
)

// identName is a bare name used as a decorator argument, as in
// @hint(batch).
type identName string

// ConstValue evaluates a literal expression at compile time: numbers
// (with a sign), strings, booleans and bare names. It reports false for
// anything else.
func ConstValue(e *lang.Expr) (any, bool) {
	pf, neg := lang.SignedPostfixOf(e)
	if pf == nil || len(pf.Suffixes) > 0 {
		return nil, false
	}
	p := pf.Primary
	switch {
	case p.Int != nil:
		n, err := ParseInt(*p.Int)
		if err != nil {
			return nil, false
		}
		if neg {
			n = -n
		}
		return n, true
	case p.Float != nil:
		f, err := strconv.ParseFloat(strings.ReplaceAll(*p.Float, "_", ""), 64)
		if err != nil {
			return nil, false
		}
		if neg {
			f = -f
		}
		return f, true
	case neg:
		return nil, false
	case p.String != nil:
		return *p.String, true
	case p.Bool != nil:
		return *p.Bool == "true", true
	case p.Name != "":
		return identName(p.Name), true
	}
	return nil, false
}

// ParseInt parses an int literal such as 1_000.
func ParseInt(text string) (int64, error) {
	n, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer literal %s does not fit in 64 bits", text)
	}
	return n, nil
}

// ParseMemory reads a memory size: an int of bytes or a string such as
// "256MB", "1gb" or "1.5GiB", read by bytesize.Parse, the parser the
// command line's --resources memory=... uses too.
func ParseMemory(v any) (int64, error) {
	switch m := v.(type) {
	case int64:
		return m, bytesize.Check(m)
	case string:
		return bytesize.Parse(m)
	}
	return 0, fmt.Errorf("invalid memory size %v: expected a number of bytes or a size such as \"256MB\" or \"1GiB\"", v)
}
