package stash

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAddForward is the task path of a node: record a task (child of
// the previous one) and build the bundle forwarded with it, against a GCS
// that commits at once (fast) or after 50 ms (slow, lineage accumulates).
func BenchmarkAddForward(b *testing.B) {
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("gcs=%v", delay), func(b *testing.B) {
			s := New(newFakeStore(delay), Config{Node: "n1"})
			defer s.Close()
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = fmt.Sprintf("j.1.%d", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			prev := ""
			for i := 0; i < b.N; i++ {
				r := rec(ids[i], prev)
				if err := s.Add(r); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Forward(ids[i], "n2"); err != nil {
					b.Fatal(err)
				}
				prev = ids[i]
			}
		})
	}
}

// BenchmarkBundleEncodeDecode is the wire cost of a bundle of 8 records.
func BenchmarkBundleEncodeDecode(b *testing.B) {
	var bu Bundle
	for i := range 8 {
		bu.Records = append(bu.Records, RecordEntry{Record: rec(fmt.Sprintf("j.1.%d", i), "j.1"), Hops: i})
	}
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = bu.AppendEncode(buf[:0])
		if _, err := DecodeBundle(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkFlusherThroughput adds b.N entries and waits until the flusher
// has committed them all, with a GCS that commits each batch after delay.
func BenchmarkFlusherThroughput(b *testing.B) {
	for _, delay := range []time.Duration{0, time.Millisecond, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("gcs=%v", delay), func(b *testing.B) {
			st := newFakeStore(delay)
			s := New(st, Config{})
			defer s.Close()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := s.Add(rec(fmt.Sprintf("j.%d", i), "")); err != nil {
					b.Fatal(err)
				}
			}
			for s.Stats().Uncommitted > 0 {
				time.Sleep(100 * time.Microsecond)
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
			b.ReportMetric(float64(len(st.batches())), "batches")
		})
	}
}

// BenchmarkFlushGCS writes b.N records to the real in-memory GCS through the
// stash.
func BenchmarkFlushGCS(b *testing.B) {
	g, err := openGCSB()
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	s := New(GCS(g), Config{})
	defer s.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.Add(rec(fmt.Sprintf("j.%d", i), "")); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}
