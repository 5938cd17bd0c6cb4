package exec

import (
	"encoding/binary"
	"io"
	"slices"
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

// EncodeStream returns a reader of v's encoding and its length. The
// reader of a tensor also hands out its bytes without copying
// (NextBytes): its header, then the tensor's own memory, which the value
// must not change while it is read (values are immutable).
func EncodeStream(v Value, refs RefCodec) (io.Reader, int64, error) {
	if v.kind != TensorKind || !littleEndian {
		data, err := EncodeWith(nil, v, refs)
		return &SegmentReader{segs: [][]byte{data}}, int64(len(data)), err
	}
	t := v.AsTensor()
	head := tensorHeader(t)
	data := floatBytes(t.Data)
	return &SegmentReader{segs: [][]byte{head, data}}, int64(len(head) + len(data)), nil
}

// SegmentReader reads a run of byte slices in turn. Read copies;
// NextBytes hands out the slices' own memory.
type SegmentReader struct {
	segs [][]byte
}

// Read copies the next bytes into p.
func (r *SegmentReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.segs) > 0 {
		b := r.NextBytes(len(p) - n)
		n += copy(p[n:], b)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// NextBytes returns the next at most max bytes (fewer at the end of a
// segment; none at the end), without copying: the caller must not
// modify them.
func (r *SegmentReader) NextBytes(max int) []byte {
	for len(r.segs) > 0 && len(r.segs[0]) == 0 {
		r.segs = r.segs[1:]
	}
	if len(r.segs) == 0 {
		return nil
	}
	b := r.segs[0]
	if len(b) > max {
		b = b[:max]
	}
	r.segs[0] = r.segs[0][len(b):]
	return b
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
	ahead  int     // the most floats allocated before their bytes arrive
	alloc  TensorAllocator
}

// TensorAllocator gives a StreamDecoder the memory of a tensor being
// received: a slice of n floats (len and cap n) whose contents may be
// anything, since the decoder overwrites every one of them before the
// tensor can be seen (a stream that ends early yields an error, never
// the tensor). The memory must not be in use anywhere else.
type TensorAllocator func(n int) []float64

// streamPrealloc is the most tensor data a StreamDecoder allocates before
// the bytes arrive (64 MiB); beyond it the data grows as it comes, so a
// header that announces more than is sent costs what is sent, not what
// it announces.
const streamPrealloc = 8 << 20 // floats

// NewStreamDecoder returns a decoder that reads futures and handles with
// refs (which may be nil).
func NewStreamDecoder(refs RefCodec) *StreamDecoder {
	return &StreamDecoder{refs: refs, ahead: streamPrealloc}
}

// NewTrustedStreamDecoder is NewStreamDecoder for bytes from an
// authenticated peer: a tensor of up to ahead bytes is allocated whole
// when its header arrives, so that its data is read into place with no
// copy as it grows. Callers bound ahead by what their object store may
// hold; a larger tensor still grows as its bytes arrive.
func NewTrustedStreamDecoder(refs RefCodec, ahead int64) *StreamDecoder {
	return &StreamDecoder{refs: refs, ahead: int(max(ahead/8, streamPrealloc))}
}

// UseAllocator has the decoder take the memory of a tensor it receives
// from a (an object store's pool of freed buffers, say) instead of
// allocating it.
func (d *StreamDecoder) UseAllocator(a TensorAllocator) {
	d.alloc = a
}

// readStep is the most a ReadChunk reads (and allocates) at once, so
// that memory grows as bytes arrive whatever a frame header announces.
const readStep = 1 << 20

// ReadChunk takes the next n bytes of the encoding from r. A tensor's
// data is read straight into the tensor's memory; other values are read
// into the buffer Value decodes. An error from r is returned as it is.
func (d *StreamDecoder) ReadChunk(r io.Reader, n int) error {
	var small [512]byte
	for n > 0 && d.tensor == nil && d.mayBeTensor() {
		k := min(n, len(small))
		if _, err := io.ReadFull(r, small[:k]); err != nil {
			return err
		}
		n -= k
		if _, err := d.Write(small[:k]); err != nil {
			return err
		}
	}
	if d.tensor == nil {
		return d.readHead(r, n)
	}
	if d.filled+n > d.want*8 {
		return Errorf(KindValue, "malformed encoded value: tensor data too long")
	}
	for n > 0 {
		step := min(n, readStep)
		d.grow((d.filled + step + 7) / 8)
		if _, err := io.ReadFull(r, floatBytes(d.tensor.Data)[d.filled:d.filled+step]); err != nil {
			return err
		}
		d.filled += step
		n -= step
	}
	return nil
}

// readHead appends the next n bytes of a value that is not a tensor.
func (d *StreamDecoder) readHead(r io.Reader, n int) error {
	for n > 0 {
		step := min(n, readStep)
		at := len(d.head)
		d.head = slices.Grow(d.head, step)[:at+step]
		if _, err := io.ReadFull(r, d.head[at:]); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// mayBeTensor reports whether the bytes so far may start a tensor whose
// data can be read in place.
func (d *StreamDecoder) mayBeTensor() bool {
	h := d.head
	return littleEndian && (len(h) == 0 || h[0] == encodeVersion) && (len(h) < 2 || h[1] == tagTensor) && len(h) < 1024
}

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
	data := d.allocate(size)
	copy(data, have)
	d.tensor.Data = data
}

// populateMin is the size from which a tensor being received has its
// memory faulted in ahead of the reads (populate).
const populateMin = 4 << 20

// allocate allocates the memory of a tensor being received; memory not
// yet in use by this process is faulted in ahead of the reads.
func (d *StreamDecoder) allocate(floats int) []float64 {
	var data []float64
	if d.alloc != nil {
		data = d.alloc(floats)
	} else {
		data = make([]float64, floats)
	}
	populate(floatBytes(data))
	return data
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
	d.tensor = &Tensor{Shape: shape, Data: d.allocate(min(d.want, d.ahead))}
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
