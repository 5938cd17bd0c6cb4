package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"
)

// TestPrimitiveBytes pins the bytes of every primitive: the formats built
// on them (gcs rows, stash bundles, node agent messages) keep their bytes
// only if these do.
func TestPrimitiveBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(e *Encoder)
		hex   string
	}{
		{"uvarint 0", func(e *Encoder) { e.Uvarint(0) }, "00"},
		{"uvarint 300", func(e *Encoder) { e.Uvarint(300) }, "ac02"},
		{"uvarint max", func(e *Encoder) { e.Uvarint(math.MaxUint64) }, "ffffffffffffffffff01"},
		{"varint -1", func(e *Encoder) { e.Varint(-1) }, "01"},
		{"varint 1", func(e *Encoder) { e.Varint(1) }, "02"},
		{"varint min", func(e *Encoder) { e.Varint(math.MinInt64) }, "ffffffffffffffffff01"},
		{"byte", func(e *Encoder) { e.Byte(0xfe) }, "fe"},
		{"bools", func(e *Encoder) { e.Bool(true); e.Bool(false) }, "0100"},
		{"float64 1", func(e *Encoder) { e.Float64(1) }, "000000000000f03f"},
		{"float64 -0.5", func(e *Encoder) { e.Float64(-0.5) }, "000000000000e0bf"},
		{"string", func(e *Encoder) { e.String("hé") }, "0368c3a9"},
		{"empty string", func(e *Encoder) { e.String("") }, "00"},
		{"blob", func(e *Encoder) { e.Blob([]byte{0, 0xff}) }, "0200ff"},
		{"nil blob", func(e *Encoder) { e.Blob(nil) }, "00"},
		{"strings", func(e *Encoder) { e.Strings([]string{"a", ""}) }, "02016100"},
		{"float map", func(e *Encoder) { e.FloatMap(map[string]float64{"cpu": 1, "GPU": 0.5}) },
			"0203475055000000000000e03f03637075000000000000f03f"},
		{"nil float map", func(e *Encoder) { e.FloatMap(nil) }, "00"},
		{"string map", func(e *Encoder) { e.StringMap(map[string]string{"b": "2", "a": "1"}) }, "020161013101620132"},
		{"big map sorts", func(e *Encoder) {
			m := map[string]string{}
			for _, k := range []string{"j", "i", "h", "g", "f", "e", "d", "c", "b", "a"} {
				m[k] = ""
			}
			e.StringMap(m)
		}, "0a016100016200016300016400016500016600016700016800016900016a00"},
	} {
		var e Encoder
		tc.write(&e)
		if got := hex.EncodeToString(e.Bytes()); got != tc.hex {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.hex)
		}
	}
}

func TestEncoderAppendsAndResets(t *testing.T) {
	e := NewEncoder([]byte{9})
	e.Uvarint(1)
	if !bytes.Equal(e.Bytes(), []byte{9, 1}) || e.Len() != 2 {
		t.Fatalf("NewEncoder does not append: %x", e.Bytes())
	}
	e.Reset()
	if e.Len() != 0 {
		t.Fatal("Reset kept bytes")
	}
}

func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.Uvarint(math.MaxUint64)
	e.Varint(-1 << 40)
	e.Byte(7)
	e.Bool(true)
	e.Bool(false)
	e.Float64(math.Pi)
	e.String("héllo")
	e.Blob([]byte{1, 2, 3})
	e.Blob(nil)
	e.Blob([]byte{4})
	e.Strings([]string{"x", "y"})
	e.Strings(nil)
	e.FloatMap(map[string]float64{"cpu": 2})
	e.FloatMap(nil)
	e.StringMap(map[string]string{"k": "v"})
	e.StringMap(nil)
	d := NewDecoder(e.Bytes())
	got := []any{d.Uvarint(), d.Varint(), d.Byte(), d.Bool(), d.Bool(), d.Float64(), d.String(),
		d.Blob(), d.Blob(), d.BlobCopy(), d.Strings(), d.Strings(), d.FloatMap(), d.FloatMap(), d.StringMap(), d.StringMap()}
	want := []any{uint64(math.MaxUint64), int64(-1 << 40), byte(7), true, false, math.Pi, "héllo",
		[]byte{1, 2, 3}, []byte{}, []byte{4}, []string{"x", "y"}, []string(nil),
		map[string]float64{"cpu": 2}, map[string]float64(nil), map[string]string{"k": "v"}, map[string]string(nil)}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
	}
}

func TestBlobAliasesAndBlobCopyDoesNot(t *testing.T) {
	in := []byte{2, 'a', 'b', 2, 'c', 'd'}
	d := NewDecoder(in)
	alias, cp := d.Blob(), d.BlobCopy()
	in[1], in[4] = 'X', 'Y'
	if string(alias) != "Xb" || string(cp) != "cd" {
		t.Fatalf("alias %q copy %q", alias, cp)
	}
	if cap(alias) != len(alias) {
		t.Fatal("an aliased blob can be appended into the input")
	}
}

func TestSpan(t *testing.T) {
	var e Encoder
	e.String("head")
	e.FloatMap(map[string]float64{"cpu": 1})
	d := NewDecoder(e.Bytes())
	_ = d.String()
	from := d.Offset()
	d.FloatMap()
	if got := d.Span(from); !bytes.Equal(got, e.Bytes()[5:]) {
		t.Fatalf("span %x", got)
	}
}

// Lengths and counts beyond the input fail before anything is allocated,
// and every failure sticks and wraps ErrMalformed.
func TestDecoderBounds(t *testing.T) {
	var huge Encoder
	huge.Uvarint(1 << 40)
	for name, read := range map[string]func(d *Decoder){
		"blob":       func(d *Decoder) { d.Blob() },
		"blob copy":  func(d *Decoder) { d.BlobCopy() },
		"string":     func(d *Decoder) { _ = d.String() },
		"count":      func(d *Decoder) { d.Count(1) },
		"strings":    func(d *Decoder) { d.Strings() },
		"float map":  func(d *Decoder) { d.FloatMap() },
		"string map": func(d *Decoder) { d.StringMap() },
		"float64":    func(d *Decoder) { d.Float64() },
	} {
		var d *Decoder
		if n := allocatedBytes(func() { d = NewDecoder(huge.Bytes()); read(d) }); n > 1<<10 {
			t.Errorf("%s: %d bytes allocated for a 6-byte input", name, n)
		}
		if !errors.Is(d.Err(), ErrMalformed) {
			t.Errorf("%s: err %v", name, d.Err())
		}
	}
	// Nine bytes cannot hold two elements of at least nine bytes.
	if d := NewDecoder([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0}); d.Count(9) != 0 || d.Err() == nil {
		t.Error("a count of 2 nine-byte elements in 9 bytes accepted")
	}
	d := NewDecoder([]byte{0x80}) // an unterminated varint
	if d.Uvarint(); !errors.Is(d.Err(), ErrMalformed) {
		t.Fatal(d.Err())
	}
	first := d.Err()
	if d.Byte() != 0 || d.String() != "" || d.Err() != first {
		t.Fatal("the first error did not stick")
	}
	if d := NewDecoder([]byte{2}); d.Bool() || d.Err() == nil {
		t.Fatal("bool 2 accepted")
	}
	if d := NewDecoder(nil); d.Varint() != 0 || d.Err() == nil {
		t.Fatal("empty varint accepted")
	}
	if d := NewDecoder([]byte{1, 2}); d.Byte() != 1 || d.Finish() == nil {
		t.Fatal("trailing byte accepted by Finish")
	}
	d = NewDecoder([]byte{1})
	d.Fail("version 1 is not known")
	if d.Byte() != 0 || !errors.Is(d.Err(), ErrMalformed) {
		t.Fatal("Fail did not stick")
	}
}

// allocatedBytes reports how many bytes f allocates.
// allocatedBytes is how many bytes f allocates: the fewest of five runs,
// because the counter is the whole process's and another goroutine (the
// test framework, the GC) may allocate during one of them.
func allocatedBytes(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// FuzzDecoder reads arbitrary input with an arbitrary sequence of reads:
// the decoder must never panic, never read past its input, never
// allocate for a count it could not hold, and keep its first error.
func FuzzDecoder(f *testing.F) {
	var e Encoder
	e.Uvarint(3)
	e.String("abc")
	e.FloatMap(map[string]float64{"cpu": 1})
	e.StringMap(map[string]string{"a": "b"})
	e.Strings([]string{"x"})
	e.Bool(true)
	e.Float64(2)
	f.Add([]byte{0, 6, 8, 9, 10, 3, 5}, e.Bytes())
	f.Add([]byte{7, 7, 7}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{11, 12}, []byte{0x80, 0x80})
	f.Fuzz(func(t *testing.T, ops, input []byte) {
		d := NewDecoder(input)
		for _, op := range ops {
			before, prev := d.Remaining(), d.Err()
			switch op % 13 {
			case 0:
				d.Uvarint()
			case 1:
				d.Varint()
			case 2:
				d.Byte()
			case 3:
				d.Bool()
			case 4:
				d.Float64()
			case 5:
				if s := d.String(); len(s) > before {
					t.Fatalf("string of %d bytes from %d", len(s), before)
				}
			case 6:
				if b := d.Blob(); len(b) > before {
					t.Fatalf("blob of %d bytes from %d", len(b), before)
				}
			case 7:
				d.BlobCopy()
			case 8:
				if n := d.Count(int(op>>4) + 1); n > before {
					t.Fatalf("count %d from %d bytes", n, before)
				}
			case 9:
				if ss := d.Strings(); len(ss) > before {
					t.Fatalf("%d strings from %d bytes", len(ss), before)
				}
			case 10:
				if m := d.FloatMap(); len(m)*9 > before {
					t.Fatalf("%d floats from %d bytes", len(m), before)
				}
			case 11:
				if m := d.StringMap(); len(m)*2 > before {
					t.Fatalf("%d strings from %d bytes", len(m), before)
				}
			case 12:
				d.Finish()
			}
			if d.Remaining() > before || d.Remaining() < 0 {
				t.Fatalf("remaining went from %d to %d", before, d.Remaining())
			}
			if prev != nil && d.Err() != prev {
				t.Fatal("the first error did not stick")
			}
			if d.Err() != nil && !errors.Is(d.Err(), ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", d.Err())
			}
		}
	})
}

// FuzzRoundTrip checks that whatever is encoded decodes to itself.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), int64(-1), 1.5, "s", []byte{1}, true)
	f.Fuzz(func(t *testing.T, u uint64, i int64, fl float64, s string, b []byte, flag bool) {
		var e Encoder
		e.Uvarint(u)
		e.Varint(i)
		e.Float64(fl)
		e.String(s)
		e.Blob(b)
		e.Bool(flag)
		e.FloatMap(map[string]float64{s: fl})
		d := NewDecoder(e.Bytes())
		gu, gi, gf, gs, gb, gflag, gm := d.Uvarint(), d.Varint(), d.Float64(), d.String(), d.Blob(), d.Bool(), d.FloatMap()
		if err := d.Finish(); err != nil {
			t.Fatal(err)
		}
		if gu != u || gi != i || math.Float64bits(gf) != math.Float64bits(fl) || gs != s || !bytes.Equal(gb, b) || gflag != flag ||
			len(gm) != 1 || math.Float64bits(gm[s]) != math.Float64bits(fl) {
			t.Fatal("round trip mismatch")
		}
	})
}

// BlobFunc writes what Blob would for the bytes fill appends, whatever
// their length, and an empty blob when fill fails.
func TestBlobFuncMatchesBlob(t *testing.T) {
	for _, n := range []int{0, 1, 0x7f, 0x80, 300, 0x4000, 70000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		want := NewEncoder([]byte("head"))
		want.Blob(data)
		want.Byte(9)
		got := NewEncoder([]byte("head"))
		got.BlobFunc(func(dst []byte) ([]byte, bool) { return append(dst, data...), true })
		got.Byte(9)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("n=%d: BlobFunc wrote %x, Blob %x", n, got.Bytes()[:min(20, got.Len())], want.Bytes()[:min(20, want.Len())])
		}
	}
	e := NewEncoder(nil)
	e.BlobFunc(func(dst []byte) ([]byte, bool) { return append(dst, 1, 2, 3), false })
	if !bytes.Equal(e.Bytes(), []byte{0}) {
		t.Fatalf("a failed fill wrote %x", e.Bytes())
	}
}
