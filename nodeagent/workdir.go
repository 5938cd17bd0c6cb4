package nodeagent

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Working directories: a job's files travel with it (Ray's runtime_env
// working_dir).
//
// The driver packs the run's working directory once per job, before the
// job starts (ShareWorkDir: a tar file in its temporary directory, named
// by the SHA-256 of its content), and keeps it until the job is released.
// A node runs a job's task or actor with a working directory that is
// resolved on the first io call the job makes there (the thread's
// stdlib.IOWorkDirKey, set by routeOutput): the node asks the driver for
// the job's hash (wire.QueryWorkDir), fetches the archive from the driver
// by that hash unless it has it already (wire.QueryWorkDirArchive; kept
// under DATA_DIR/NODE/workdirs/archives, the last maxArchives of them),
// and unpacks it into a directory of the job's own
// (workdirs/jobs/JOB), which every task and actor of the job on that
// node shares and which is deleted when the job is released or the
// process stops. The driver itself, and an embedded cluster, use the
// directory in place.

// DefaultWorkDirLimit bounds the files of a working directory shipped to
// a cluster's nodes (Ray's limit for a working_dir is the same).
const DefaultWorkDirLimit = 100 << 20

// maxArchives is how many fetched archives a node keeps, the least
// recently used going first.
const maxArchives = 8

// workDirFetchTimeout bounds one fetch of an archive.
const workDirFetchTimeout = 10 * time.Minute

// workDirs is what a process keeps of working directories: as a driver,
// the archives it shared, by job; as a node, the archives it fetched, by
// hash, and the directories it unpacked, by job. Its lock guards the
// maps; the work (packing, fetching, unpacking, removing) is done
// outside it, by the goroutine that needs it first: ShareWorkDir's
// caller, a task's worker (its first io call), the release of a job.
type workDirs struct {
	// calls fetches from drivers; nodeDir is this node's data directory
	// ("" for none: a temporary one is made). Set once by init.
	calls   workDirCaller
	nodeDir string

	mu       sync.Mutex
	shared   map[string]*packedDir // driver: by job ID
	jobs     map[string]*jobDir    // node: by job ID
	archives map[string]*archive   // node: by hash
	base     string                // node: holds archives/ and jobs/; made on first use
	used     uint64                // counts uses of archives, for the least recently used
	closed   bool

	fetches atomic.Int64 // archives fetched from drivers
}

// workDirCaller is what workDirs needs of the transport: a request and a
// streamed request to a driver.
type workDirCaller interface {
	Call(ctx context.Context, addr string, typ transport.MsgType, payload []byte) (*transport.Message, error)
	CallStream(ctx context.Context, addr string, typ transport.MsgType, payload []byte, w io.Writer) error
}

// init gives the component what it fetches with and where it keeps
// its files.
func (w *workDirs) init(calls workDirCaller, nodeDir string) {
	w.calls, w.nodeDir = calls, nodeDir
}

// jobDir is a job's working directory on a node: ready once unpacked.
type jobDir struct {
	ready chan struct{}
	dir   string
	err   error
}

// archive is a fetched archive on a node: ready once on disk.
type archive struct {
	ready chan struct{}
	path  string
	err   error
	used  uint64
}

// dirOf is what the io module calls to find the working directory of
// a thread of job, sent here by the driver at driver.
func (w *workDirs) dirOf(job, driver string) func() (string, error) {
	return func() (string, error) { return w.jobDir(job, driver) }
}

// jobDir returns the job's working directory on this node, unpacking
// it on the first call; calls made meanwhile wait for it. A failure is
// not kept: the next call tries again.
func (w *workDirs) jobDir(job, driver string) (string, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return "", errors.New("the node is stopping")
	}
	if w.jobs == nil {
		w.jobs = map[string]*jobDir{}
	}
	jd, started := w.jobs[job]
	if !started {
		jd = &jobDir{ready: make(chan struct{})}
		w.jobs[job] = jd
	}
	w.mu.Unlock()
	if started {
		<-jd.ready
		return jd.dir, jd.err
	}
	jd.dir, jd.err = w.unpack(job, driver)
	w.mu.Lock()
	current := w.jobs[job] == jd
	if jd.err != nil && current {
		delete(w.jobs, job)
	}
	w.mu.Unlock()
	if !current && jd.err == nil { // released meanwhile
		os.RemoveAll(jd.dir)
		jd.dir, jd.err = "", fmt.Errorf("job %s is over", job)
	}
	close(jd.ready)
	return jd.dir, jd.err
}

// unpack makes the job's directory on this node: the driver's
// archive unpacked, or empty when the driver shared none.
func (w *workDirs) unpack(job, driver string) (string, error) {
	base, err := w.baseDir()
	if err != nil {
		return "", err
	}
	if !validJobID(job) {
		return "", fmt.Errorf("%q is not a job ID", job)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	reply, err := w.calls.Call(ctx, driver, transport.Query, append([]byte{wire.QueryWorkDir}, wire.EncodeStrings(job)...))
	cancel()
	if err != nil {
		return "", fmt.Errorf("cannot ask the driver at %s for it: %w", driver, err)
	}
	ss, err := wire.DecodeStrings(reply.Payload)
	if err != nil || len(ss) != 1 {
		return "", fmt.Errorf("the driver at %s answered %w", driver, wire.ErrMalformed)
	}
	dir := filepath.Join(base, "jobs", job)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if ss[0] == "" {
		return dir, nil
	}
	arch, err := w.archiveOf(ss[0], driver)
	if err == nil {
		err = untar(arch, dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// baseDir is the directory that holds this node's archives and job
// directories: under the node's data directory, or a temporary one.
// Whatever an earlier process left there is removed first.
func (w *workDirs) baseDir() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.base != "" {
		return w.base, nil
	}
	var base string
	if d := w.nodeDir; d != "" {
		base = filepath.Join(d, "workdirs")
		if err := os.RemoveAll(base); err != nil {
			return "", err
		}
	} else {
		tmp, err := os.MkdirTemp("", "rayflow-workdirs-")
		if err != nil {
			return "", err
		}
		base = tmp
	}
	for _, sub := range []string{"archives", "jobs"} {
		if err := os.MkdirAll(filepath.Join(base, sub), 0o755); err != nil {
			return "", err
		}
	}
	w.base = base
	return base, nil
}

// archiveOf returns the path of the archive with this hash, fetching
// it from the driver unless this node has it.
func (w *workDirs) archiveOf(hash, driver string) (string, error) {
	if len(hash) != sha256.Size*2 || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", fmt.Errorf("the driver at %s named its working directory %q, not a hash", driver, hash)
	}
	w.mu.Lock()
	if w.archives == nil {
		w.archives = map[string]*archive{}
	}
	w.used++
	a, started := w.archives[hash]
	if !started {
		a = &archive{ready: make(chan struct{}), path: filepath.Join(w.base, "archives", hash+".tar")}
		w.archives[hash] = a
	}
	a.used = w.used
	w.mu.Unlock()
	if started {
		<-a.ready
		return a.path, a.err
	}
	a.err = w.fetch(hash, driver, a.path)
	w.mu.Lock()
	if a.err != nil {
		delete(w.archives, hash)
	}
	evict := w.evictArchives()
	w.mu.Unlock()
	close(a.ready)
	for _, p := range evict {
		os.Remove(p)
	}
	return a.path, a.err
}

// evictArchives forgets the least recently used ready archives beyond
// maxArchives and returns their paths. The caller holds w.mu.
func (w *workDirs) evictArchives() []string {
	var evict []string
	for len(w.archives) > maxArchives {
		var oldest string
		for h, a := range w.archives {
			select {
			case <-a.ready:
			default:
				continue // being fetched
			}
			if oldest == "" || a.used < w.archives[oldest].used {
				oldest = h
			}
		}
		if oldest == "" {
			break
		}
		evict = append(evict, w.archives[oldest].path)
		delete(w.archives, oldest)
	}
	return evict
}

// fetch streams the archive with this hash from the driver into
// the file at dst, checking that its content has that hash.
func (w *workDirs) fetch(hash, driver, dst string) error {
	w.fetches.Add(1)
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	h := sha256.New()
	ctx, cancel := context.WithTimeout(context.Background(), workDirFetchTimeout)
	err = w.calls.CallStream(ctx, driver, transport.Query, append([]byte{wire.QueryWorkDirArchive}, wire.EncodeStrings(hash)...), io.MultiWriter(f, h))
	cancel()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != hash {
		err = fmt.Errorf("what the driver sent does not match its hash %s", gcs.ShortHash(hash))
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot fetch it from the driver at %s: %w", driver, err)
	}
	return nil
}

// untar unpacks the archive at src into dir, refusing entries that would
// land outside it.
func untar(src, dir string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("damaged archive: %w", err)
		}
		name := filepath.FromSlash(strings.TrimSuffix(hdr.Name, "/"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("damaged archive: entry %q", hdr.Name)
		}
		if err := untarEntry(root, tr, hdr, name); err != nil {
			return err
		}
	}
}

// untarEntry writes one entry of an archive.
func untarEntry(root *os.Root, r io.Reader, hdr *tar.Header, name string) error {
	mode := fs.FileMode(hdr.Mode).Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, 0o755)
	case tar.TypeReg:
		if parent := filepath.Dir(name); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return err
			}
		}
		out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o600)
		if err != nil {
			return err
		}
		_, err = io.CopyN(out, r, hdr.Size)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return fmt.Errorf("damaged archive: entry %q of type %c", hdr.Name, hdr.Typeflag)
}

// handleQuery answers wire.QueryWorkDir and
// wire.QueryWorkDirArchive, as the driver of the job.
func (w *workDirs) handleQuery(op byte, body []byte) (*transport.Message, error) {
	ss, err := wire.DecodeStrings(body)
	if err != nil || len(ss) != 1 {
		return nil, wire.ErrMalformed
	}
	if op == wire.QueryWorkDir {
		hash := ""
		w.mu.Lock()
		if p := w.shared[ss[0]]; p != nil {
			hash = p.hash
		}
		w.mu.Unlock()
		return transport.Reply(wire.EncodeStrings(hash)), nil
	}
	var found *packedDir
	w.mu.Lock()
	for _, p := range w.shared {
		if p.hash == ss[0] {
			found = p
			break
		}
	}
	w.mu.Unlock()
	if found == nil {
		return nil, fmt.Errorf("no working directory %s is shared here", gcs.ShortHash(ss[0]))
	}
	f, err := os.Open(found.path)
	if err != nil {
		return nil, err
	}
	return transport.NewStreamReply(f, found.size), nil
}

// release removes what this process keeps of the jobs' working
// directories: as their driver, the archives it shared; as a node, their
// unpacked copies (the archives stay, for later jobs of the same
// directory).
func (w *workDirs) release(jobs []string) {
	var remove []string
	w.mu.Lock()
	for _, j := range jobs {
		if p := w.shared[j]; p != nil {
			remove = append(remove, p.path)
			delete(w.shared, j)
		}
		if jd := w.jobs[j]; jd != nil {
			delete(w.jobs, j)
			if w.base != "" {
				remove = append(remove, filepath.Join(w.base, "jobs", j))
			}
		}
	}
	w.mu.Unlock()
	for _, p := range remove {
		os.RemoveAll(p)
	}
}

// close removes everything this process keeps of working
// directories, when it stops.
func (w *workDirs) close() {
	var remove []string
	w.mu.Lock()
	w.closed = true
	for _, p := range w.shared {
		remove = append(remove, p.path)
	}
	w.shared, w.jobs, w.archives = nil, nil, nil
	if w.base != "" {
		remove = append(remove, w.base)
	}
	w.mu.Unlock()
	for _, p := range remove {
		os.RemoveAll(p)
	}
}
