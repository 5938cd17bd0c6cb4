package fifo

import (
	"hash/maphash"
	"math/bits"
)

// StringSet is a set of strings bounded by a count that forgets its
// oldest keys first, as a Map does, holding each key as its 64-bit hash
// (maphash, seeded per set) in a table of its own rather than the string
// in a Go map: about 19 bytes a key when full instead of about 88 for a
// Map[string, struct{}] and the key strings it keeps alive. A set of
// 65,536 task IDs (the lineage stash's committed keys) thus takes some
// 1.2 MB instead of 5.7, which a long job filled on every node while the
// soak measured it (issue 15).
//
// Two different keys share a hash with probability 2^-64 per pair, so Has
// may, that rarely, answer true for a key never added: use it only where
// such an answer costs no more than a missed optimisation or an error
// that says what is missing, never a wrong result.
//
// Like a Map, a StringSet is not safe for concurrent use; the zero
// StringSet is unusable: make one with NewStringSet.
type StringSet struct {
	seed  maphash.Seed
	limit int
	ring  []uint64 // hashes in order of addition, oldest at next once full
	next  int
	// table holds the hashes by linear probing, 0 for a free slot (a hash
	// of 0 is taken as 1), at most three quarters full.
	table []uint64
	n     int
}

// NewStringSet makes a set of at most limit (at least 1) keys. It
// allocates as keys arrive.
func NewStringSet(limit int) *StringSet {
	return &StringSet{seed: maphash.MakeSeed(), limit: max(limit, 1)}
}

func (s *StringSet) hash(k string) uint64 {
	if h := maphash.String(s.seed, k); h != 0 {
		return h
	}
	return 1
}

// home is the slot where probing for h starts.
func (s *StringSet) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.table)))
	return int(hi)
}

// find returns h's slot, or the free slot where it would go.
func (s *StringSet) find(h uint64) (int, bool) {
	if len(s.table) == 0 {
		return 0, false
	}
	for i := s.home(h); ; i = s.wrap(i + 1) {
		switch s.table[i] {
		case 0:
			return i, false
		case h:
			return i, true
		}
	}
}

func (s *StringSet) wrap(i int) int {
	if i == len(s.table) {
		return 0
	}
	return i
}

// Has reports whether k is in the set.
func (s *StringSet) Has(k string) bool {
	_, ok := s.find(s.hash(k))
	return ok
}

// Add adds k unless it is there already, forgetting the oldest key when
// the set is full. It reports whether it added k.
func (s *StringSet) Add(k string) bool {
	h := s.hash(k)
	if _, ok := s.find(h); ok {
		return false
	}
	if len(s.ring) < s.limit {
		s.ring = append(s.ring, h)
	} else {
		s.remove(s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % s.limit
	}
	s.insert(h)
	return true
}

// Len is the number of keys.
func (s *StringSet) Len() int { return s.n }

// insert puts h, which is not in the table, into it, growing the table
// first when it would be more than three quarters full.
func (s *StringSet) insert(h uint64) {
	if (s.n+1)*4 > len(s.table)*3 {
		s.grow()
	}
	i, _ := s.find(h)
	s.table[i] = h
	s.n++
}

// grow doubles the table, up to the size that holds limit keys three
// quarters full, and puts the hashes back.
func (s *StringSet) grow() {
	size := min(max(2*len(s.table), 16), s.limit*4/3+2)
	old := s.table
	s.table = make([]uint64, size)
	for _, h := range old {
		if h != 0 {
			i, _ := s.find(h)
			s.table[i] = h
		}
	}
}

// remove takes h out of the table (nothing when it is not there),
// shifting back the hashes probed past its slot.
func (s *StringSet) remove(h uint64) {
	i, ok := s.find(h)
	if !ok {
		return
	}
	for j := s.wrap(i + 1); s.table[j] != 0; j = s.wrap(j + 1) {
		k := s.home(s.table[j])
		// The hash at j stays when its home is cyclically in (i, j].
		if (i < j && i < k && k <= j) || (i > j && (k > i || k <= j)) {
			continue
		}
		s.table[i] = s.table[j]
		i = j
	}
	s.table[i] = 0
	s.n--
}
