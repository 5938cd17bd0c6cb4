package gcs

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenLeadsQuickly(t *testing.T) {
	start := time.Now()
	s := openTest(t, nil)
	t.Logf("4 shards led after %s", time.Since(start))
	if !s.IsLeader() {
		t.Fatal("single replica does not lead every shard")
	}
	for i := 0; i < s.Shards(); i++ {
		if id, _ := s.Leader(i); id != "gcs" {
			t.Errorf("shard %d leader = %q, want gcs", i, id)
		}
	}
}

func TestNodes(t *testing.T) {
	s := openTest(t, nil)
	n := NodeInfo{
		ID: "n1", Address: "127.0.0.1:7001", State: NodeAlive, Epoch: 3,
		ResourcesTotal:     map[string]float64{"CPU": 4, "GPU": 1},
		ResourcesAvailable: map[string]float64{"CPU": 2.5},
		LastHeartbeat:      time.Now().UnixNano(), QueueLen: 7,
		Labels: map[string]string{"zone": "a"},
	}
	must(t, s.PutNode(n))
	must(t, s.PutNode(NodeInfo{ID: "n0", State: NodeAlive}))
	got, err := s.GetNode("n1")
	if err != nil || !reflect.DeepEqual(got, n) {
		t.Fatalf("GetNode = %+v, %v; want %+v", got, err, n)
	}
	must(t, s.MarkDead("n1"))
	got, _ = s.GetNode("n1", Linearizable)
	if got.State != NodeDead || got.Epoch != 3 || got.QueueLen != 7 {
		t.Fatalf("after MarkDead: %+v", got)
	}
	list, err := s.ListNodes()
	if err != nil || len(list) != 2 || list[0].ID != "n0" || list[1].ID != "n1" {
		t.Fatalf("ListNodes = %+v, %v", list, err)
	}
	if err := s.MarkDead("nope").Error(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkDead unknown = %v, want ErrNotFound", err)
	}
	if _, err := s.GetNode("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetNode unknown = %v, want ErrNotFound", err)
	}
	if err := s.PutNode(NodeInfo{}).Error(); err == nil {
		t.Fatal("PutNode with empty ID succeeded")
	}
}

func TestJobsAndPrograms(t *testing.T) {
	s := openTest(t, nil)
	src := []byte("pipeline main { }")
	hash, f := s.PutProgram(src)
	must(t, f)
	if hash != ProgramHash(src) || len(hash) != 64 {
		t.Fatalf("hash = %q", hash)
	}
	hash2, f2 := s.PutProgram(src)
	if hash2 != hash {
		t.Fatal("same source, different hash")
	}
	select {
	case <-f2.done:
	default:
		t.Fatal("second PutProgram of the same source made a write")
	}
	got, err := s.GetProgram(hash)
	if err != nil || string(got) != string(src) {
		t.Fatalf("GetProgram = %q, %v", got, err)
	}
	j := JobInfo{ID: "j1", ProgramHash: hash, Pipeline: "main", State: "running", Submitted: 5}
	must(t, s.PutJob(j))
	j.State, j.Finished, j.Error = "failed", 9, "boom"
	must(t, s.PutJob(j))
	gj, err := s.GetJob("j1")
	if err != nil || !reflect.DeepEqual(gj, j) {
		t.Fatalf("GetJob = %+v, %v", gj, err)
	}
	jobs, _ := s.ListJobs(Linearizable)
	if len(jobs) != 1 {
		t.Fatalf("ListJobs = %+v", jobs)
	}
	must(t, s.Delete(TableJobs, "j1"))
	if _, err := s.GetJob("j1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

func sampleTask(i int) TaskRecord {
	return TaskRecord{
		TaskID: fmt.Sprintf("t%04d", i), JobID: "j1", ParentID: "driver", Seq: uint64(i),
		Function: "f", Args: []TaskArg{{ObjectID: "o1"}, {Inline: []byte{1, 2, 3}}},
		Resources: map[string]float64{"CPU": 1}, Retries: 2, Deterministic: i%2 == 0,
		OwnerNode: "n1", Outcome: []byte("w"), State: "submitted",
	}
}

func TestTasks(t *testing.T) {
	s := openTest(t, nil)
	must(t, s.PutTask(sampleTask(0)))
	var batch []TaskRecord
	for i := 1; i <= 300; i++ {
		batch = append(batch, sampleTask(i))
	}
	must(t, s.PutTasks(batch))
	for _, i := range []int{0, 1, 150, 300} {
		got, err := s.GetTask(fmt.Sprintf("t%04d", i))
		if err != nil || !reflect.DeepEqual(got, sampleTask(i)) {
			t.Fatalf("GetTask(%d) = %+v, %v", i, got, err)
		}
	}
	must(t, s.PutTasks(nil))
}

func TestObjects(t *testing.T) {
	s := openTest(t, nil)
	must(t, s.AddLocation("o1", "n1", 100))
	must(t, s.AddLocation("o1", "n2", 0))
	must(t, s.AddLocation("o1", "n2", 0))
	for i := 0; i < 20; i++ {
		s.AddLocation(fmt.Sprintf("x%d", i), "n2", 1)
	}
	must(t, s.AddLocation("o2", "n2", 5))
	o, err := s.GetObject("o1")
	if err != nil || o.Size != 100 || !reflect.DeepEqual(o.Locations, []string{"n1", "n2"}) {
		t.Fatalf("GetObject = %+v, %v", o, err)
	}
	must(t, s.RemoveLocation("o1", "n1"))
	must(t, s.RemoveLocation("missing", "n1"))
	must(t, s.RemoveNodeEverywhere("n2"))
	for _, id := range []string{"o1", "o2", "x7"} {
		o, err := s.GetObject(id)
		if err != nil || len(o.Locations) != 0 {
			t.Fatalf("%s after RemoveNodeEverywhere: %+v, %v", id, o, err)
		}
	}
}

func TestActors(t *testing.T) {
	s := openTest(t, nil)
	a := ActorInfo{ID: "a1", JobID: "j1", Class: "Counter", Node: "n1", State: "alive", Restarts: 1, MaxRestarts: 3, CallLogPos: 42, Checkpoint: "o9"}
	must(t, s.PutActor(a))
	got, err := s.GetActor("a1")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetActor = %+v, %v", got, err)
	}
	list, _ := s.ListActors()
	if len(list) != 1 || list[0].ID != "a1" {
		t.Fatalf("ListActors = %+v", list)
	}
}

// TestBatching checks that many concurrent small writes share log entries.
func TestBatching(t *testing.T) {
	s := openTest(t, func(c *Config) { c.Shards = 1 })
	before := s.shards[0].raft.LastIndex()
	const n = 2000
	futures := make([]*Future, n)
	for i := range futures {
		futures[i] = s.PutNode(NodeInfo{ID: fmt.Sprintf("n%d", i)})
	}
	if err := WaitAll(futures...); err != nil {
		t.Fatal(err)
	}
	entries := s.shards[0].raft.LastIndex() - before
	t.Logf("%d writes in %d log entries", n, entries)
	if entries >= n/4 {
		t.Fatalf("%d writes took %d log entries; batching is not working", n, entries)
	}
	nodes, _ := s.ListNodes()
	if len(nodes) != n {
		t.Fatalf("ListNodes has %d rows, want %d", len(nodes), n)
	}
}

func TestConcurrentWriters(t *testing.T) {
	s := openTest(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := s.AddLocation(fmt.Sprintf("o%d", i), fmt.Sprintf("n%d", w), 1).Error(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	o, _ := s.GetObject("o17")
	if len(o.Locations) != 8 {
		t.Fatalf("o17 has %d locations, want 8", len(o.Locations))
	}
}

func TestSubscribe(t *testing.T) {
	s := openTest(t, nil)
	nodes, err := s.Subscribe(TableNodes, 16)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.Subscribe("", 16)
	if _, err := s.Subscribe("bogus", 1); err == nil {
		t.Fatal("Subscribe to an unknown table succeeded")
	}
	must(t, s.PutNode(NodeInfo{ID: "n1", State: NodeAlive}))
	must(t, s.PutJob(JobInfo{ID: "j1"}))
	must(t, s.MarkDead("n1"))
	must(t, s.Delete(TableNodes, "n1"))

	want := []string{"nodes/n1 put alive", "nodes/n1 put dead", "nodes/n1 delete "}
	for i, w := range want {
		ev := recv(t, nodes)
		state := ""
		if n, ok := ev.Value.(NodeInfo); ok {
			state = n.State
		}
		if got := fmt.Sprintf("%s/%s %s %s", ev.Table, ev.Key, ev.Op, state); got != w {
			t.Fatalf("event %d = %q, want %q", i, got, w)
		}
	}
	tables := map[string]int{}
	for i := 0; i < 4; i++ {
		tables[recv(t, all).Table]++
	}
	if tables[TableNodes] != 3 || tables[TableJobs] != 1 {
		t.Fatalf("all-table subscription saw %v", tables)
	}
	nodes.Close()
	nodes.Close()
	if _, ok := <-nodes.C(); ok {
		t.Fatal("closed subscription still delivers")
	}
}

func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev := <-s.C():
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

// TestSlowSubscriberDropsOldest checks that a full subscription never
// blocks writes and keeps the newest events.
func TestSlowSubscriberDropsOldest(t *testing.T) {
	s := openTest(t, func(c *Config) { c.Shards = 1 })
	sub, _ := s.Subscribe(TableJobs, 4)
	var fs []*Future
	for i := 0; i < 100; i++ {
		fs = append(fs, s.PutJob(JobInfo{ID: fmt.Sprintf("j%03d", i)}))
	}
	if err := WaitAll(fs...); err != nil {
		t.Fatal(err)
	}
	if sub.Dropped() != 96 {
		t.Fatalf("Dropped = %d, want 96", sub.Dropped())
	}
	if ev := recv(t, sub); ev.Key != "j096" {
		t.Fatalf("oldest kept event = %s, want j096", ev.Key)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		s, err := Open(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		sub, _ := s.Subscribe("", 1)
		var fs []*Future
		for j := 0; j < 500; j++ {
			fs = append(fs, s.PutTask(sampleTask(j)))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if err := f.ErrorTimeout(5 * time.Second); err != nil && !errors.Is(err, ErrClosed) {
				t.Fatalf("write during Close: %v", err)
			}
		}
		if _, ok := <-sub.C(); ok {
			// drain what was delivered before Close
			for range sub.C() {
			}
		}
		if err := s.PutNode(NodeInfo{ID: "x"}).Error(); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after Close = %v, want ErrClosed", err)
		}
		if _, err := s.GetNode("x"); !errors.Is(err, ErrClosed) {
			t.Fatalf("read after Close = %v, want ErrClosed", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	checkGoroutines(t, before)
}

func TestValidate(t *testing.T) {
	cases := []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.NodeID = "" }, "NodeID cannot be empty"},
		{func(c *Config) { c.Shards = 0 }, "Shards must be between"},
		{func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout / 2 }, "ElectionTimeout"},
		{func(c *Config) { c.LeaderLeaseTimeout = time.Second }, "LeaderLeaseTimeout"},
		{func(c *Config) { c.BatchMaxItems = 0 }, "BatchMaxItems"},
		{func(c *Config) { c.Peers = []Peer{{ID: "a", Address: "127.0.0.1:1"}} }, "need BindAddr"},
		{func(c *Config) { c.BindAddr = "nope" }, "not host:port"},
		{func(c *Config) { c.BindAddr = "127.0.0.1:0" }, "needs a port"},
		{func(c *Config) { c.BindAddr = "127.0.0.1:65534" }, "needs a port"},
		{func(c *Config) {
			c.BindAddr = "127.0.0.1:7000"
			c.Peers = []Peer{{ID: "other", Address: "127.0.0.1:8000"}}
		}, "must include"},
		{func(c *Config) {
			c.BindAddr = "127.0.0.1:7000"
			c.Peers = []Peer{{ID: "gcs", Address: "127.0.0.1:7000"}, {ID: "gcs", Address: "127.0.0.1:8000"}}
		}, "twice"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want it to mention %q", err, c.want)
		}
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	cfg = ClusterConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("ClusterConfig invalid: %v", err)
	}
}

func TestOpenPortInUse(t *testing.T) {
	base := freeBase(t, 2)
	cfg := DefaultConfig()
	cfg.BindAddr, cfg.Shards = base, 2
	a, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	before := runtime.NumGoroutine()
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("second Open on the same ports = %v, want a listen error", err)
	}
	checkGoroutines(t, before)
	must(t, a.PutNode(NodeInfo{ID: "n1"}))
}

// The adaptive planner's statistics are stored per key and replaced.
func TestStats(t *testing.T) {
	s := openTest(t, nil)
	if _, err := s.GetStats("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stats before any: %v", err)
	}
	must(t, s.PutStats("p1", []byte("a")))
	must(t, s.PutStats("p1", []byte("b")))
	got, err := s.GetStats("p1")
	if err != nil || string(got) != "b" {
		t.Fatalf("stats %q, %v; want b", got, err)
	}
	if err := s.PutStats("", []byte("x")).Error(); err == nil {
		t.Fatal("stats with an empty key were accepted")
	}
}
