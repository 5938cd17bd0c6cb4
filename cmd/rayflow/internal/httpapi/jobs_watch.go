package httpapi

import (
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// Watching: each head watches the jobs table (watchJobs). A job this
// head supervises whose record asks for a stop (a stop through another
// head) is stopped here.

// takeoverCheckEvery is how often a head checks the jobs table besides
// when it changes (a head's death changes the nodes table, not it).
const takeoverCheckEvery = time.Second

// watchJobs is the Server's watcher goroutine: it checks the jobs table
// when it changes and every takeoverCheckEvery, until Close.
func (s *Server) watchJobs() {
	defer s.wg.Done()
	var events <-chan gcs.Event
	if sub, err := s.store.Subscribe(gcs.TableAPIJobs, 0); err == nil {
		defer sub.Close()
		events = sub.C()
	}
	tick := time.NewTicker(takeoverCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.jobsCtx.Done():
			return
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
		case <-tick.C:
		}
		s.checkJobs()
	}
}

// checkJobs stops the jobs supervised here that were asked to stop.
func (s *Server) checkJobs() {
	all, err := s.store.ListAPIJobs()
	if err != nil {
		return
	}
	for _, r := range all {
		if r.Ended() || s.jobsCtx.Err() != nil {
			continue
		}
		if j := s.jobs.local(r.JobID); j != nil && r.StopRequested {
			s.stopLocal(j)
		}
	}
}

// stopLocal cancels a job this head supervises, once.
func (s *Server) stopLocal(j *job) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if !j.stopping {
		j.stopping = true
		j.cancel()
	}
}
