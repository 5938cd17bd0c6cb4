package exec

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
)

// streamValues are values of odd sizes for the streaming tests: tensors
// whose data does not fill whole chunks, empty ones, lists and strings.
func streamValues() []Value {
	odd := make([]float64, 3*readStep/8+13)
	for i := range odd {
		odd[i] = float64(i) * 0.5
	}
	return []Value{
		TensorValue(&Tensor{Shape: []int{len(odd)}, Data: odd}),
		TensorValue(&Tensor{Shape: []int{7, 3}, Data: odd[:21]}),
		TensorValue(&Tensor{Shape: []int{0}, Data: []float64{}}),
		ListOf([]Value{Int(1), Str(strings.Repeat("x", 2*readStep+5)), TensorValue(&Tensor{Shape: []int{2}, Data: []float64{1, 2}})}),
		Str(strings.Repeat("long string ", readStep/4+3)),
		Int(-5),
	}
}

// SegmentReader hands out what it reads without copying, and reads the
// same bytes whether read or taken.
func TestSegmentReaderNextBytes(t *testing.T) {
	for _, v := range streamValues() {
		r1, size, err := EncodeStream(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := io.ReadAll(r1)
		r2, _, _ := EncodeStream(v, nil)
		src := r2.(*SegmentReader)
		var taken []byte
		for b := src.NextBytes(12345); len(b) > 0; b = src.NextBytes(12345) {
			if len(b) > 12345 {
				t.Fatalf("NextBytes gave %d bytes for at most 12345", len(b))
			}
			taken = append(taken, b...)
		}
		if int64(len(whole)) != size || !bytes.Equal(whole, taken) {
			t.Fatalf("%s: read %d, took %d, size %d", v.TypeName(), len(whole), len(taken), size)
		}
	}
	data := []float64{1, 2, 3}
	r, _, _ := EncodeStream(TensorValue(&Tensor{Shape: []int{3}, Data: data}), nil)
	src := r.(*SegmentReader)
	src.NextBytes(100) // the header
	if b := src.NextBytes(100); &b[0] != &floatBytes(data)[0] {
		t.Fatal("a tensor's data was copied")
	}
}

// ReadChunk decodes what Write decodes, from chunks of any size, and a
// tensor's data is read into the tensor whole.
func TestStreamDecoderReadChunk(t *testing.T) {
	for _, v := range streamValues() {
		for _, chunk := range []int{1, 7, 4096, readStep + 3, 8 * readStep} {
			for _, trusted := range []bool{false, true} {
				r, size, err := EncodeStream(v, nil)
				if err != nil {
					t.Fatal(err)
				}
				d := NewStreamDecoder(nil)
				if trusted {
					d = NewTrustedStreamDecoder(nil, 1<<30)
				}
				for left := int(size); left > 0; {
					n := min(chunk, left)
					if err := d.ReadChunk(r, n); err != nil {
						t.Fatal(err)
					}
					left -= n
				}
				got, err := d.Value()
				if err != nil || !Equal(got, v) {
					t.Fatalf("%s in chunks of %d (trusted %v): got %v, err %v", v.TypeName(), chunk, trusted, got.TypeName(), err)
				}
			}
		}
	}
}

// A header that lies costs what arrives through ReadChunk too: the
// default decoder allocates at most streamPrealloc floats for it, a
// trusted one at most its bound, and more data than announced is refused.
func TestStreamDecoderReadChunkLyingHeader(t *testing.T) {
	head := []byte{encodeVersion, tagTensor}
	head = binary.AppendUvarint(head, 1)
	head = binary.AppendUvarint(head, 1<<37)
	for _, d := range []*StreamDecoder{NewStreamDecoder(nil), NewTrustedStreamDecoder(nil, 16<<20)} {
		in := append(append([]byte{}, head...), make([]byte, 64)...)
		if err := d.ReadChunk(bytes.NewReader(in), len(in)); err != nil {
			t.Fatal(err)
		}
		if n := len(d.tensor.Data); n > d.ahead || d.ahead > 16<<20/8 && d.ahead > streamPrealloc {
			t.Fatalf("allocated %d floats for 8 that arrived (bound %d)", n, d.ahead)
		}
		if _, err := d.Value(); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("Value: %v", err)
		}
	}
	short := append(append([]byte{}, head[:2]...), 1, 2) // rank 1, two floats announced
	short = append(short, make([]byte, 24)...)
	d := NewStreamDecoder(nil)
	if err := d.ReadChunk(bytes.NewReader(short), len(short)); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("three floats for two announced: %v", err)
	}
}
