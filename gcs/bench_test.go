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

// BenchmarkWritesDisk is BenchmarkWrites with a DataDir: every log entry
// is fsync'd by bolt.
func BenchmarkWritesDisk(b *testing.B) {
	for _, shards := range []int{1, 4} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			benchWrites(b, shards, func(c *Config) { c.DataDir = b.TempDir() })
		})
	}
}

// BenchmarkWritesPipelined issues writes without waiting, as the task path
// does, and waits for all of them at the end.
func BenchmarkWritesPipelined(b *testing.B) {
	s := openTest(b, nil)
	rec := sampleTask(0)
	fs := make([]*Future, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for k := range fs {
		rec.TaskID = fmt.Sprintf("t%d", k)
		fs[k] = s.PutTask(rec)
	}
	if err := WaitAll(fs...); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}

func benchWrites(b *testing.B, shards int, mutate ...func(*Config)) {
	s := openTest(b, func(c *Config) {
		c.Shards = shards
		for _, m := range mutate {
			m(c)
		}
	})
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
