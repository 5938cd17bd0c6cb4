package wire

import (
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// A group of calls survives encoding: shared fields once, each call's
// ID, function and arguments (inline, a reference, an earlier call's
// result).
func TestGroupSubmitRoundTrip(t *testing.T) {
	m := &GroupSubmit{ActorID: "a1", Owner: "127.0.0.1:1", ProgramHash: "h", Output: "127.0.0.1:2",
		Resources: map[string]float64{"cpu": 1}, Lineage: []byte{1, 2}, Functions: []string{"seed", "step"},
		Calls: []GroupCall{
			{ID: "j.1", Fn: 0, Args: []Arg{{Inline: []byte{9}}, {ObjectID: "o", Location: "l", Name: "task 'x'"}}},
			{ID: "j.2", Fn: 1, Args: []Arg{{Member: 1}}},
		}}
	b := m.Encode()
	if len(b) > m.SizeHint() {
		t.Errorf("encoded in %d bytes, more than its size hint %d", len(b), m.SizeHint())
	}
	if !IsGroup(b) || IsGroup((&Submit{}).Encode()) {
		t.Fatal("IsGroup does not tell a group from a Submit")
	}
	got, err := DecodeGroupSubmit(b)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, m)
	}
	loose := &GroupSubmit{Loose: true, Owner: "o", Resources: map[string]float64{}, Lineage: []byte{}, Functions: []string{"noop"},
		Calls: []GroupCall{{ID: "j.1", Lineage: []byte{7}, Args: []Arg{{Inline: []byte{1}}}}, {ID: "j.2", Lineage: []byte{}}}}
	got, err = DecodeGroupSubmit(loose.Encode())
	if err != nil || !reflect.DeepEqual(got, loose) {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, loose)
	}
}

// An argument naming a call that is not earlier in its group, or a
// function out of range, is malformed, not a panic.
func TestGroupSubmitRejectsBadIndexes(t *testing.T) {
	for _, m := range []*GroupSubmit{
		{Functions: []string{"f"}, Calls: []GroupCall{{ID: "1", Args: []Arg{{Member: 1}}}}},
		{Functions: []string{"f"}, Calls: []GroupCall{{ID: "1"}, {ID: "2", Args: []Arg{{Member: 3}}}}},
		{Functions: []string{"f"}, Calls: []GroupCall{{ID: "1", Fn: 1}}},
		{Loose: true, Functions: []string{"f"}, Calls: []GroupCall{{ID: "1"}, {ID: "2", Args: []Arg{{Member: 1}}}}},
	} {
		b := m.Encode()
		if _, err := DecodeGroupSubmit(b); err != ErrMalformed {
			t.Errorf("%+v decoded with %v, want ErrMalformed", m.Calls, err)
		}
		for i := range b {
			DecodeGroupSubmit(b[:i]) // truncated: an error, never a panic
		}
	}
}

// A call that is the next call of the call before it travels without
// its ID and is read with it; any other ID travels whole.
func TestGroupSubmitDerivesConsecutiveIDs(t *testing.T) {
	caller := "job-0123456789abcdef.task-with-a-long-name.7"
	m := &GroupSubmit{Resources: map[string]float64{}, Lineage: []byte{}, Functions: []string{"step"}}
	ids := []string{caller + ".8", caller + ".9", caller + ".10", caller + ".11", "other.3", "other.4", "x", "other.5",
		"other.07", "other.8", caller + ".18446744073709551615", caller + ".0"}
	for i := 0; i < 100; i++ {
		ids = append(ids, caller+"."+strconv.Itoa(100+i))
	}
	for _, id := range ids {
		m.Calls = append(m.Calls, GroupCall{ID: id})
	}
	b := m.Encode()
	if limit := 100 * len(caller); len(b) > limit {
		t.Errorf("%d calls of one caller encoded in %d bytes, want under %d: their IDs travel whole", len(ids), len(b), limit)
	}
	got, err := DecodeGroupSubmit(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got.Calls {
		if c.ID != ids[i] {
			t.Errorf("call %d read with ID %q, want %q", i, c.ID, ids[i])
		}
	}
	// A first call without an ID, or one after an ID not of the form
	// <caller>.<n>, is malformed.
	for _, first := range []string{"", "x"} {
		bad := (&GroupSubmit{Functions: []string{"f"}, Calls: []GroupCall{{ID: first}, {ID: "x.1"}}}).Encode()
		if first == "x" {
			bad = (&GroupSubmit{Functions: []string{"f"}, Calls: []GroupCall{{ID: "x"}, {ID: ""}}}).Encode()
		}
		if _, err := DecodeGroupSubmit(bad); err != ErrMalformed {
			t.Errorf("a call without an ID after %q decoded with %v, want ErrMalformed", first, err)
		}
	}
}

// FollowsCall and CallNumber read call numbers as strconv.ParseUint
// does, without it: the same answer for every form of ID, long numbers,
// leading zeros, signs and other bytes among them.
func TestCallNumbersReadAsStrconv(t *testing.T) {
	numbers := []string{"", "0", "1", "9", "10", "007", "+1", "-1", "1_0", "12a", "a", " 1",
		"99", "100", "999999", "1000000",
		"9999999999999999999", "10000000000000000000", "18446744073709551614", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "000000000000000000001", "123456789012345678901"}
	for _, callers := range [][2]string{{"j.t", "j.t"}, {"j.t", "j.u"}, {"", ""}, {"j", "j.t"}} {
		for _, a := range numbers {
			prev := callers[0] + "." + a
			wantCaller, wantN, wantOK := oldCallNumber(prev)
			if caller, n, ok := CallNumber(prev); caller != wantCaller || n != wantN || ok != wantOK {
				t.Errorf("CallNumber(%q) = %q, %d, %v; want %q, %d, %v", prev, caller, n, ok, wantCaller, wantN, wantOK)
			}
			for _, b := range numbers {
				id := callers[1] + "." + b
				if got, want := FollowsCall(prev, id), oldFollowsCall(prev, id); got != want {
					t.Errorf("FollowsCall(%q, %q) = %v, want %v", prev, id, got, want)
				}
			}
		}
	}
	if !FollowsCall("j.t.99", "j.t.100") || FollowsCall("j.t.99", "j.t.0100") || FollowsCall("j.t.18446744073709551615", "j.t.0") {
		t.Error("FollowsCall misreads a carry, a leading zero or the last number")
	}
}

// oldCallNumber and oldFollowsCall are CallNumber and FollowsCall as
// they were written with strconv.ParseUint.
func oldCallNumber(id string) (string, uint64, bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(id[dot+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return id[:dot], n, true
}

func oldFollowsCall(prev, id string) bool {
	caller, n, ok := oldCallNumber(prev)
	if !ok || len(id) <= len(caller)+1 || id[:len(caller)] != caller || id[len(caller)] != '.' {
		return false
	}
	digits := id[len(caller)+1:]
	next := n + 1
	if next == 0 || len(digits) != decimalLen(next) {
		return false
	}
	k, err := strconv.ParseUint(digits, 10, 64)
	return err == nil && k == next
}

// Reading a chain of calls costs allocations per group, not per call:
// the calls' arguments come from chunks, their derived IDs from one
// buffer sized once; a call taking the call before it as its one
// argument takes no memory of its own for it (memberArgs), past the
// calls memberArgs holds as well as before.
func TestDecodeGroupSubmitAllocatesPerGroup(t *testing.T) {
	for _, calls := range []int{1000, 1500} {
		m := &GroupSubmit{Functions: []string{"step"}, Calls: []GroupCall{{ID: "job.main.1", Args: []Arg{{Inline: []byte{1, 2}}}}}}
		for i := 2; i <= calls; i++ {
			m.Calls = append(m.Calls, GroupCall{ID: "job.main." + strconv.Itoa(i), Args: []Arg{{Member: i - 1}}})
		}
		b := m.Encode()
		got, err := DecodeGroupSubmit(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Calls, m.Calls) {
			t.Fatalf("a chain of %d calls read back as %+v", calls, got.Calls[:3])
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(20, func() { DecodeGroupSubmit(b) })
		runtime.ReadMemStats(&after)
		if allocs > 20 {
			t.Errorf("reading a chain of %d calls made %.0f allocations, want at most 20", calls, allocs)
		}
		perCall := float64(after.TotalAlloc-before.TotalAlloc) / 21 / float64(calls)
		if limit := 110.0; calls == 1000 && perCall > limit {
			t.Errorf("reading a chain of %d calls took %.0f bytes a call, want at most %.0f", calls, perCall, limit)
		}
	}
}

// parseDecimal reads what strconv.ParseUint reads in base 10, and fails
// where it fails.
func TestParseDecimalIsParseUint(t *testing.T) {
	for _, s := range []string{"0", "7", "007", "1000", "18446744073709551615", "18446744073709551616",
		"99999999999999999999", "", "-1", "+1", "1_000", "12a", " 1", "1.5", "٣"} {
		want, err := strconv.ParseUint(s, 10, 64)
		got, ok := parseDecimal(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("parseDecimal(%q) = %d, %v; ParseUint: %d, %v", s, got, ok, want, err)
		}
	}
}

// A CallRun started at a call and advanced along the next ones agrees
// with FollowsCall on each pair, and a call it refuses starts no run.
func TestCallRunFollowsEachCall(t *testing.T) {
	ids := []string{"a.b.8", "a.b.9", "a.b.10", "a.c.11", "a.b.11", "a.b.011", "a.b.12", "a.b.13", "x", "x.1",
		"a.b.18446744073709551615", "a.b.0", "a.b.1", "a.bb.2", "a.b.2", ".3", ".4"}
	var run CallRun
	started := run.Start(ids[0])
	for i := 1; i < len(ids); i++ {
		want := FollowsCall(ids[i-1], ids[i])
		if got := started && run.Next(ids[i]); got != want {
			t.Fatalf("%q after %q: the run says %v, FollowsCall %v", ids[i], ids[i-1], got, want)
		}
		if !want {
			started = run.Start(ids[i])
		}
	}
}

// A group written a call at a time (GroupWriter) is the message Encode
// writes for the same calls, byte for byte: IDs derived where they
// follow, members, objects and inline arguments.
func TestGroupWriterWritesWhatEncodeWrites(t *testing.T) {
	m := &GroupSubmit{ActorID: "a1", Owner: "127.0.0.1:1", ProgramHash: "h", Output: "127.0.0.1:2",
		Resources: map[string]float64{"cpu": 1}, Lineage: []byte{1, 2}, Functions: []string{"seed", "step"}}
	calls := []GroupCall{
		{ID: "j.5", Fn: 0, Args: []Arg{{Inline: []byte{3}}, {ObjectID: "j.1", Location: "127.0.0.1:3", Name: "task 'f'"}}},
		{ID: "j.6", Fn: 1, Args: []Arg{{Member: 1}}},
		{ID: "j.7", Fn: 1, Args: []Arg{{Member: 2}, {Member: 1}}},
		{ID: "k.2", Fn: 1},
		{ID: "k.3", Fn: 0, Args: []Arg{{}}},
	}
	w := NewGroupWriter(0)
	for _, c := range calls {
		w.Call(c.ID, c.Fn, c.Args)
	}
	got := w.Message(m)
	m.Calls = calls
	if want := m.Encode(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the writer wrote\n%v\nEncode\n%v", got, want)
	}
	back, err := DecodeGroupSubmit(got)
	if err != nil || !reflect.DeepEqual(back.Calls[2], calls[2]) || back.Calls[4].ID != "k.3" {
		t.Fatalf("read back: %+v, %v", back, err)
	}
}
