package stash

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/gcs"
)

func sampleBundle() Bundle {
	r := rec("j.1.2", "j.1", "j.1.1")
	r.Seq = 2
	r.Retries = -1
	r.Outcome = []byte("o")
	r.Resources["GPU"] = 0.5
	return Bundle{
		Records: []RecordEntry{{Record: r, Hops: 3}, {Record: gcs.TaskRecord{TaskID: "x"}}},
		Outcomes: []OutcomeEntry{
			{Outcome: Outcome{TaskID: "j.1", Seq: 4, Kind: KindActorOrder, Data: []byte{0, 1}}, Hops: 7},
			{Outcome: Outcome{TaskID: "j.2", Kind: KindIO}},
		},
		Committed: []string{"j.0", "j.0#1"},
	}
}

func TestBundleRoundTrip(t *testing.T) {
	for _, b := range []Bundle{{}, sampleBundle()} {
		p := b.Encode()
		got, err := DecodeBundle(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, b)
		}
	}
}

func TestDecodeBundleRejects(t *testing.T) {
	sb := sampleBundle()
	good := sb.Encode()
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     []byte("XX\x01\x00\x00\x00"),
		"version":   []byte("LS\x09\x00\x00\x00"),
		"trailing":  append(append([]byte(nil), good...), 0),
		"huge":      []byte("LS\x01\xff\xff\xff\xff\x0f"),
		"no id":     (&Bundle{Records: []RecordEntry{{}}}).Encode(),
		"bad hops":  []byte("LS\x01\x00\x01\xff\xff\x7f\x01a\x00\x00\x00\x00"),
		"truncated": good[:len(good)-3],
	}
	for name, p := range cases {
		if _, err := DecodeBundle(p); !errors.Is(err, ErrBadBundle) {
			t.Errorf("%s: err = %v, want ErrBadBundle", name, err)
		}
	}
	for i := range good {
		if _, err := DecodeBundle(good[:i]); err == nil {
			t.Errorf("prefix of %d bytes decoded", i)
		}
	}
}

// FuzzDecodeBundle checks that DecodeBundle never panics and that whatever
// it accepts re-encodes stably.
func FuzzDecodeBundle(f *testing.F) {
	sb := sampleBundle()
	f.Add(sb.Encode())
	f.Add((&Bundle{}).Encode())
	f.Add([]byte("LS\x01\x01"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBundle(p)
		if err != nil {
			return
		}
		e1 := b.Encode()
		b2, err := DecodeBundle(e1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if e2 := b2.Encode(); !bytes.Equal(e1, e2) {
			t.Fatalf("unstable encoding")
		}
	})
}
