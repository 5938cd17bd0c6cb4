package gcs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rayflow/rayflow/internal/testutil"
)

// directForwarder carries forwarded requests between the replicas of this
// process by calling their ServeForwarded: the raft traffic is real TCP,
// only the owner's transport is left out (rayflow's heads forward over
// their cluster port, tested with real processes in cmd/rayflow's
// heads_test.go).
type directForwarder struct {
	mu     sync.Mutex
	stores map[string]*Store
}

func (f *directForwarder) add(s *Store) {
	f.mu.Lock()
	f.stores[s.NodeID()] = s
	f.mu.Unlock()
	s.SetForwarder(f)
}

// Address is a made-up service address: errors must name it.
func (f *directForwarder) Address(id string) string { return "service-of-" + id }

func (f *directForwarder) Forward(_ context.Context, id string, req []byte) ([]byte, error) {
	f.mu.Lock()
	s := f.stores[id]
	f.mu.Unlock()
	if s == nil || s.checkOpen() != nil {
		return nil, fmt.Errorf("replica %s does not answer", id)
	}
	return s.ServeForwarded(req), nil
}

// newForwardingCluster is a test cluster whose replicas forward.
func newForwardingCluster(t *testing.T, n, shards int, mutate func(*Config)) (*testCluster, *directForwarder) {
	t.Helper()
	c := newTestClusterWith(t, n, shards, mutate)
	fw := &directForwarder{stores: map[string]*Store{}}
	for _, s := range c.live() {
		fw.add(s)
	}
	return c, fw
}

// notLeading returns a live replica that does not lead shard i now.
func (c *testCluster) notLeading(i int) *Store {
	c.t.Helper()
	leader := c.waitLeader(i)
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, s := range c.stores {
		if s != nil && j != leader {
			return s
		}
	}
	c.t.Fatal("no replica but the leader")
	return nil
}

// keyOn returns a key of table whose row lives on shard i.
func keyOn(s *Store, table string, i int) string {
	for k := 0; ; k++ {
		key := fmt.Sprintf("k%d", k)
		if s.shardOf(table, key).index == i {
			return key
		}
	}
}

// servers lists the voters of shard i as replica s has them.
func servers(s *Store, i int) []string {
	f := s.shards[i].raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var ids []string
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			ids = append(ids, string(srv.ID))
		}
	}
	slices.Sort(ids)
	return ids
}

// A replica that does not lead a shard takes its writes (forwarding them
// to the leader), answers each command's own error, reads what was
// acknowledged anywhere when asked to read linearizably, and refuses only
// LeaderOnly writes, naming the leader by its service address.
func TestFollowerWritesAreForwarded(t *testing.T) {
	c, _ := newForwardingCluster(t, 3, 2, nil)
	for i := 0; i < 2; i++ {
		f := c.notLeading(i)
		job := keyOn(f, TableJobs, i)
		must(t, f.PutJob(JobInfo{ID: job, Pipeline: "main"}))
		got, err := f.GetJob(job, Linearizable)
		if err != nil || got.Pipeline != "main" {
			t.Fatalf("shard %d: linearizable read on a follower after its write = %+v, %v", i, got, err)
		}
		node := keyOn(f, TableNodes, i)
		if err := f.MarkDead(node).ErrorTimeout(10 * time.Second); !errors.Is(err, ErrNotFound) {
			t.Fatalf("shard %d: forwarded MarkDead of an unknown node = %v, want ErrNotFound", i, err)
		}
		err = f.PutNode(NodeInfo{ID: node}, LeaderOnly).ErrorTimeout(10 * time.Second)
		var nle *NotLeaderError
		if !errors.As(err, &nle) {
			if f.shards[i].raft.State() == raft.Leader {
				continue // leadership moved to it meanwhile
			}
			t.Fatalf("shard %d: LeaderOnly write on a follower = %v, want *NotLeaderError", i, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "at service-of-"+nle.LeaderID) || (nle.LeaderAddr != "" && strings.Contains(msg, nle.LeaderAddr)) {
			t.Fatalf("shard %d: %q must name the leader's service address, not its raft address %s", i, msg, nle.LeaderAddr)
		}
	}
}

// Writes to a replica whose shard leader is lost wait for the new leader
// instead of failing.
func TestForwardedWritesWaitOutLeaderLoss(t *testing.T) {
	c, _ := newForwardingCluster(t, 3, 1, nil)
	leader := c.waitLeader(0)
	c.stop(leader)
	survivor := c.live()[0]
	for k := 0; k < 20; k++ {
		if err := survivor.PutJob(JobInfo{ID: fmt.Sprintf("j%d", k)}).ErrorTimeout(15 * time.Second); err != nil {
			t.Fatalf("write %d after the leader was lost: %v", k, err)
		}
	}
	c.eventually("20 jobs", func(s *Store) bool {
		jobs, _ := s.ListJobs()
		return len(jobs) == 20
	})
}

// A replica joins through one that leads none of the shards, and a lost
// replica is removed from every shard after RemoveDeadAfter: three
// replicas survive a loss, take a new one, and survive a second loss.
func TestReplicaReplacedThroughAFollower(t *testing.T) {
	quick := func(cfg *Config) {
		cfg.RemoveDeadAfter = 300 * time.Millisecond
		cfg.HeartbeatTimeout = 100 * time.Millisecond
		cfg.ElectionTimeout = 100 * time.Millisecond
		cfg.LeaderLeaseTimeout = 50 * time.Millisecond
	}
	c, fw := newForwardingCluster(t, 3, 2, quick)
	lost := c.waitLeader(0)
	lostID := c.stores[lost].NodeID()
	c.stop(lost)
	c.eventually("the lost replica removed from every shard", func(s *Store) bool {
		return slices.Equal(servers(s, 0), servers(s, 1)) && len(servers(s, 0)) == 2 && !slices.Contains(servers(s, 0), lostID)
	})

	cfg := ClusterConfig()
	quick(&cfg)
	cfg.NodeID, cfg.BindAddr, cfg.Shards, cfg.Join = "r9", freeBase(t, 2), 2, true
	joined, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { joined.Close() })
	fw.add(joined)
	via := c.notLeading(0) // a follower of shard 0 (it may lead shard 1)
	if err := via.Join("r9", cfg.BindAddr); err != nil {
		t.Fatalf("join through %s: %v", via.NodeID(), err)
	}
	if err := joined.WaitForLeader(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.stores = append(c.stores, joined)
	c.mu.Unlock()
	c.eventually("three voters on every shard, the new one among them", func(s *Store) bool {
		return len(servers(s, 0)) == 3 && len(servers(s, 1)) == 3 && slices.Contains(servers(s, 1), "r9")
	})

	second := slices.IndexFunc(c.stores, func(s *Store) bool { return s != nil && s != joined })
	secondID := c.stores[second].NodeID()
	c.stop(second)
	must(t, joined.PutJob(JobInfo{ID: "after"}))
	c.eventually("the second lost replica removed from every shard", func(s *Store) bool {
		return len(servers(s, 0)) == 2 && len(servers(s, 1)) == 2 && !slices.Contains(servers(s, 0), secondID) && !slices.Contains(servers(s, 1), secondID)
	})
	testutil.Eventually(t, 10*time.Second, "the write on every live replica", func() bool {
		for _, s := range c.live() {
			if _, err := s.GetJob("after"); err != nil {
				return false
			}
		}
		return true
	})
}

// Malformed forwarded requests are refused in the reply, and nothing of
// them reaches the log.
func TestServeForwardedRefusesMalformedRequests(t *testing.T) {
	s := openTest(t, nil)
	before := s.shards[0].raft.LastIndex()
	for _, req := range [][]byte{
		nil,
		{fwdEntry},
		{fwdEntry, 9, 0}, // no such shard
		encodeForward(fwdEntry, 0, []byte{1, 2, 3}), // not a batch
		encodeForward(fwdEntry, 0, []byte{9}),       // wrong batch version
		append(encodeForward(fwdIndex, 0), 7),       // trailing bytes
		{99, 0},                                     // unknown kind
	} {
		d, err := readReply(s.ServeForwarded(req))
		if err == nil || errors.Is(err, errMoved) {
			t.Fatalf("request %v: reply %v, %v; want a failure", req, d, err)
		}
	}
	if after := s.shards[0].raft.LastIndex(); after != before {
		t.Fatalf("malformed requests reached the log: last index %d, was %d", after, before)
	}
}
