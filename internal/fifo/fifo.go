package fifo

// Map maps keys to values and holds at most a fixed number of entries:
// adding one more forgets the oldest. Entries are never replaced, so
// "oldest" is the order of first addition. The zero Map is unusable;
// make one with New.
type Map[K comparable, V any] struct {
	m     map[K]V
	ring  []K // keys in order of addition, oldest at next once full
	next  int
	limit int
	// OnEvict, when set, is called with each entry the Map forgets to
	// make room.
	OnEvict func(K, V)
}

// New makes a Map of at most limit (at least 1) entries. It allocates
// as entries arrive, so a large limit costs nothing until used.
func New[K comparable, V any](limit int) *Map[K, V] {
	return &Map[K, V]{m: map[K]V{}, limit: max(limit, 1)}
}

// Get returns the value for k.
func (f *Map[K, V]) Get(k K) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

// Has reports whether k is in the Map.
func (f *Map[K, V]) Has(k K) bool {
	_, ok := f.m[k]
	return ok
}

// Len is the number of entries.
func (f *Map[K, V]) Len() int { return len(f.m) }

// Add adds k with v unless k is there already (the first value stays),
// forgetting the oldest entry when the Map is full. It reports whether it
// added k.
func (f *Map[K, V]) Add(k K, v V) bool {
	if _, dup := f.m[k]; dup {
		return false
	}
	f.AddNew(k, v)
	return true
}

// AddNew adds k, which the caller knows is not in the Map, with v: Add
// without its lookup (on a large Map, the costly part). If k is there after
// all, its value is replaced and it is forgotten when its first addition
// is, sooner than Add would.
func (f *Map[K, V]) AddNew(k K, v V) {
	if len(f.ring) < f.limit {
		f.ring = append(f.ring, k)
	} else {
		old := f.ring[f.next]
		if f.OnEvict != nil {
			ov := f.m[old]
			delete(f.m, old)
			f.OnEvict(old, ov)
		} else {
			delete(f.m, old)
		}
		f.ring[f.next] = k
		f.next = (f.next + 1) % f.limit
	}
	f.m[k] = v
}
