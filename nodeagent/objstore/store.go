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

	// jobs are the bytes each job's values take in the store, in memory
	// or spilled, by job ID: what a job's memory cap (run --max-memory)
	// bounds on this node.
	jobs map[string]int64

	spills, restores atomic.Int64
	spilledBytes     atomic.Int64 // bytes spilled, ever (metrics)
}

// Owner says whose a value is: the job it counts against (its ID, "" for
// none), where the job's memory cap on each node is found (nil or 0 for
// none: asked only for a value the store keeps), and the node, for the
// error a value past the cap gets.
type Owner struct {
	Job  string
	Caps Caps
	Node string
}

// Caps are the memory caps of jobs, in bytes; 0 for none.
type Caps interface {
	CapOf(job string) int64
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
	job    string // the job it counts against (immutable)
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
	return s.AddFor(Owner{}, name, v)
}

// AddFor is Add for a value of a job: one that would take the job's
// values in the store past its cap is not kept, and fails with a
// "memory" error.
func (s *Store) AddFor(o Owner, name string, v exec.Value) (*Handle, error) {
	size := exec.EncodedSize(v)
	if size <= InlineLimit {
		return nil, nil
	}
	r := &record{name: name, job: o.Job, val: v, size: size}
	h := &Handle{store: s, rec: r}
	r.handle = weak.Make(h)
	var limit int64
	if o.Caps != nil {
		limit = o.Caps.CapOf(o.Job)
	}
	s.mu.Lock()
	held := s.jobs[o.Job]
	if limit > 0 && held+size > limit {
		s.mu.Unlock()
		return nil, capError(o.Node, limit, name, size, held)
	}
	if s.jobs == nil {
		s.jobs = map[string]int64{}
	}
	s.jobs[o.Job] = held + size
	r.elem = s.lru.PushFront(r)
	s.used += size
	err := s.makeRoomLocked(r)
	s.mu.Unlock()
	runtime.AddCleanup(h, s.free, r)
	return h, err
}

// capError is the error of a value that would take its job past its cap.
func capError(node string, limit int64, name string, size, held int64) *exec.Error {
	return exec.Errorf(exec.KindMemory, "job memory cap of %s exceeded on node %s: %s (%s) would bring the job's objects there to %s (run --max-memory)",
		bytesize.Format(limit), node, name, bytesize.Format(size), bytesize.Format(held+size))
}

// uncountLocked takes a freed value out of its job's bytes.
func (s *Store) uncountLocked(r *record) {
	if n := s.jobs[r.job] - r.size; n > 0 {
		s.jobs[r.job] = n
	} else {
		delete(s.jobs, r.job)
	}
}

// JobBytes returns the bytes each job's values take in the store, in
// memory or spilled, by job ID ("" for values of no job).
func (s *Store) JobBytes() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.jobs))
	for j, n := range s.jobs {
		out[j] = n
	}
	return out
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
	s.uncountLocked(r)
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
		s.uncountLocked(r)
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
