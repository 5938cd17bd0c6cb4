package nodeagent

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
)

// The object store's accounting.
//
// Values live in memory as Go values. The store keeps track of the large
// ones (over InlineLimit bytes; small results travel with their
// completion and are not counted) and their total size. When the total
// passes the memory limit, the least recently used large objects are
// encoded to files under the spill directory and dropped from memory;
// reading one brings it back. An object no future refers to any more is
// freed by the Go collector; a cleanup then takes it out of the
// accounting and deletes its spill file. That is the store's reference
// counting: the references are the futures themselves.

// InlineLimit is the size up to which a result is not counted by the
// store.
const InlineLimit = 4 << 10

// objectStore is one node's object store accounting.
type objectStore struct {
	mu       sync.Mutex
	limit    int64
	used     int64
	lru      *list.List // of *storeEntry, most recently used at the front
	spillDir string     // created on first spill
	ownDir   bool       // spillDir is a temporary directory of ours
	baseDir  string     // data directory, "" for a temporary one

	spills, restores atomic.Int64
}

// storeEntry is the store's record of one large object.
type storeEntry struct {
	obj    weak.Pointer[object]
	size   int64
	elem   *list.Element
	path   string // spill file, "" while in memory
	freed  bool
	pinned bool // cannot be encoded, so never spilled
}

func newObjectStore(limit int64, dataDir string) *objectStore {
	return &objectStore{limit: limit, lru: list.New(), baseDir: dataDir}
}

// add counts a newly completed object and spills others if needed. It
// returns an error when the object cannot be kept at all.
func (s *objectStore) add(o *object) error {
	size := exec.EncodedSize(o.val)
	if size <= InlineLimit {
		return nil
	}
	e := &storeEntry{obj: weak.Make(o), size: size}
	o.entry, o.store = e, s
	s.mu.Lock()
	e.elem = s.lru.PushFront(e)
	s.used += size
	err := s.makeRoomLocked(e)
	s.mu.Unlock()
	runtime.AddCleanup(o, s.free, e)
	return err
}

// free runs when an object has been collected, on the runtime's cleanup
// goroutine, where a panic would end the process.
func (s *objectStore) free(e *storeEntry) {
	defer survivePanic("the object store's cleanup", nil, nil, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.freed {
		return
	}
	e.freed = true
	if e.path != "" {
		os.Remove(e.path)
		return
	}
	s.used -= e.size
	s.lru.Remove(e.elem)
}

// makeRoomLocked spills least recently used objects, other than keep,
// until the store is within its limit.
func (s *objectStore) makeRoomLocked(keep *storeEntry) error {
	for el := s.lru.Back(); el != nil && s.used > s.limit; {
		e := el.Value.(*storeEntry)
		prev := el.Prev()
		if e != keep && !e.pinned {
			if err := s.spillLocked(e); err != nil {
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

// spillLocked writes an object to its spill file and drops it from
// memory. Objects that cannot be encoded (they hold futures or handles)
// stay in memory, moved to the front so the next victim is tried.
func (s *objectStore) spillLocked(e *storeEntry) error {
	o := e.obj.Value()
	if o == nil {
		s.used -= e.size
		s.lru.Remove(e.elem)
		e.freed = true
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	data, err := exec.Encode(nil, o.val)
	if err != nil {
		e.pinned = true // holds futures or handles: it stays in memory
		return nil
	}
	if err := s.ensureDir(); err != nil {
		return s.fullError(o, e, err)
	}
	path := filepath.Join(s.spillDir, fmt.Sprintf("object-%d", s.spills.Add(1)))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return s.fullError(o, e, err)
	}
	e.path = path
	o.val = exec.None
	s.used -= e.size
	s.lru.Remove(e.elem)
	return nil
}

func (s *objectStore) fullError(o *object, e *storeEntry, cause error) error {
	return exec.Errorf(exec.KindResource, "object store is full: %s (%s) does not fit in %s of object-store memory, and spilling to disk failed: %v",
		o.name, bytesize.Format(e.size), bytesize.Format(s.limit), cause)
}

func (s *objectStore) ensureDir() error {
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

// load returns an object's value, bringing it back into memory if it was
// spilled, and marks it recently used. The caller holds no locks.
func (s *objectStore) load(o *object) (exec.Value, *exec.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := o.entry
	if e.path == "" {
		if !e.freed {
			s.lru.MoveToFront(e.elem)
		}
		return o.value(), nil
	}
	data, err := os.ReadFile(e.path)
	if err != nil {
		return exec.None, exec.Errorf(exec.KindLost, "%s was spilled to disk and cannot be read back: %v", o.name, err)
	}
	v, err := exec.Decode(data)
	if err != nil {
		return exec.None, exec.Errorf(exec.KindLost, "%s was spilled to disk and is damaged: %v", o.name, err)
	}
	os.Remove(e.path)
	e.path = ""
	o.mu.Lock()
	o.val = v
	o.mu.Unlock()
	s.restores.Add(1)
	e.elem = s.lru.PushFront(e)
	s.used += e.size
	if err := s.makeRoomLocked(e); err != nil {
		return exec.None, err.(*exec.Error)
	}
	return v, nil
}

// Usage reports the bytes counted in memory, and how many objects were
// spilled and restored.
func (s *objectStore) Usage() (used, limit, spills, restores int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used, s.limit, s.spills.Load(), s.restores.Load()
}

// close removes a temporary spill directory.
func (s *objectStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ownDir {
		os.RemoveAll(s.spillDir)
	}
}
