package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/internal/testutil"
)

func TestCallReply(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, Options{NodeID: "head", Epoch: 7})
	c := dial(t, s.Addr(), Options{NodeID: "n1", Epoch: 3})
	if p := c.Peer(); p.NodeID != "head" || p.Epoch != 7 {
		t.Fatalf("server identity %+v", p)
	}
	m, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TaskDone || string(m.Payload) != "hello" {
		t.Fatalf("reply %v %q", m.Type, m.Payload)
	}
	// nil reply -> Ack; empty payload round trips.
	m, err = c.Call(ctxT(t, 5*time.Second), Heartbeat, nil)
	if err != nil || m.Type != Ack || len(m.Payload) != 0 {
		t.Fatalf("ack: %v %v", m, err)
	}
}

func TestPeerIdentityAndRefusal(t *testing.T) {
	var seen sync.Map
	s := startServer(t, newTestHandler(), Options{OnHello: func(p *Peer) error {
		seen.Store(p.NodeID, p.Epoch)
		if p.Epoch < 5 {
			return fmt.Errorf("stale epoch %d", p.Epoch)
		}
		return nil
	}})
	_, err := Dial(ctxT(t, 5*time.Second), s.Addr(), Options{NodeID: "old", Epoch: 4})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeRefused || !strings.Contains(err.Error(), "stale epoch 4") {
		t.Fatalf("stale peer: %v", err)
	}
	c := dial(t, s.Addr(), Options{NodeID: "new", Epoch: 5, Meta: []byte("m")})
	if _, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := seen.Load("new"); e != uint64(5) {
		t.Fatalf("peer epoch %v", e)
	}
}

func TestConcurrentCalls(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{})
	c := dial(t, s.Addr(), Options{})
	const n = 10000
	ctx := ctxT(t, 60*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("call-%d", i)
			m, err := c.Call(ctx, SubmitTask, []byte(want))
			if err != nil {
				errs <- err
				return
			}
			if string(m.Payload) != want {
				errs <- fmt.Errorf("call %d got %q", i, m.Payload)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestOneWayInOrder(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, Options{})
	c, err := Dial(ctxT(t, 5*time.Second), s.Addr(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for i := range n {
		if err := c.Send(Heartbeat, uv(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	c.Close() // flushes what is queued
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("the server has all %d one-way messages", n), func() bool { return h.oneway.Load() >= n })
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) != n {
		t.Fatalf("server got %d of %d one-way messages", len(h.got), n)
	}
	for i, p := range h.got {
		v := codec.NewDecoder(p).Uvarint()
		if v != uint64(i) {
			t.Fatalf("message %d carries %d: out of order", i, v)
		}
	}
}

func TestErrorReplies(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{})
	c := dial(t, s.Addr(), Options{})
	_, err := c.Call(ctxT(t, 5*time.Second), CallMethod, []byte("no such method"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeInternal || re.Message != "no such method" {
		t.Fatalf("error reply: %v", err)
	}
	_, err = c.Call(ctxT(t, 5*time.Second), CreateActor, nil)
	if !errors.As(err, &re) || !strings.Contains(re.Message, "handler panic: boom") {
		t.Fatalf("panic reply: %v", err)
	}
	// The connection still works.
	if _, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestCallTimeoutCancelsHandler(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, Options{})
	c := dial(t, s.Addr(), Options{})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, Place, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	select {
	case <-h.canceled: // the Cancel frame reached the handler
	case <-time.After(5 * time.Second):
		t.Fatal("handler was not canceled")
	}
	if _, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
}

func TestServerCloseWithCallsInFlight(t *testing.T) {
	h := newTestHandler()
	s, err := Listen("127.0.0.1:0", h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr(), Options{})
	const n = 50
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.Call(context.Background(), Place, nil)
			errs <- err
		}()
	}
	for range n {
		select {
		case <-h.started:
		case <-time.After(5 * time.Second):
			t.Fatal("handlers did not start")
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range n {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("in-flight call: want ErrClosed, got %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a call hangs after server Close")
		}
	}
	if _, err := c.Call(ctxT(t, time.Second), SubmitTask, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on dead conn: %v", err)
	}
	if _, err := Dial(ctxT(t, time.Second), s.Addr(), Options{}); err == nil {
		t.Fatal("dial to a closed server succeeded")
	}
}

func TestPoolRedial(t *testing.T) {
	h := newTestHandler()
	s, err := Listen("127.0.0.1:0", h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	p := NewPool(Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	defer p.Close()
	if _, err := p.Call(ctxT(t, 5*time.Second), addr, SubmitTask, []byte("a")); err != nil {
		t.Fatal(err)
	}
	c1, _ := p.Get(ctxT(t, time.Second), addr)
	if err := p.Send(addr, Heartbeat, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// While the server is down, calls fail (no hang) and dials back off.
	for range 3 {
		if _, err := p.Call(ctxT(t, 2*time.Second), addr, SubmitTask, nil); err == nil {
			t.Fatal("call to a stopped server succeeded")
		}
	}
	s2, err := Listen(addr, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	testutil.Eventually(t, 5*time.Second, "the pool redials the restarted server", func() bool {
		m, err := p.Call(ctxT(t, 2*time.Second), addr, SubmitTask, []byte("b"))
		if err == nil && string(m.Payload) != "b" {
			t.Fatalf("reply %q", m.Payload)
		}
		return err == nil
	})
	c2, _ := p.Get(ctxT(t, time.Second), addr)
	if c1 == c2 {
		t.Fatal("pool kept the dead connection")
	}
	p.Close()
	if _, err := p.Call(ctxT(t, time.Second), addr, SubmitTask, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on closed pool: %v", err)
	}
}

func TestBackoffBounded(t *testing.T) {
	for f, want := range map[int]time.Duration{1: 50, 2: 100, 3: 200, 10: 1000, 1000: 1000} {
		if got := backoff(50, 1000, f); got != want {
			t.Errorf("backoff(%d) = %v, want %v", f, got, want)
		}
	}
}

func TestStream100MB(t *testing.T) {
	const size = 100 << 20
	s := startServer(t, newTestHandler(), Options{})
	c := dial(t, s.Addr(), Options{})
	want := sha256.New()
	io.Copy(want, io.LimitReader(newPattern(1), size))
	got := sha256.New()
	cw := &countWriter{w: got}
	if err := c.CallStream(ctxT(t, 120*time.Second), FetchObject, uv(size), cw); err != nil {
		t.Fatal(err)
	}
	if cw.n != size {
		t.Fatalf("got %d bytes", cw.n)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("checksum mismatch")
	}
	// Other calls share the connection afterwards.
	if _, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

func TestStreamEdgeCases(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{ChunkSize: 64 << 10})
	c := dial(t, s.Addr(), Options{})
	ctx := ctxT(t, 10*time.Second)
	for _, size := range []uint64{0, 1, 64 << 10, 64<<10 + 1, 3 << 20} {
		var buf bytes.Buffer
		if err := c.CallStream(ctx, FetchObject, uv(size), &buf); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		want, _ := io.ReadAll(io.LimitReader(newPattern(1), int64(size)))
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("size %d: wrong bytes (%d)", size, buf.Len())
		}
		// Call assembles a stream reply.
		m, err := c.Call(ctx, FetchObject, uv(size))
		if err != nil || !bytes.Equal(m.Payload, want) {
			t.Fatalf("Call of stream size %d: %v", size, err)
		}
	}
	// A reader shorter than its declared size is an error.
	err := c.CallStream(ctx, GCSRequest, nil, io.Discard)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeStream {
		t.Fatalf("short stream: %v", err)
	}
	// A plain reply to CallStream is written to w.
	var buf bytes.Buffer
	if err := c.CallStream(ctx, SubmitTask, []byte("plain"), &buf); err != nil || buf.String() != "plain" {
		t.Fatalf("plain reply to CallStream: %q %v", buf.String(), err)
	}
	// A writer that fails ends the stream; the connection stays usable.
	if err := c.CallStream(ctx, FetchObject, uv(8<<20), failWriter{}); err == nil {
		t.Fatal("failing writer: no error")
	}
	if _, err := c.Call(ctx, SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
	// Call refuses to assemble a stream larger than its MaxFrameSize.
	small := dial(t, s.Addr(), Options{MaxFrameSize: 1 << 20})
	if _, err := small.Call(ctx, FetchObject, uv(4<<20)); err == nil || !strings.Contains(err.Error(), "use CallStream") {
		t.Fatalf("oversized assembled stream: %v", err)
	}
	if _, err := small.Call(ctx, SubmitTask, nil); err != nil {
		t.Fatal(err)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestPush(t *testing.T) {
	peers := make(chan *Peer, 1)
	h := HandlerFunc(func(ctx context.Context, p *Peer, m *Message) (*Message, error) {
		peers <- p
		return nil, nil
	})
	s := startServer(t, h, Options{})
	got := make(chan string, 10)
	c := dial(t, s.Addr(), Options{NodeID: "n2", OnPush: func(m *Message) { got <- string(m.Payload) }})
	if _, err := c.Call(ctxT(t, 5*time.Second), GCSRequest, nil); err != nil {
		t.Fatal(err)
	}
	p := <-peers
	if p.NodeID != "n2" {
		t.Fatalf("peer %+v", p)
	}
	for _, s := range []string{"a", "b", "c"} {
		if err := p.Send(Heartbeat, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"a", "b", "c"} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("push %q, want %q", s, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no push")
		}
	}
}

func TestListenDefaultsToLoopback(t *testing.T) {
	s, err := Listen(":0", newTestHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("bound %s", s.Addr())
	}
}
