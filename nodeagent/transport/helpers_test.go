package transport

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
)

// testHandler serves the test protocol:
//
//	SubmitTask  -> TaskDone echoing the payload
//	CallMethod  -> an error with the payload as message
//	CreateActor -> panics
//	Place       -> blocks until ctx ends, then reports it on canceled
//	FetchObject -> a stream of uvarint(size) pseudo-random bytes (seed 1)
//	GCSRequest  -> a stream whose reader ends early
//	Heartbeat (one-way) -> appended to got
type testHandler struct {
	mu       sync.Mutex
	got      [][]byte
	oneway   atomic.Int64
	canceled chan struct{}
	started  chan struct{}
}

func newTestHandler() *testHandler {
	return &testHandler{canceled: make(chan struct{}, 1024), started: make(chan struct{}, 1024)}
}

func (h *testHandler) Serve(ctx context.Context, peer *Peer, req *Message) (*Message, error) {
	switch req.Type {
	case SubmitTask:
		return &Message{Type: TaskDone, Payload: req.Payload}, nil
	case CallMethod:
		return nil, errors.New(string(req.Payload))
	case CreateActor:
		panic("boom")
	case Place:
		h.started <- struct{}{}
		<-ctx.Done()
		h.canceled <- struct{}{}
		return nil, ctx.Err()
	case FetchObject:
		d := codec.NewDecoder(req.Payload)
		size := d.Uvarint()
		if err := d.Err(); err != nil {
			return nil, err
		}
		return NewStreamReply(io.LimitReader(newPattern(1), int64(size)), int64(size)), nil
	case GCSRequest:
		return NewStreamReply(io.LimitReader(newPattern(1), 3<<20), 5<<20), nil
	case Heartbeat:
		if req.ID == 0 {
			h.oneway.Add(1)
			if len(req.Payload) > 0 {
				h.mu.Lock()
				h.got = append(h.got, req.Payload)
				h.mu.Unlock()
			}
		}
		return nil, nil
	}
	return nil, nil
}

// pattern is a fast deterministic byte source (xorshift64).
type pattern struct{ s uint64 }

func newPattern(seed uint64) *pattern { return &pattern{s: seed*0x9E3779B97F4A7C15 + 1} }

func (p *pattern) Read(b []byte) (int, error) {
	s := p.s
	i := 0
	for ; i+8 <= len(b); i += 8 {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		b[i], b[i+1], b[i+2], b[i+3] = byte(s), byte(s>>8), byte(s>>16), byte(s>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(s>>32), byte(s>>40), byte(s>>48), byte(s>>56)
	}
	for ; i < len(b); i++ {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		b[i] = byte(s)
	}
	p.s = s
	return len(b), nil
}

func startServer(t testing.TB, h Handler, opts Options) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", h, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t testing.TB, addr string, opts Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func uv(v uint64) []byte {
	var e codec.Encoder
	e.Uvarint(v)
	return e.Bytes()
}
