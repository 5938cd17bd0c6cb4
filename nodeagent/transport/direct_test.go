package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
)

// segSource is a ByteSource over a run of byte slices.
type segSource struct{ segs [][]byte }

func (s *segSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		b := s.NextBytes(len(p) - n)
		if len(b) == 0 {
			break
		}
		n += copy(p[n:], b)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (s *segSource) NextBytes(max int) []byte {
	for len(s.segs) > 0 && len(s.segs[0]) == 0 {
		s.segs = s.segs[1:]
	}
	if len(s.segs) == 0 {
		return nil
	}
	b := s.segs[0][:min(max, len(s.segs[0]))]
	s.segs[0] = s.segs[0][len(b):]
	return b
}

// patternBytes is the first n bytes of newPattern(1).
func patternBytes(n int) []byte {
	b := make([]byte, n)
	newPattern(1).Read(b)
	return b
}

// sourceHandler answers FetchObject (payload: size, announced size) with
// a ByteSource of the pattern's bytes in three uneven segments.
type sourceHandler struct{}

func (sourceHandler) Serve(ctx context.Context, _ *Peer, req *Message) (*Message, error) {
	if req.Type != FetchObject {
		return &Message{Type: TaskDone, Payload: req.Payload}, nil
	}
	d := codec.NewDecoder(req.Payload)
	size, announced := int(d.Uvarint()), int64(d.Uvarint())
	b := patternBytes(size)
	cut1, cut2 := size/3, size/3+min(7, size-size/3)
	return NewStreamReply(&segSource{segs: [][]byte{b[:cut1], b[cut1:cut2], b[cut2:]}}, announced), nil
}

func sizes(size, announced int) []byte {
	return append(uv(uint64(size)), uv(uint64(announced))...)
}

// chunkBuf is a ChunkReader that keeps what it reads, reading each
// chunk from the connection itself.
type chunkBuf struct {
	bytes.Buffer
	chunks   int
	failFrom int // refuse once this many bytes are held (0: never)
}

func (c *chunkBuf) ReadChunk(r io.Reader, n int) error {
	c.chunks++
	if c.failFrom > 0 && c.Len()+n > c.failFrom {
		return errors.New("store full")
	}
	_, err := io.CopyN(&c.Buffer, r, int64(n))
	return err
}

// A stream from a ByteSource arrives whole, through a ChunkReader or a
// plain writer, or assembled by Call, for sizes around the chunk size.
func TestStreamFromByteSourceToChunkReader(t *testing.T) {
	s := startServer(t, sourceHandler{}, Options{ChunkSize: 64 << 10})
	c := dial(t, s.Addr(), Options{})
	ctx := ctxT(t, 20*time.Second)
	for _, size := range []int{0, 1, 8, 64 << 10, 64<<10 + 1, 3<<20 + 5} {
		want := patternBytes(size)
		var direct chunkBuf
		if err := c.CallStream(ctx, FetchObject, sizes(size, size), &direct); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(direct.Bytes(), want) {
			t.Fatalf("size %d through ReadChunk: wrong bytes (%d)", size, direct.Len())
		}
		if size > 0 && direct.chunks == 0 {
			t.Fatalf("size %d: ReadChunk never called", size)
		}
		var plain bytes.Buffer
		if err := c.CallStream(ctx, FetchObject, sizes(size, size), &plain); err != nil || !bytes.Equal(plain.Bytes(), want) {
			t.Fatalf("size %d through Write: %d bytes, %v", size, plain.Len(), err)
		}
		if m, err := c.Call(ctx, FetchObject, sizes(size, size)); err != nil || !bytes.Equal(m.Payload, want) {
			t.Fatalf("size %d assembled by Call: %v", size, err)
		}
	}
	// As from a plain reader, the stream stops at the announced size,
	// and a source that ends before it is an error.
	var cut chunkBuf
	if err := c.CallStream(ctx, FetchObject, sizes(3000, 1000), &cut); err != nil || !bytes.Equal(cut.Bytes(), patternBytes(1000)) {
		t.Fatalf("3000 bytes announced as 1000: %d bytes, %v", cut.Len(), err)
	}
	var cutMid chunkBuf // the cut inside a segment
	if err := c.CallStream(ctx, FetchObject, sizes(3000, 1504), &cutMid); err != nil || !bytes.Equal(cutMid.Bytes(), patternBytes(1504)) {
		t.Fatalf("3000 bytes announced as 1504: %d bytes, %v", cutMid.Len(), err)
	}
	err := c.CallStream(ctx, FetchObject, sizes(3000, 5000), &chunkBuf{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeStream {
		t.Fatalf("3000 bytes announced as 5000: %v", err)
	}
}

// A ChunkReader also takes streams from plain readers (the pattern), and
// one that refuses a chunk ends its call with its error while the
// connection stays usable.
func TestChunkReaderRefuses(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{ChunkSize: 64 << 10})
	c := dial(t, s.Addr(), Options{})
	ctx := ctxT(t, 20*time.Second)
	var got chunkBuf
	if err := c.CallStream(ctx, FetchObject, uv(1<<20+3), &got); err != nil || !bytes.Equal(got.Bytes(), patternBytes(1<<20+3)) {
		t.Fatalf("pattern through ReadChunk: %d bytes, %v", got.Len(), err)
	}
	refusing := &chunkBuf{failFrom: 200 << 10}
	if err := c.CallStream(ctx, FetchObject, uv(8<<20), refusing); err == nil || err.Error() != "store full" {
		t.Fatalf("refusing ChunkReader: %v", err)
	}
	if refusing.Len() > 200<<10 {
		t.Fatalf("fed %d bytes after refusing", refusing.Len())
	}
	if m, err := c.Call(ctx, SubmitTask, []byte("still up")); err != nil || string(m.Payload) != "still up" {
		t.Fatalf("after a refusal: %v", err)
	}
	var again chunkBuf
	if err := c.CallStream(ctx, FetchObject, uv(300<<10), &again); err != nil || !bytes.Equal(again.Bytes(), patternBytes(300<<10)) {
		t.Fatalf("stream after a refusal: %d bytes, %v", again.Len(), err)
	}
}

// A peer that stalls in the middle of a chunk does not hold a
// CallStream whose context ends, though the reader goroutine is inside
// the ChunkReader's ReadChunk.
func TestChunkReaderStalledPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		ReadFrame(nc, 0)
		h := HelloInfo{NodeID: "stalling"}
		nc.Write(AppendFrame(nil, Hello, 0, 0, h.Encode()))
		req, err := ReadFrame(nc, 0)
		if err != nil {
			nc.Close()
			return
		}
		// A chunk of 1 MiB announced, 1 KiB sent, then nothing.
		frame := AppendFrame(nil, ObjectChunk, FlagChunk, req.ID, make([]byte, 1<<20))
		nc.Write(frame[:HeaderSize+1024])
		served <- nc
	}()
	c := dial(t, ln.Addr().String(), Options{FrameTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	reading := &signalingChunks{started: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- c.CallStream(ctx, FetchObject, nil, reading) }()
	select {
	case <-reading.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the chunk never reached ReadChunk")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("CallStream: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CallStream waited for the stalled chunk")
	}
	(<-served).Close()
}

// signalingChunks is a ChunkReader that says when it starts a chunk.
type signalingChunks struct {
	bytes.Buffer
	started chan struct{}
}

func (s *signalingChunks) ReadChunk(r io.Reader, n int) error {
	s.started <- struct{}{}
	_, err := io.CopyN(io.Discard, r, int64(n))
	return err
}

// A stream reply from a ByteSource whose request is cancelled before a
// chunk goes ends at once: the sender neither waits for ever to give
// back a token it never took nor leaves its source open.
func TestByteSourceStreamEndsOnCancel(t *testing.T) {
	for range 50 {
		a, b := net.Pipe()
		l := newLink(a, nil, &Options{QueueLen: 4})
		l.shutdown(errors.New("test over"))
		b.Close()
		c := &serverConn{s: &Server{opts: Options{ChunkSize: 16}}, l: l}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.sendBytes(ctx, 1, &segSource{segs: [][]byte{patternBytes(64)}}, 64)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("sendBytes did not return after its request was cancelled")
		}
	}
}
