package wire

import (
	"reflect"
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
