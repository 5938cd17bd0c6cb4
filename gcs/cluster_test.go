package gcs

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rayflow/rayflow/internal/testutil"
)

// testCluster is three replicas in this process, talking raft over TCP on
// 127.0.0.1.
type testCluster struct {
	t      *testing.T
	mu     sync.Mutex
	stores []*Store // nil once stopped
}

func newTestCluster(t *testing.T, n, shards int) *testCluster {
	t.Helper()
	return newTestClusterWith(t, n, shards, nil)
}

// newTestClusterWith is newTestCluster with each replica's configuration
// adjusted by mutate.
func newTestClusterWith(t *testing.T, n, shards int, mutate func(*Config)) *testCluster {
	t.Helper()
	var peers []Peer
	for i := 0; i < n; i++ {
		peers = append(peers, Peer{ID: fmt.Sprintf("r%d", i), Address: freeBase(t, shards)})
	}
	c := &testCluster{t: t}
	for _, p := range peers {
		cfg := ClusterConfig()
		cfg.NodeID, cfg.BindAddr, cfg.Peers, cfg.Shards = p.ID, p.Address, peers, shards
		cfg.HeartbeatTimeout = 100 * time.Millisecond
		cfg.ElectionTimeout = 100 * time.Millisecond
		cfg.LeaderLeaseTimeout = 50 * time.Millisecond
		if mutate != nil {
			mutate(&cfg)
		}
		s, err := Open(cfg)
		if err != nil {
			t.Fatalf("Open %s: %v", p.ID, err)
		}
		c.stores = append(c.stores, s)
	}
	t.Cleanup(c.closeAll)
	for _, s := range c.stores {
		if err := s.WaitForLeader(10 * time.Second); err != nil {
			t.Fatalf("%s: %v", s.NodeID(), err)
		}
	}
	return c
}

func (c *testCluster) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.stores {
		if s != nil {
			s.Close()
			c.stores[i] = nil
		}
	}
}

// stop closes replica i.
func (c *testCluster) stop(i int) {
	c.mu.Lock()
	s := c.stores[i]
	c.stores[i] = nil
	c.mu.Unlock()
	if err := s.Close(); err != nil {
		c.t.Errorf("Close %s: %v", s.NodeID(), err)
	}
}

func (c *testCluster) live() []*Store {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Store
	for _, s := range c.stores {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// leaderOf returns the index of the replica leading shard, or -1.
func (c *testCluster) leaderOf(shard int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.stores {
		if s != nil && s.shards[shard].raft.State() == raft.Leader {
			return i
		}
	}
	return -1
}

// waitLeader waits until some replica leads shard and returns its index.
func (c *testCluster) waitLeader(shard int) int {
	c.t.Helper()
	leader := -1
	testutil.Eventually(c.t, 10*time.Second, fmt.Sprintf("a leader of shard %d", shard), func() bool {
		leader = c.leaderOf(shard)
		return leader >= 0
	})
	return leader
}

// write runs op against whichever replica leads the row's shard, retrying
// through elections, and returns once a replica acknowledged it.
func (c *testCluster) write(table, key string, op func(*Store) *Future) error {
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		live := c.live()
		if len(live) == 0 {
			return ErrClosed
		}
		sh := live[0].shardOf(table, key).index
		if i := c.leaderOf(sh); i >= 0 {
			c.mu.Lock()
			s := c.stores[i]
			c.mu.Unlock()
			if s != nil {
				if last = op(s).ErrorTimeout(5 * time.Second); last == nil {
					return nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("write %s/%s: gave up: %v", table, key, last)
}

// eventually polls cond on every live replica until it holds.
func (c *testCluster) eventually(what string, cond func(*Store) bool) {
	c.t.Helper()
	testutil.Eventually(c.t, 10*time.Second, what+" on every live replica", func() bool {
		for _, s := range c.live() {
			if !cond(s) {
				return false
			}
		}
		return true
	})
}

func TestClusterReplicates(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("n%02d", i)
		if err := c.write(TableNodes, id, func(s *Store) *Future { return s.PutNode(NodeInfo{ID: id, State: NodeAlive}) }); err != nil {
			t.Fatal(err)
		}
	}
	c.eventually("50 nodes everywhere", func(s *Store) bool {
		nodes, _ := s.ListNodes()
		return len(nodes) == 50
	})

	// A write on a follower names the leader.
	follower, nle := c.followerWrite(t)
	var leader *Store
	for _, s := range c.live() {
		if s.NodeID() == nle.LeaderID {
			leader = s
		}
	}
	if leader == nil || nle.LeaderAddr != leader.cfg.BindAddr {
		t.Fatalf("NotLeaderError = %+v names no replica's ID and base address", nle)
	}
	if _, err := follower.GetJob("j", Linearizable); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("linearizable read on a follower = %v, want ErrNotLeader", err)
	}
	servers, err := follower.Servers()
	if err != nil || len(servers) != 3 {
		t.Fatalf("Servers = %v, %v", servers, err)
	}
}

// followerWrite writes through a replica that does not lead the row's
// shard and returns it and the error, retrying if leadership moved.
func (c *testCluster) followerWrite(t *testing.T) (*Store, *NotLeaderError) {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		live := c.live()
		leader := c.waitLeader(live[0].shardOf(TableJobs, "j").index)
		follower := live[(leader+1)%len(live)]
		err := follower.PutJob(JobInfo{ID: "j"}).Error()
		var nle *NotLeaderError
		if errors.As(err, &nle) && errors.Is(err, ErrNotLeader) && nle.LeaderID != "" {
			return follower, nle
		}
		if err != nil && !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower write = %v, want *NotLeaderError", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("never caught a follower")
	return nil, nil
}

// TestClusterFailover stops the leader of shard 0 while writes stream in
// and checks that every acknowledged write survives on the new leaders.
func TestClusterFailover(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	var (
		mu    sync.Mutex
		acked []string
	)
	stopWriters := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopWriters:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%05d", w, i)
				if err := c.write(TableJobs, id, func(s *Store) *Future { return s.PutJob(JobInfo{ID: id, State: "ok"}) }); err != nil {
					t.Errorf("write %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitAcked(t, ackedCount, 200)
	old := c.waitLeader(0)
	t.Logf("stopping %s, leader of shard 0, after %d acked writes", c.stores[old].NodeID(), ackedCount())
	c.stop(old)
	n := ackedCount()
	waitAcked(t, ackedCount, n+200)
	close(stopWriters)
	wg.Wait()
	if i := c.waitLeader(0); i == old {
		t.Fatalf("shard 0 leader after failover = %d (old %d)", i, old)
	}

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d acknowledged writes", len(acked))
	for _, s := range c.live() {
		if s.shards[0].raft.State() == raft.Leader {
			if err := s.shards[0].raft.Barrier(5 * time.Second).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.eventually("every acknowledged write present", func(s *Store) bool {
		for _, id := range acked {
			if _, err := s.GetJob(id); err != nil {
				return false
			}
		}
		return true
	})
}

func waitAcked(t *testing.T, count func() int, n int) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, fmt.Sprintf("%d writes acknowledged", n), func() bool { return count() >= n })
}

// TestClusterJoin starts one replica, then adds a second with Join.
func TestClusterJoin(t *testing.T) {
	base1, base2 := freeBase(t, 2), freeBase(t, 2)
	cfg := ClusterConfig()
	cfg.NodeID, cfg.BindAddr, cfg.Shards = "a", base1, 2
	cfg.LeaderWaitTimeout = 5 * time.Second
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 25*time.Millisecond
	a, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must(t, a.PutNode(NodeInfo{ID: "n1"}))

	cfg.NodeID, cfg.BindAddr, cfg.Join, cfg.LeaderWaitTimeout = "b", base2, true, 0
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Join("b", base2); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if err := b.WaitForLeader(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "n1 on the joined replica", func() bool {
		_, err := b.GetNode("n1")
		return err == nil
	})
	servers, _ := a.Servers()
	if len(servers) != 2 {
		t.Fatalf("Servers = %v, want 2", servers)
	}
}

// TestCloseWithoutQuorum checks that Close returns even when raft can never
// answer the writes in flight.
func TestCloseWithoutQuorum(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	leader := c.waitLeader(0)
	s := c.stores[leader]
	s.cfg.CloseTimeout = 200 * time.Millisecond
	for i := range c.stores {
		if i != leader {
			c.stop(i)
		}
	}
	f := s.PutNode(NodeInfo{ID: "n1"})
	start := time.Now()
	c.stop(leader)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s", d)
	}
	if err := f.ErrorTimeout(5 * time.Second); err == nil {
		t.Fatal("write without a quorum succeeded")
	}
}
