package objstore

import (
	"container/list"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/bytesize"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
)

// InlineLimit is the size up to which a value is not counted by the
// store: it travels inline with its completion.
const InlineLimit = 4 << 10

// Store is one node's object store.
type Store struct {
	mu       sync.Mutex
	limit    int64
	used     int64
	lru      *list.List // of *record, most recently used at the front
	spillDir string     // created on first spill
	ownDir   bool       // spillDir is a temporary directory of ours
	baseDir  string     // data directory, "" for a temporary one

	spills, restores atomic.Int64
	spilledBytes     atomic.Int64 // bytes spilled, ever (metrics)
}

// Handle refers to a value the store counts. The value stays in the
// store (in memory or on disk) while a handle to it is reachable.
type Handle struct {
	store *Store
	rec   *record
}

// record is the store's bookkeeping of one large value. Every field is
// guarded by Store.mu.
type record struct {
	name   string // what produced it, for messages (immutable)
	handle weak.Pointer[Handle]
	val    exec.Value    // exec.None while spilled
	size   int64         // immutable
	elem   *list.Element // in the LRU while in memory
	path   string        // spill file, "" while in memory
	freed  bool
	pinned bool // cannot be encoded, so never spilled
}

// New makes a store that keeps at most limit bytes of large values in
// memory and spills the rest under dataDir/spill (a temporary directory
// when dataDir is "").
func New(limit int64, dataDir string) *Store {
	return &Store{limit: limit, lru: list.New(), baseDir: dataDir}
}

// Add counts a newly made value named name (what produced it, for error
// messages), spilling others if needed. It returns nil for a value small
// enough to travel inline, which the store does not keep; otherwise the
// value belongs to the store and is read back through the handle. It
// fails when the value cannot be kept at all.
func (s *Store) Add(name string, v exec.Value) (*Handle, error) {
	size := exec.EncodedSize(v)
	if size <= InlineLimit {
		return nil, nil
	}
	r := &record{name: name, val: v, size: size}
	h := &Handle{store: s, rec: r}
	r.handle = weak.Make(h)
	s.mu.Lock()
	r.elem = s.lru.PushFront(r)
	s.used += size
	err := s.makeRoomLocked(r)
	s.mu.Unlock()
	runtime.AddCleanup(h, s.free, r)
	return h, err
}

// free runs when a handle has been collected, on the runtime's cleanup
// goroutine, where a panic would end the process.
func (s *Store) free(r *record) {
	defer safe.Survive("the object store's cleanup", nil, nil, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.freed {
		return
	}
	r.freed = true
	r.val = exec.None
	if r.path != "" {
		os.Remove(r.path)
		return
	}
	s.used -= r.size
	s.lru.Remove(r.elem)
}

// makeRoomLocked spills least recently used values, other than keep,
// until the store is within its limit.
func (s *Store) makeRoomLocked(keep *record) error {
	for el := s.lru.Back(); el != nil && s.used > s.limit; {
		r := el.Value.(*record)
		prev := el.Prev()
		if r != keep && !r.pinned {
			if err := s.spillLocked(r); err != nil {
				return err
			}
		}
		el = prev
	}
	if s.used > s.limit && keep.size > s.limit && !keep.pinned {
		return s.spillLocked(keep)
	}
	return nil
}

// spillLocked writes a value to its spill file and drops it from memory.
// Values that cannot be encoded (they hold futures or handles) stay in
// memory, pinned, so the next victim is tried.
func (s *Store) spillLocked(r *record) error {
	if r.handle.Value() == nil { // collected; its cleanup has not run yet
		s.used -= r.size
		s.lru.Remove(r.elem)
		r.freed, r.val = true, exec.None
		return nil
	}
	data, err := exec.Encode(nil, r.val)
	if err != nil {
		r.pinned = true // holds futures or handles: it stays in memory
		return nil
	}
	if err := s.ensureDir(); err != nil {
		return s.fullError(r, err)
	}
	path := filepath.Join(s.spillDir, fmt.Sprintf("object-%d", s.spills.Add(1)))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return s.fullError(r, err)
	}
	r.path, r.val = path, exec.None
	s.spilledBytes.Add(r.size)
	s.used -= r.size
	s.lru.Remove(r.elem)
	return nil
}

func (s *Store) fullError(r *record, cause error) error {
	return exec.Errorf(exec.KindResource, "object store is full: %s (%s) does not fit in %s of object-store memory, and spilling to disk failed: %v",
		r.name, bytesize.Format(r.size), bytesize.Format(s.limit), cause)
}

func (s *Store) ensureDir() error {
	if s.spillDir != "" {
		return nil
	}
	if s.baseDir != "" {
		dir := filepath.Join(s.baseDir, "spill")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		s.spillDir = dir
		return nil
	}
	dir, err := os.MkdirTemp("", "rayflow-spill-")
	if err != nil {
		return err
	}
	s.spillDir, s.ownDir = dir, true
	return nil
}

// Load returns the value, bringing it back into memory if it was
// spilled, and marks it recently used.
func (h *Handle) Load() (exec.Value, *exec.Error) {
	s, r := h.store, h.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.path == "" {
		if !r.freed {
			s.lru.MoveToFront(r.elem)
		}
		return r.val, nil
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		return exec.None, exec.Errorf(exec.KindLost, "%s was spilled to disk and cannot be read back: %v", r.name, err)
	}
	v, err := exec.Decode(data)
	if err != nil {
		return exec.None, exec.Errorf(exec.KindLost, "%s was spilled to disk and is damaged: %v", r.name, err)
	}
	os.Remove(r.path)
	r.path, r.val = "", v
	s.restores.Add(1)
	r.elem = s.lru.PushFront(r)
	s.used += r.size
	if err := s.makeRoomLocked(r); err != nil {
		return exec.None, err.(*exec.Error)
	}
	return v, nil
}

// Size is the encoded size of the value (it never changes).
func (h *Handle) Size() int64 { return h.rec.size }

// In reports whether s is the store that keeps the value.
func (h *Handle) In(s *Store) bool { return h.store == s }

// Usage reports the bytes counted in memory, the limit, and how many
// values were spilled and restored.
func (s *Store) Usage() (used, limit, spills, restores int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used, s.limit, s.spills.Load(), s.restores.Load()
}

// SpilledBytes is how many bytes the store has spilled to disk, ever.
func (s *Store) SpilledBytes() int64 { return s.spilledBytes.Load() }

// Close removes a temporary spill directory.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ownDir {
		os.RemoveAll(s.spillDir)
	}
}

// Spilled reports whether the value is on disk now.
func (h *Handle) Spilled() bool {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return h.rec.path != ""
}
