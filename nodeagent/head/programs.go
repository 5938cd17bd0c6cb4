package head

import (
	"sync"
	"time"
)

// ProgramRetention is how long a program stays in the GCS after the last
// sign that a job uses it: a driver stored it or renewed the lease of a
// job that runs it, or a node loaded it, through this head. Programs no
// job has used for that long are deleted, so that the programs table
// does not grow without end; a program that is needed again is stored
// again by its driver.
const ProgramRetention = 10 * time.Minute

// programSweepEvery is how often a head looks for programs to delete.
const programSweepEvery = time.Minute

// programUse is when this head last saw each program used. A program it
// has never seen used (stored through another head, say) counts from the
// first sweep that finds it, so no head deletes a program before every
// head has had ProgramRetention to see it used. Its own lock; any
// goroutine.
type programUse struct {
	mu        sync.Mutex
	last      map[string]time.Time
	lastSweep time.Time
}

// touch records that the programs are in use now.
func (u *programUse) touch(hashes []string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		u.last = map[string]time.Time{}
	}
	for _, h := range hashes {
		if h != "" {
			u.last[h] = now
		}
	}
}

// unused returns, of the stored programs, those not used for retention,
// starts the clock of those not seen before, and forgets the programs no
// longer stored.
func (u *programUse) unused(stored []string, now time.Time, retention time.Duration) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		u.last = map[string]time.Time{}
	}
	present := make(map[string]bool, len(stored))
	var out []string
	for _, h := range stored {
		present[h] = true
		at, ok := u.last[h]
		switch {
		case !ok:
			u.last[h] = now
		case now.Sub(at) > retention:
			out = append(out, h)
		}
	}
	for h := range u.last {
		if !present[h] {
			delete(u.last, h)
		}
	}
	return out
}

// due reports whether a sweep is due now, and if so starts it.
func (u *programUse) due(now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if now.Sub(u.lastSweep) < programSweepEvery {
		return false
	}
	u.lastSweep = now
	return true
}

// UsePrograms records that live jobs use the programs named by hashes (a
// driver renews its jobs' leases with them).
func (s *Service) UsePrograms(hashes []string) { s.programs.touch(hashes, time.Now()) }

// SweepPrograms deletes from the GCS, once a minute at most, the programs
// no job has used for ProgramRetention, and returns their hashes. The
// heartbeat loop of a head calls it.
func (s *Service) SweepPrograms(now time.Time) []string {
	if !s.programs.due(now) {
		return nil
	}
	return s.sweepPrograms(now, ProgramRetention)
}

func (s *Service) sweepPrograms(now time.Time, retention time.Duration) []string {
	stored, err := s.store.ProgramHashes()
	if err != nil {
		return nil
	}
	gone := s.programs.unused(stored, now, retention)
	for _, h := range gone {
		s.store.DeleteProgram(h) // forwarded to the shard's leader; not waited for
	}
	return gone
}

// ProgramUsedAt is when this head last saw the program used, if it has.
func (s *Service) ProgramUsedAt(hash string) (time.Time, bool) {
	s.programs.mu.Lock()
	defer s.programs.mu.Unlock()
	at, ok := s.programs.last[hash]
	return at, ok
}
