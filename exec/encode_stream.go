package exec

import (
	"bytes"
	"encoding/binary"
	"io"
	"unsafe"
)

// Streaming forms of the encoding, for moving large objects between
// processes without holding two full copies: a tensor's data is read
// from its own memory on the way out and written into its final memory
// on the way in. Other values go through the ordinary encoding.

// littleEndian reports whether float64 memory is already in the
// encoding's byte order, so tensor data can be sent as it lies.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// EncodeStream returns a reader of v's encoding and its length.
func EncodeStream(v Value, refs RefCodec) (io.Reader, int64, error) {
	if v.kind != TensorKind || !littleEndian {
		data, err := EncodeWith(nil, v, refs)
		return bytes.NewReader(data), int64(len(data)), err
	}
	t := v.AsTensor()
	head := tensorHeader(t)
	data := floatBytes(t.Data)
	return io.MultiReader(bytes.NewReader(head), bytes.NewReader(data)), int64(len(head) + len(data)), nil
}

func tensorHeader(t *Tensor) []byte {
	buf := []byte{encodeVersion, tagTensor}
	buf = binary.AppendUvarint(buf, uint64(len(t.Shape)))
	for _, d := range t.Shape {
		buf = binary.AppendUvarint(buf, uint64(d))
	}
	return buf
}

// floatBytes views a float64 slice as bytes, without copying.
func floatBytes(f []float64) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*8)
}

// StreamDecoder is an io.Writer that takes an encoded value as it arrives
// and decodes it. A tensor's data goes straight into the tensor; other
// values are buffered and decoded at the end.
type StreamDecoder struct {
	refs   RefCodec
	head   []byte  // bytes before the tensor data, or everything for other values
	tensor *Tensor // set once a tensor header is complete; its Data grows as bytes come
	want   int     // the number of floats the header announced
	filled int     // bytes of tensor data written
}

// streamPrealloc is the most tensor data a StreamDecoder allocates before
// the bytes arrive (64 MiB); beyond it the data grows as it comes, so a
// header that announces more than is sent costs what is sent, not what
// it announces.
const streamPrealloc = 8 << 20 // floats

// NewStreamDecoder returns a decoder that reads futures and handles with
// refs (which may be nil).
func NewStreamDecoder(refs RefCodec) *StreamDecoder { return &StreamDecoder{refs: refs} }

// Write takes the next bytes of the encoding.
func (d *StreamDecoder) Write(p []byte) (int, error) {
	n := len(p)
	if d.tensor == nil {
		d.head = append(d.head, p...)
		rest, ok := d.tryTensorHeader()
		if !ok {
			return n, nil
		}
		p = rest
	}
	if d.filled+len(p) > d.want*8 {
		return 0, Errorf(KindValue, "malformed encoded value: tensor data too long")
	}
	d.grow((d.filled + len(p) + 7) / 8)
	d.filled += copy(floatBytes(d.tensor.Data)[d.filled:], p)
	return n, nil
}

// grow makes the tensor's data hold at least floats elements (at most
// what the header announced), doubling so that growing costs linear time.
func (d *StreamDecoder) grow(floats int) {
	have := d.tensor.Data
	if floats <= len(have) {
		return
	}
	size := min(max(floats, 2*len(have)), d.want)
	data := make([]float64, size)
	copy(data, have)
	d.tensor.Data = data
}

// tryTensorHeader parses a complete tensor header from d.head, allocates
// the tensor, and returns the data bytes that followed the header.
func (d *StreamDecoder) tryTensorHeader() ([]byte, bool) {
	if !littleEndian || len(d.head) < 2 || d.head[0] != encodeVersion || d.head[1] != tagTensor {
		return nil, false
	}
	buf := d.head[2:]
	rank, n := binary.Uvarint(buf)
	if n <= 0 || rank > 32 {
		return nil, false
	}
	buf = buf[n:]
	shape := make([]int, rank)
	size := uint64(1)
	for i := range shape {
		dim, n := binary.Uvarint(buf)
		if n <= 0 || dim > 1<<40 || dim > 0 && size > (1<<40)/dim {
			return nil, false
		}
		buf = buf[n:]
		shape[i] = int(dim)
		size *= dim
	}
	d.want = int(size)
	d.tensor = &Tensor{Shape: shape, Data: make([]float64, min(d.want, streamPrealloc))}
	rest := buf
	d.head = nil
	return rest, true
}

// Value returns the decoded value once every byte has been written.
func (d *StreamDecoder) Value() (Value, error) {
	if d.tensor != nil {
		if d.filled != d.want*8 {
			return None, Errorf(KindValue, "malformed encoded value: tensor data truncated")
		}
		return TensorValue(d.tensor), nil
	}
	return DecodeWith(d.head, d.refs)
}
