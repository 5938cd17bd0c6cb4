package gcs

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// deadRemover removes lost replicas (Config.RemoveDeadAfter).
//
// A replica that is gone for good still counts towards each shard's
// majority: with three voters and one lost, one more loss stops the GCS,
// even after a new replica joined (two of four is no majority). So the
// leader of each shard watches its heartbeats to the other voters (raft's
// failed and resumed heartbeat observations) and removes from the shard's
// configuration a voter it has not reached for RemoveDeadAfter. Removal
// needs a majority of the configuration as it was, so it happens only
// while the cluster could still work; a removed replica must join again
// (rayflow start --head --join) to be part of the GCS again.
//
// Threading: raft's goroutines send observations to obs without blocking
// (a full buffer drops them; run reads them at once, so it would take
// a thousand unread); run owns
// failing and is the only reader of obs. Removals run on goroutines of
// their own, one at a time per shard (removing).
type deadRemover struct {
	st        *Store
	after     time.Duration
	obs       chan raft.Observation
	observers []*raft.Observer
	stop      chan struct{}
	done      chan struct{}

	mu       sync.Mutex
	removing map[int]bool // shards with a removal under way
}

// startDeadRemover starts watching every shard.
func startDeadRemover(st *Store, after time.Duration) *deadRemover {
	r := &deadRemover{st: st, after: after, obs: make(chan raft.Observation, 1024),
		stop: make(chan struct{}), done: make(chan struct{}), removing: map[int]bool{}}
	for _, sh := range st.shards {
		o := raft.NewObserver(r.obs, false, func(o *raft.Observation) bool {
			switch o.Data.(type) {
			case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.LeaderObservation, raft.PeerObservation:
				return true
			}
			return false
		})
		sh.raft.RegisterObserver(o)
		r.observers = append(r.observers, o)
	}
	go r.run()
	return r
}

// close stops watching.
func (r *deadRemover) close() {
	for i, o := range r.observers {
		r.st.shards[i].raft.DeregisterObserver(o)
	}
	close(r.stop)
	<-r.done
}

// run keeps, for each shard, the voters whose heartbeats fail and since
// when they were last reached, and removes those silent for too long.
func (r *deadRemover) run() {
	defer close(r.done)
	failing := make([]map[raft.ServerID]time.Time, len(r.st.shards))
	for i := range failing {
		failing[i] = map[raft.ServerID]time.Time{}
	}
	shardOf := map[*raft.Raft]int{}
	for i, sh := range r.st.shards {
		shardOf[sh.raft] = i
	}
	tick := time.NewTicker(max(r.after/4, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case o := <-r.obs:
			i, ok := shardOf[o.Raft]
			if !ok {
				continue
			}
			switch d := o.Data.(type) {
			case raft.FailedHeartbeatObservation:
				failing[i][d.PeerID] = d.LastContact
			case raft.ResumedHeartbeatObservation:
				delete(failing[i], d.PeerID)
			case raft.PeerObservation:
				delete(failing[i], d.Peer.ID)
			case raft.LeaderObservation:
				clear(failing[i]) // a new leader counts afresh
			}
		case now := <-tick.C:
			for i, f := range failing {
				r.check(i, f, now)
			}
		}
	}
}

// check removes from shard i the voters of f not reached since before
// now-after. A peer no longer in the configuration is forgotten: raft
// goes on reporting failed heartbeats to a removed peer for a moment, and
// removing it again and again kept the removal of the next lost one
// waiting.
func (r *deadRemover) check(i int, f map[raft.ServerID]time.Time, now time.Time) {
	if len(f) == 0 || r.st.shards[i].raft.State() != raft.Leader {
		return
	}
	cf := r.st.shards[i].raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	voters := map[raft.ServerID]bool{}
	for _, srv := range cf.Configuration().Servers {
		voters[srv.ID] = srv.Suffrage == raft.Voter
	}
	for id, last := range f {
		switch {
		case !voters[id]:
			delete(f, id)
		case now.Sub(last) > r.after:
			r.remove(i, id)
		}
	}
}

// remove removes voter id from shard i if this replica leads it and no
// other removal of the shard is under way.
func (r *deadRemover) remove(i int, id raft.ServerID) {
	sh := r.st.shards[i]
	if id == sh.id || sh.raft.State() != raft.Leader {
		return
	}
	r.mu.Lock()
	if r.removing[i] {
		r.mu.Unlock()
		return
	}
	r.removing[i] = true
	r.mu.Unlock()
	go func() {
		defer func() {
			r.mu.Lock()
			delete(r.removing, i)
			r.mu.Unlock()
		}()
		r.st.waitRaft(sh.raft.RemoveServer(id, 0, r.st.cfg.ApplyTimeout))
	}()
}
