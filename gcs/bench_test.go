package gcs

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkWrites measures asynchronous writes from 64 concurrent writers
// into an in-memory store: writes/s, and the latency from the write call
// until its future completes.
func BenchmarkWrites(b *testing.B) {
	for _, shards := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			benchWrites(b, shards)
		})
	}
}

func benchWrites(b *testing.B, shards int) {
	s := openTest(b, func(c *Config) { c.Shards = shards })
	const writers = 64
	lat := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	take := func() int {
		next.Lock()
		defer next.Unlock()
		i++
		return i - 1
	}
	rec := sampleTask(0)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rec
			for k := take(); k < b.N; k = take() {
				r.TaskID = fmt.Sprintf("t%d", k)
				t0 := time.Now()
				if err := s.PutTask(r).Error(); err != nil {
					b.Error(err)
					return
				}
				lat[k] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(lat[b.N/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds()), "p99-µs")
}

// BenchmarkOpen measures how long an embedded store takes to lead.
func BenchmarkOpen(b *testing.B) {
	for n := 0; n < b.N; n++ {
		s, err := Open(DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
