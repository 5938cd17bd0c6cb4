package gcs

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// BenchmarkWritesReplicas is BenchmarkWrites over the raft TCP transport
// on 127.0.0.1, with one replica and with three in this process (as in
// cluster_test.go): 64 concurrent writers, each write sent to the replica
// that leads its shard and waited for until it commits. Reports writes/s
// and the p50/p99 latency of one write.
//
//	go test ./gcs -run XXX -bench WritesReplicas -benchtime 20000x
func BenchmarkWritesReplicas(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		for _, shards := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("replicas=%d/shards=%d", replicas, shards), func(b *testing.B) {
				benchReplicaWrites(b, replicas, shards)
			})
		}
	}
}

func openReplicas(b *testing.B, n, shards int) []*Store {
	b.Helper()
	var peers []Peer
	for i := 0; i < n; i++ {
		peers = append(peers, Peer{ID: fmt.Sprintf("r%d", i), Address: freeBase(b, shards)})
	}
	var stores []*Store
	for _, p := range peers {
		cfg := ClusterConfig()
		cfg.NodeID, cfg.BindAddr, cfg.Peers, cfg.Shards = p.ID, p.Address, peers, shards
		cfg.HeartbeatTimeout = 100 * time.Millisecond
		cfg.ElectionTimeout = 100 * time.Millisecond
		cfg.LeaderLeaseTimeout = 50 * time.Millisecond
		s, err := Open(cfg)
		if err != nil {
			b.Fatalf("Open %s: %v", p.ID, err)
		}
		stores = append(stores, s)
	}
	b.Cleanup(func() {
		for _, s := range stores {
			s.Close()
		}
	})
	for _, s := range stores {
		if err := s.WaitForLeader(10 * time.Second); err != nil {
			b.Fatalf("%s: %v", s.NodeID(), err)
		}
	}
	return stores
}

// leaderFor returns the replica leading the shard of the task row key.
func leaderFor(stores []*Store, key string) *Store {
	sh := stores[0].shardOf(TableTasks, key).index
	for _, s := range stores {
		if s.shards[sh].raft.State() == raft.Leader {
			return s
		}
	}
	return stores[0]
}

func benchReplicaWrites(b *testing.B, replicas, shards int) {
	stores := openReplicas(b, replicas, shards)
	// Let the elections settle: every shard led and a first write through.
	for k := 0; k < 4*shards; k++ {
		r := sampleTask(0)
		r.TaskID = fmt.Sprintf("warm%d", k)
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := leaderFor(stores, r.TaskID).PutTask(r).ErrorTimeout(5 * time.Second)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
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
				for {
					err := leaderFor(stores, r.TaskID).PutTask(r).Error()
					if err == nil {
						break
					}
					if !errors.Is(err, ErrNotLeader) {
						b.Error(err)
						return
					}
					time.Sleep(time.Millisecond) // leadership moved: find the new leader
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
