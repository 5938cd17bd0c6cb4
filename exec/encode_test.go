package exec

import (
	"encoding/binary"
	"io"
	"math"
	"strings"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	m := NewMap(2)
	_ = m.Set(Str("a"), Int(1))
	_ = m.Set(Int(7), ListOf([]Value{Float(2.5), None, True}))
	values := []Value{
		None, True, False, Int(0), Int(-1), Int(math.MaxInt64), Int(math.MinInt64),
		Float(0.1), Float(math.Inf(-1)), Str(""), Str("héllo\n"),
		ListOf(nil), ListOf([]Value{Int(1), Str("x"), ListOf([]Value{Int(2)})}),
		MapValue(m),
		TensorValue(&Tensor{Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}}),
		TensorValue(&Tensor{Shape: []int{0}, Data: []float64{}}),
	}
	for _, v := range values {
		buf, err := Encode(nil, v)
		if err != nil {
			t.Fatalf("Encode(%s): %v", v.Repr(), err)
		}
		got, err := Decode(buf)
		if err != nil {
			t.Fatalf("Decode(Encode(%s)): %v", v.Repr(), err)
		}
		if !Equal(got, v) || got.Repr() != v.Repr() {
			t.Errorf("round trip of %s gave %s", v.Repr(), got.Repr())
		}
		if est := EncodedSize(v); est < int64(len(buf))-9 {
			t.Errorf("EncodedSize(%s) = %d, encoded %d bytes", v.Repr(), est, len(buf))
		}
	}
}

func TestEncodeRefusesRuntimeValues(t *testing.T) {
	for _, v := range []Value{FutureValue(NewFuture("", "task f")), FuncValue(NewBuiltin("f", nil))} {
		if _, err := Encode(nil, v); err == nil {
			t.Errorf("Encode(%s) succeeded; want an error", v.TypeName())
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, data := range [][]byte{nil, {9}, {1}, {1, tagInt, 1}, {1, tagString, 200}, {1, tagList, 5, tagNone},
		{1, tagTensor, 2, 255, 255, 255, 255, 15, 255, 255, 255, 255, 15}, {1, 99}, {1, tagNone, 0}} {
		if _, err := Decode(data); err == nil {
			t.Errorf("Decode(%v) succeeded; want an error", data)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range []Value{Int(3), Str("ab"), ListOf([]Value{Int(1), Float(2)}),
		TensorValue(&Tensor{Shape: []int{2}, Data: []float64{1, 2}})} {
		buf, _ := Encode(nil, v)
		f.Add(buf)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			return
		}
		buf, err := Encode(nil, v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		if _, err := Decode(buf); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
	})
}

// The streaming encoding round-trips whatever the chunk sizes.
func TestEncodeStreamRoundTrip(t *testing.T) {
	big := make([]float64, 100_000)
	for i := range big {
		big[i] = float64(i) * 0.5
	}
	for _, v := range []Value{
		TensorValue(&Tensor{Shape: []int{400, 250}, Data: big}),
		TensorValue(&Tensor{Shape: []int{0, 3}, Data: []float64{}}),
		ListOf([]Value{Int(1), Str("two"), TensorValue(&Tensor{Shape: []int{2}, Data: []float64{1, 2}})}),
		Str("plain"),
	} {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			r, size, err := EncodeStream(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			d := NewStreamDecoder(nil)
			buf := make([]byte, chunk)
			total := int64(0)
			for {
				n, rerr := r.Read(buf)
				total += int64(n)
				if _, werr := d.Write(buf[:n]); werr != nil {
					t.Fatal(werr)
				}
				if rerr != nil {
					break
				}
			}
			got, err := d.Value()
			if err != nil || total != size || !Equal(got, v) {
				t.Fatalf("chunk %d: got %v (%d of %d bytes), err %v", chunk, got.TypeName(), total, size, err)
			}
		}
	}
}

// A streamed tensor whose header announces far more data than arrives
// (2^37 floats, 1 TiB) costs what arrives, not what it announces, and is
// reported as truncated.
func TestStreamDecoderLyingHeader(t *testing.T) {
	head := []byte{encodeVersion, tagTensor}
	head = binary.AppendUvarint(head, 1)
	head = binary.AppendUvarint(head, 1<<37)
	d := NewStreamDecoder(nil)
	if _, err := d.Write(append(head, make([]byte, 64)...)); err != nil {
		t.Fatal(err)
	}
	if n := len(d.tensor.Data); n > streamPrealloc {
		t.Fatalf("allocated %d floats for 8 that arrived", n)
	}
	if _, err := d.Value(); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("Value: %v", err)
	}
}

// A streamed tensor larger than what is allocated ahead arrives whole.
func TestStreamDecoderGrows(t *testing.T) {
	n := streamPrealloc + 12345
	data := make([]float64, n)
	for i := range data {
		data[i] = float64(i)
	}
	r, _, err := EncodeStream(TensorValue(&Tensor{Shape: []int{n}, Data: data}), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := NewStreamDecoder(nil)
	if _, err := io.CopyBuffer(d, r, make([]byte, 1<<20+3)); err != nil {
		t.Fatal(err)
	}
	v, err := d.Value()
	if err != nil {
		t.Fatal(err)
	}
	got := v.AsTensor().Data
	if len(got) != n || got[n-1] != float64(n-1) || got[streamPrealloc] != float64(streamPrealloc) {
		t.Fatalf("got %d floats", len(got))
	}
}

// The decoder bounds amplification: every list element and map entry
// becomes a Value of valueSize bytes however few bytes encode it, so a
// 64 MiB frame of one-byte elements (2 GiB as Values) is refused before
// anything is allocated, whether in one list or spread over several; a
// value within the bound decodes.
func TestDecodeBoundsAmplification(t *testing.T) {
	list := func(n int, elem []byte) []byte {
		out := binary.AppendUvarint([]byte{tagList}, uint64(n))
		for i := 0; i < n; i++ {
			out = append(out, elem...)
		}
		return out
	}
	const frame = 64 << 20
	flat := append([]byte{encodeVersion}, list(frame-8, []byte{tagNone})...)
	half := list(frame/2-8, []byte{tagNone})
	nested := append(binary.AppendUvarint([]byte{encodeVersion, tagList}, 2), append(half, half...)...)
	maps := binary.AppendUvarint([]byte{encodeVersion, tagMap}, uint64(frame/2-8))
	for i := 0; i < frame/2-8; i++ {
		maps = append(maps, tagNone, tagNone)
	}
	for name, data := range map[string][]byte{"one list": flat, "two lists": nested, "a map": maps} {
		_, err := Decode(data)
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s of %d MiB: %v", name, len(data)>>20, err)
		}
	}
	ok := append([]byte{encodeVersion}, list(1<<20, []byte{tagNone})...)
	if v, err := Decode(ok); err != nil || len(v.AsList().Elems) != 1<<20 {
		t.Fatalf("a list of 1M elements: %v", err)
	}
}
