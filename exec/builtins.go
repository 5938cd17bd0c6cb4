package exec

import (
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// builtinTable holds the built-in functions, always in scope.
var builtinTable = map[string]*Builtin{}

func init() {
	for name, fn := range map[string]BuiltinFunc{
		"print": builtinPrint, "len": builtinLen, "range": builtinRange,
		"sum": builtinSum, "min": builtinMinMax(-1), "max": builtinMinMax(1),
		"abs": builtinAbs, "round": builtinRound, "int": builtinInt,
		"float": builtinFloat, "str": builtinStr, "bool": builtinBool,
		"list": builtinList, "dict": builtinDict, "sorted": builtinSorted,
		"reversed": builtinReversed, "enumerate": builtinEnumerate,
		"zip": builtinZip, "keys": mapView("keys"), "values": mapView("values"),
		"items": mapView("items"), "any": builtinAnyAll(true),
		"all": builtinAnyAll(false), "type": builtinType, "repr": builtinRepr,
		"fail": builtinFail, "get": builtinGet, "wait": builtinWait,
		"put": builtinPut, "cancel": builtinCancel, "reduce": builtinReduce,
		"kill": builtinKill,
	} {
		builtinTable[name] = NewBuiltin(name, fn)
	}
	builtinTable["wait"].Nondeterministic = true
}

// pureBuiltins are the built-ins whose result depends only on their
// arguments: they need no thread.
var pureBuiltins = map[string]bool{"abs": true, "int": true, "float": true, "str": true, "min": true, "max": true}

// PureBuiltin returns the built-in name as a function of its positional
// arguments, when it is one whose result depends only on them (abs, int,
// float, str, min, max), or nil. The planner folds constants with it.
func PureBuiltin(name string) func(args ...Value) (Value, error) {
	if !pureBuiltins[name] {
		return nil
	}
	b := builtinTable[name]
	return func(args ...Value) (Value, error) {
		return b.fn(nil, &Args{Fn: name, Pos: args})
	}
}

// BuiltinNames lists the built-in functions.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtinTable))
	for n := range builtinTable {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func builtinPrint(th *Thread, a *Args) (Value, error) {
	sep, end := " ", "\n"
	for _, kw := range a.Kw {
		switch kw.Name {
		case "sep":
			sep = kw.Value.String()
		case "end":
			end = kw.Value.String()
		case "flush":
			// Python's flush=: each print is written at once anyway.
		default:
			return None, Errorf(KindType, "print() got an unexpected keyword argument '%s'", kw.Name)
		}
	}
	parts := make([]string, len(a.Pos))
	for i, v := range a.Pos {
		if v.kind == FutureKind {
			return None, futureAsValue(v)
		}
		parts[i] = v.String()
	}
	line := strings.Join(parts, sep) + end
	if th.Print != nil {
		th.Print(th, line)
	}
	return None, nil
}

// noKeywords refuses keyword arguments, naming the first.
func noKeywords(a *Args) error {
	if len(a.Kw) > 0 {
		return Errorf(KindType, "%s() got an unexpected keyword argument '%s'", a.Fn, a.Kw[0].Name)
	}
	return nil
}

func one(a *Args) (Value, error) {
	var v Value
	if err := a.Unpack("x", &v); err != nil {
		return None, err
	}
	if v.kind == FutureKind && a.Fn != "type" && a.Fn != "repr" {
		return None, futureAsValue(v)
	}
	return v, nil
}

func builtinLen(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	switch v.kind {
	case StringKind:
		return Int(int64(len([]rune(v.AsString())))), nil
	case ListKind:
		return Int(int64(len(v.AsList().Elems))), nil
	case MapKind:
		return Int(int64(v.AsMap().Len())), nil
	case TensorKind:
		return Int(int64(tensorRows(v.AsTensor()))), nil
	}
	return None, Errorf(KindType, "len() of %s", v.TypeName())
}

func builtinRange(th *Thread, a *Args) (Value, error) {
	if err := noKeywords(a); err != nil {
		return None, err
	}
	start, stop, step, err := rangeBounds(a.Pos)
	if err != nil {
		return None, err
	}
	n := rangeLen(start, stop, step)
	if n > uint64(MaxValueBytes/valueSize) {
		return None, Errorf(KindValue, "range() of %d elements is too large for a list (%s, more than the %s one value may take); loop over it with 'for' instead", n, byteCount(float64(n)*float64(valueSize)), byteCount(MaxValueBytes))
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Int(start + int64(i)*step)
	}
	return ListOf(out), nil
}

// iterable returns the elements a built-in iterates over.
func iterable(v Value, fn string) ([]Value, error) {
	switch v.kind {
	case ListKind:
		return v.AsList().Elems, nil
	case MapKind:
		return v.AsMap().Keys(), nil
	case StringKind:
		s := v.AsString()
		out := make([]Value, 0, len(s))
		for _, r := range s {
			out = append(out, Str(string(r)))
		}
		return out, nil
	case TensorKind:
		t := v.AsTensor()
		out := make([]Value, tensorRows(t))
		for i := range out {
			out[i] = tensorRow(t, i)
		}
		return out, nil
	case FutureKind:
		return nil, futureAsValue(v)
	}
	return nil, Errorf(KindType, "%s() needs a list, a map or a string, not %s", fn, v.TypeName())
}

func builtinSum(th *Thread, a *Args) (Value, error) {
	var xs, start Value = None, Int(0)
	if err := a.Unpack("xs", &xs, "start?", &start); err != nil {
		return None, err
	}
	elems, err := iterable(xs, "sum")
	if err != nil {
		return None, err
	}
	acc := start
	for _, e := range elems {
		if acc, err = Arith("+", acc, e); err != nil {
			return None, err
		}
	}
	return acc, nil
}

// builtinMinMax is min (sign -1) and max (sign 1), as Python's: one
// iterable or several arguments, key= a function whose results are
// compared, default= the result for an empty iterable. The first of
// equal extremes wins.
func builtinMinMax(sign int) BuiltinFunc {
	return func(th *Thread, a *Args) (Value, error) {
		var key, def Value
		hasDefault := false
		for _, kw := range a.Kw {
			switch kw.Name {
			case "key":
				key = kw.Value
			case "default":
				def, hasDefault = kw.Value, true
			default:
				return None, Errorf(KindType, "%s() got an unexpected keyword argument '%s'", a.Fn, kw.Name)
			}
		}
		elems := a.Pos
		switch {
		case len(a.Pos) == 0:
			return None, Errorf(KindType, "%s() expected at least 1 argument, got 0", a.Fn)
		case len(a.Pos) == 1:
			var err error
			if elems, err = iterable(a.Pos[0], a.Fn); err != nil {
				return None, err
			}
		case hasDefault:
			return None, Errorf(KindType, "%s() cannot take a default with more than one positional argument", a.Fn)
		}
		if len(elems) == 0 {
			if hasDefault {
				return def, nil
			}
			return None, Errorf(KindValue, "%s() of an empty sequence", a.Fn)
		}
		keys, err := applyKey(th, key, elems, a.Fn)
		if err != nil {
			return None, err
		}
		best := 0
		for i := 1; i < len(elems); i++ {
			c, err := order(keys[i], keys[best], "<")
			if err != nil {
				return None, err
			}
			if c == sign {
				best = i
			}
		}
		if elems[best].kind == FutureKind {
			return None, futureAsValue(elems[best])
		}
		return elems[best], nil
	}
}

// applyKey returns key(e) for each element, or the elements themselves
// when key is none.
func applyKey(th *Thread, key Value, elems []Value, fn string) ([]Value, error) {
	if key.IsNone() {
		return elems, nil
	}
	if key.kind != FunctionKind {
		return nil, Errorf(KindType, "%s() key must be a function, not %s", fn, key.TypeName())
	}
	keys := make([]Value, len(elems))
	for i, e := range elems {
		var err error
		if keys[i], err = key.AsCallable().Call(th, []Value{e}, nil); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func builtinAbs(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	switch v.kind {
	case IntKind:
		if v.AsInt() == math.MinInt64 {
			return overflow("abs")
		}
		return Int(abs64(v.AsInt())), nil
	case FloatKind:
		return Float(math.Abs(v.AsFloat())), nil
	}
	return None, Errorf(KindType, "abs() needs a number, not %s", v.TypeName())
}

// builtinRound is Python's round: round(x) gives an int, half to even;
// round(x, n) keeps x's type (an int stays an int) and rounds to n
// digits after the point, half to even on the exact value, where a
// negative n rounds to tens, hundreds, ...
func builtinRound(th *Thread, a *Args) (Value, error) {
	var x, digits Value
	if err := a.Unpack("x", &x, "ndigits?", &digits); err != nil {
		return None, err
	}
	if x.kind == FutureKind {
		return None, futureAsValue(x)
	}
	if !x.IsNumber() {
		return None, Errorf(KindType, "round() argument 'x' must be a number, not %s", x.TypeName())
	}
	if digits.IsNone() {
		if x.kind == IntKind {
			return x, nil
		}
		r := math.RoundToEven(x.AsFloat())
		if math.IsNaN(r) || math.IsInf(r, 0) || math.Abs(r) >= 1<<63 {
			return None, Errorf(KindValue, "cannot round %s to an int", FormatFloat(x.AsFloat()))
		}
		return Int(int64(r)), nil
	}
	if digits.kind != IntKind {
		return None, Errorf(KindType, "round() ndigits must be an int, not %s", digits.TypeName())
	}
	d := digits.AsInt()
	if x.kind == IntKind {
		return roundInt(x.AsInt(), d)
	}
	f := x.AsFloat()
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		return x, nil
	}
	if d >= 0 {
		s := strconv.FormatFloat(f, 'f', int(min(d, 400)), 64)
		r, _ := strconv.ParseFloat(s, 64)
		return Float(r), nil
	}
	return Float(roundFloatTens(f, min(-d, 400))), nil
}

// roundInt rounds an int to d digits: unchanged for d >= 0, else to a
// multiple of 10^-d, half to even.
func roundInt(x, d int64) (Value, error) {
	if d >= 0 {
		return Int(x), nil
	}
	if d < -19 {
		return Int(0), nil
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(-d), nil)
	q := roundHalfEven(new(big.Rat).SetFrac(big.NewInt(x), p))
	q.Mul(q, p)
	if !q.IsInt64() {
		return overflow("round")
	}
	return Int(q.Int64()), nil
}

// roundFloatTens rounds f to a multiple of 10^k (k > 0), half to even on
// f's exact binary value, as CPython does.
func roundFloatTens(f float64, k int64) float64 {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil)
	r := new(big.Rat).SetFloat64(f)
	q := roundHalfEven(r.Quo(r, new(big.Rat).SetInt(p)))
	out, _ := new(big.Rat).SetInt(q.Mul(q, p)).Float64()
	return math.Copysign(out, f)
}

// roundHalfEven rounds a rational to the nearest integer, ties to even.
func roundHalfEven(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // floor division: 0 <= m < denom
	switch new(big.Int).Lsh(m, 1).Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// builtinInt is Python's int: int(x) converts a number, bool or decimal
// string; int(s, base) reads a string in base 2 to 36, or with base 0 in
// the base its prefix (0x, 0o, 0b) says.
func builtinInt(th *Thread, a *Args) (Value, error) {
	var v, base Value
	if err := a.Unpack("x", &v, "base?", &base); err != nil {
		return None, err
	}
	if v.kind == FutureKind {
		return None, futureAsValue(v)
	}
	if !base.IsNone() {
		return intWithBase(v, base)
	}
	switch v.kind {
	case IntKind:
		return v, nil
	case BoolKind:
		return Int(int64(v.num)), nil
	case FloatKind:
		f := v.AsFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 {
			return None, Errorf(KindValue, "cannot convert %s to int", FormatFloat(f))
		}
		return Int(int64(f)), nil
	case StringKind:
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(v.AsString()), "_", ""), 10, 64)
		if err != nil {
			return None, Errorf(KindValue, "invalid int: %s", v.Repr())
		}
		return Int(n), nil
	}
	return None, Errorf(KindType, "int() cannot convert %s", v.TypeName())
}

// intWithBase is int(s, base).
func intWithBase(v, base Value) (Value, error) {
	if base.kind != IntKind {
		return None, Errorf(KindType, "int() base must be an int, not %s", base.TypeName())
	}
	b := base.AsInt()
	if b != 0 && (b < 2 || b > 36) {
		return None, Errorf(KindValue, "int() base must be >= 2 and <= 36, or 0")
	}
	if v.kind != StringKind {
		return None, Errorf(KindType, "int() cannot convert %s with an explicit base", v.TypeName())
	}
	s := strings.ReplaceAll(strings.TrimSpace(v.AsString()), "_", "")
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	prefixes := map[string]int64{"0x": 16, "0o": 8, "0b": 2}
	if len(s) > 2 {
		if pb, ok := prefixes[strings.ToLower(s[:2])]; ok && (b == 0 || b == pb) {
			s, b = s[2:], pb
		}
	}
	if b == 0 {
		b = 10
		if len(strings.TrimLeft(s, "0")) < len(s) && strings.Trim(s, "0") != "" {
			s = "invalid" // base 0: a decimal with a leading zero is refused, as in Python
		}
	}
	n, err := strconv.ParseInt(sign+s, int(b), 64)
	if err != nil || s == "" {
		return None, Errorf(KindValue, "invalid int in base %d: %s", b, v.Repr())
	}
	return Int(n), nil
}

func builtinFloat(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	switch v.kind {
	case IntKind, FloatKind:
		return Float(v.Number()), nil
	case BoolKind:
		return Float(float64(v.num)), nil
	case StringKind:
		s := strings.ToLower(strings.TrimSpace(v.AsString()))
		switch s {
		case "inf", "+inf", "infinity":
			return Float(math.Inf(1)), nil
		case "-inf", "-infinity":
			return Float(math.Inf(-1)), nil
		case "nan":
			return Float(math.NaN()), nil
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			return None, Errorf(KindValue, "invalid float: %s", v.Repr())
		}
		return Float(f), nil
	}
	return None, Errorf(KindType, "float() cannot convert %s", v.TypeName())
}

func builtinStr(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	return Str(v.String()), nil
}

func builtinRepr(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	return Str(v.Repr()), nil
}

func builtinBool(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	return Bool(v.Truth()), nil
}

func builtinType(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	return Str(v.TypeName()), nil
}

func builtinList(th *Thread, a *Args) (Value, error) {
	if len(a.Pos) == 0 {
		return ListOf(nil), noKeywords(a)
	}
	v, err := one(a)
	if err != nil {
		return None, err
	}
	elems, err := iterable(v, "list")
	if err != nil {
		return None, err
	}
	return ListOf(append([]Value(nil), elems...)), nil
}

func builtinDict(th *Thread, a *Args) (Value, error) {
	m := NewMap(len(a.Kw))
	if len(a.Pos) > 1 {
		return None, Errorf(KindType, "dict() takes at most one positional argument")
	}
	if len(a.Pos) == 1 {
		src := a.Pos[0]
		switch src.kind {
		case MapKind:
			for i, k := range src.AsMap().keys {
				_ = m.Set(k, src.AsMap().vals[i])
			}
		case ListKind:
			for _, pair := range src.AsList().Elems {
				if pair.kind != ListKind || len(pair.AsList().Elems) != 2 {
					return None, Errorf(KindValue, "dict() needs a list of [key, value] pairs")
				}
				if err := m.Set(pair.AsList().Elems[0], pair.AsList().Elems[1]); err != nil {
					return None, err
				}
			}
		default:
			return None, Errorf(KindType, "dict() cannot convert %s", src.TypeName())
		}
	}
	for _, kw := range a.Kw {
		_ = m.Set(Str(kw.Name), kw.Value)
	}
	return MapValue(m), nil
}

func builtinSorted(th *Thread, a *Args) (Value, error) {
	var xs Value
	var key Value
	reverse := false
	if err := a.Unpack("xs", &xs, "key?", &key, "reverse?", &reverse); err != nil {
		return None, err
	}
	elems, err := iterable(xs, "sorted")
	if err != nil {
		return None, err
	}
	out := append([]Value(nil), elems...)
	keys, err := applyKey(th, key, out, a.Fn)
	if err != nil {
		return None, err
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	sort.SliceStable(idx, func(i, j int) bool {
		c, err := order(keys[idx[i]], keys[idx[j]], "<")
		if err != nil && sortErr == nil {
			sortErr = err
		}
		if reverse {
			return c == 1
		}
		return c == -1
	})
	if sortErr != nil {
		return None, sortErr
	}
	result := make([]Value, len(out))
	for i, j := range idx {
		result[i] = out[j]
	}
	return ListOf(result), nil
}

func builtinReversed(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	elems, err := iterable(v, "reversed")
	if err != nil {
		return None, err
	}
	out := make([]Value, len(elems))
	for i, e := range elems {
		out[len(elems)-1-i] = e
	}
	return ListOf(out), nil
}

func builtinEnumerate(th *Thread, a *Args) (Value, error) {
	var xs Value
	start := int64(0)
	if err := a.Unpack("xs", &xs, "start?", &start); err != nil {
		return None, err
	}
	elems, err := iterable(xs, "enumerate")
	if err != nil {
		return None, err
	}
	out := make([]Value, len(elems))
	for i, e := range elems {
		out[i] = ListOf([]Value{Int(start + int64(i)), e})
	}
	return ListOf(out), nil
}

func builtinZip(th *Thread, a *Args) (Value, error) {
	if err := noKeywords(a); err != nil {
		return None, err
	}
	lists := make([][]Value, len(a.Pos))
	n := -1
	for i, v := range a.Pos {
		elems, err := iterable(v, "zip")
		if err != nil {
			return None, err
		}
		lists[i] = elems
		if n < 0 || len(elems) < n {
			n = len(elems)
		}
	}
	if n < 0 {
		n = 0
	}
	out := make([]Value, n)
	for i := range out {
		row := make([]Value, len(lists))
		for j := range lists {
			row[j] = lists[j][i]
		}
		out[i] = ListOf(row)
	}
	return ListOf(out), nil
}

func mapView(which string) BuiltinFunc {
	return func(th *Thread, a *Args) (Value, error) {
		var m *Map
		if err := a.Unpack("m", &m); err != nil {
			return None, err
		}
		return mapViewOf(m, which), nil
	}
}

func mapViewOf(m *Map, which string) Value {
	out := make([]Value, m.Len())
	for i, k := range m.keys {
		switch which {
		case "keys":
			out[i] = k
		case "values":
			out[i] = m.vals[i]
		default:
			out[i] = ListOf([]Value{k, m.vals[i]})
		}
	}
	return ListOf(out)
}

func builtinAnyAll(isAny bool) BuiltinFunc {
	return func(th *Thread, a *Args) (Value, error) {
		v, err := one(a)
		if err != nil {
			return None, err
		}
		elems, err := iterable(v, a.Fn)
		if err != nil {
			return None, err
		}
		for _, e := range elems {
			if e.Truth() == isAny {
				return Bool(isAny), nil
			}
		}
		return Bool(!isAny), nil
	}
}

func builtinFail(th *Thread, a *Args) (Value, error) {
	var msg Value
	if err := a.Unpack("message", &msg); err != nil {
		return None, err
	}
	return None, Errorf(KindUser, "%s", msg.String())
}

// futuresOf reads the argument of get/wait/cancel: one future or a list.
func futuresOf(v Value, fn string) ([]*Future, bool, error) {
	if v.kind == FutureKind {
		return []*Future{v.AsFuture()}, true, nil
	}
	if v.kind != ListKind {
		return nil, false, Errorf(KindType, "%s() needs a future or a list of futures, not %s", fn, v.TypeName())
	}
	elems := v.AsList().Elems
	out := make([]*Future, len(elems))
	for i, e := range elems {
		if e.kind != FutureKind {
			return nil, false, Errorf(KindType, "%s() needs a list of futures; element %d is %s", fn, i, e.TypeName())
		}
		out[i] = e.AsFuture()
	}
	return out, false, nil
}

// builtinGet is get(f) and get([f, ...]), as Ray's get: with timeout=
// seconds it raises a "timeout" error when the futures are not all
// ready by then (the tasks go on running).
func builtinGet(th *Thread, a *Args) (Value, error) {
	if len(a.Pos) == 1 && len(a.Kw) == 0 && a.Pos[0].kind == FutureKind {
		// get(f), on every round trip: no slices when the runtime can.
		rt, err := th.rt()
		if err != nil {
			return None, err
		}
		if one, ok := rt.(OneGetter); ok {
			return one.GetOne(th, a.Pos[0].AsFuture())
		}
	}
	var v, timeout Value
	if err := a.Unpack("x", &v, "timeout?", &timeout); err != nil {
		return None, err
	}
	fs, single, err := futuresOf(v, "get")
	if err != nil {
		return None, err
	}
	d, err := timeoutOf(timeout, a.Fn)
	if err != nil {
		return None, err
	}
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	if d >= 0 && len(fs) > 0 {
		ready, err := rt.Wait(th, fs, len(fs), d)
		if err != nil {
			return None, err
		}
		if len(ready) < len(fs) {
			return None, Errorf(KindTimeout, "get() timed out after %s s: %d of %d future%s not ready",
				timeout.String(), len(fs)-len(ready), len(fs), plural(len(fs)))
		}
	}
	vals, err := rt.Get(th, fs)
	if err != nil {
		return None, err
	}
	if single {
		return vals[0], nil
	}
	return ListOf(vals), nil
}

// timeoutOf reads a timeout argument in seconds: none is no timeout (-1).
func timeoutOf(timeout Value, fn string) (time.Duration, error) {
	if timeout.IsNone() {
		return -1, nil
	}
	if !timeout.IsNumber() || math.IsNaN(timeout.Number()) || timeout.Number() < 0 {
		return 0, Errorf(KindValue, "%s() timeout must be a non-negative number of seconds or none", fn)
	}
	return time.Duration(min(timeout.Number(), 1e9) * float64(time.Second)), nil
}

// one2 unpacks one argument that may be a future.
func one2(a *Args) (Value, error) {
	var v Value
	err := a.Unpack("x", &v)
	return v, err
}

// builtinWait is Ray's wait: [ready, pending], where ready holds at most
// num futures (the first ready ones in the input's order) and pending
// all the others, ready or not, in the input's order; so a loop taking
// one at a time loses none.
func builtinWait(th *Thread, a *Args) (Value, error) {
	var fsV, timeout Value
	num := 1
	if err := a.Unpack("futures", &fsV, "num?", &num, "timeout?", &timeout); err != nil {
		return None, err
	}
	fs, _, err := futuresOf(fsV, "wait")
	if err != nil {
		return None, err
	}
	d, err := timeoutOf(timeout, a.Fn)
	if err != nil {
		return None, err
	}
	num = min(max(num, 0), len(fs))
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	ready, err := rt.Wait(th, fs, num, d)
	if err != nil {
		return None, err
	}
	isReady := make([]bool, len(fs))
	for _, i := range ready {
		isReady[i] = true
	}
	r, p := []Value{}, []Value{}
	for i, f := range fs {
		if isReady[i] && len(r) < num {
			r = append(r, FutureValue(f))
		} else {
			p = append(p, FutureValue(f))
		}
	}
	return ListOf([]Value{ListOf(r), ListOf(p)}), nil
}

func builtinPut(th *Thread, a *Args) (Value, error) {
	v, err := one(a)
	if err != nil {
		return None, err
	}
	return putCopy(th, v)
}

// putCopy stores a copy of v in the object store and returns its future
// (put(v)).
func putCopy(th *Thread, v Value) (Value, error) {
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	f, err := rt.Put(th, CopyValue(v))
	if err != nil {
		return None, err
	}
	return FutureValue(f), nil
}

func builtinCancel(th *Thread, a *Args) (Value, error) {
	v, err := one2(a)
	if err != nil {
		return None, err
	}
	fs, _, err := futuresOf(v, "cancel")
	if err != nil {
		return None, err
	}
	rt, err := th.rt()
	if err != nil {
		return None, err
	}
	for _, f := range fs {
		if err := rt.Cancel(th, f); err != nil {
			return None, err
		}
	}
	return None, nil
}
