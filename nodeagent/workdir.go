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
	"path"
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

// IgnoreFile lists, one glob per line, files of a working directory not
// to ship; lines starting with # are comments.
const IgnoreFile = ".rayflowignore"

// alwaysIgnored are directories never shipped.
var alwaysIgnored = map[string]bool{".git": true, ".hg": true, ".svn": true}

// WorkDirTooLargeError is a working directory whose files exceed the
// limit for shipping it.
type WorkDirTooLargeError struct {
	Dir          string
	Size, Limit  int64
	StoppedEarly bool // the count stopped at Size; there is more
}

func (e *WorkDirTooLargeError) Error() string {
	more := ""
	if e.StoppedEarly {
		more = "more than "
	}
	return fmt.Sprintf("the working directory %s holds %s%s of files, over the limit of %s for sending it to the cluster's nodes; "+
		"run from a smaller directory, choose one with --working-dir DIR, or list what to leave out in %s",
		e.Dir, more, sizeText(e.Size), sizeText(e.Limit), filepath.Join(e.Dir, IgnoreFile))
}

// sizeText writes a byte count for a person.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// workDirs is what a process keeps of working directories: as a driver,
// the archives it shared, by job; as a node, the archives it fetched, by
// hash, and the directories it unpacked, by job. Its lock guards the
// maps; the work (packing, fetching, unpacking, removing) is done
// outside it, by the goroutine that needs it first: ShareWorkDir's
// caller, a task's worker (its first io call), the release of a job.
type workDirs struct {
	mu       sync.Mutex
	shared   map[string]*packedDir // driver: by job ID
	jobs     map[string]*jobDir    // node: by job ID
	archives map[string]*archive   // node: by hash
	base     string                // node: holds archives/ and jobs/; made on first use
	used     uint64                // counts uses of archives, for the least recently used
	closed   bool

	fetches atomic.Int64 // archives fetched from drivers
}

// packedDir is a working directory packed to ship.
type packedDir struct {
	hash, path string
	size       int64
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

// ShareWorkDir packs dir (the process's working directory when empty),
// the working directory of job, for the nodes of the cluster to fetch,
// refusing one whose files exceed limit bytes (DefaultWorkDirLimit when
// not positive) with a *WorkDirTooLargeError. An embedded cluster uses
// the directory in place: it does nothing.
func (c *Cluster) ShareWorkDir(jobID, dir string, limit int64) error {
	if c.net == nil {
		return nil
	}
	if limit <= 0 {
		limit = DefaultWorkDirLimit
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		dir = wd
	}
	p, err := packWorkDir(dir, limit)
	if err != nil {
		return err
	}
	w := &c.net.workdirs
	w.mu.Lock()
	if w.shared == nil {
		w.shared = map[string]*packedDir{}
	}
	old := w.shared[jobID]
	w.shared[jobID] = p
	w.mu.Unlock()
	if old != nil {
		os.Remove(old.path)
	}
	return nil
}

// workDirEntry is one file or directory to pack.
type workDirEntry struct {
	rel  string // slash-separated, relative to the working directory
	dir  bool
	size int64
	mode fs.FileMode
}

// packWorkDir writes dir's files to a tar file in the temporary
// directory, in a stable order with no times or owners, so that its
// hash names its content.
func packWorkDir(dir string, limit int64) (*packedDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	entries, err := listWorkDir(abs, limit)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "rayflow-workdir-*.tar")
	if err != nil {
		return nil, fmt.Errorf("cannot pack the working directory %s: %w", abs, err)
	}
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(f, h))
	err = writeTar(bw, real, entries)
	if err == nil {
		err = bw.Flush()
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("cannot pack the working directory %s: %w", abs, err)
	}
	return &packedDir{hash: hex.EncodeToString(h.Sum(nil)), path: f.Name(), size: size}, nil
}

// listWorkDir lists what to ship of dir, in lexical order, and refuses
// it when its files exceed limit. The count stops at ten times the
// limit, so that a mistaken run from a home directory fails fast. A
// symbolic link to a file inside dir is shipped as that file; links to
// directories or to anything outside are not (io refuses to follow
// those too).
func listWorkDir(dir string, limit int64) ([]workDirEntry, error) {
	ignore, err := readIgnore(dir)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	var entries []workDirEntry
	var total int64
	errStop := errors.New("stop")
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == real {
			return nil
		}
		rel, _ := filepath.Rel(real, p)
		rel = filepath.ToSlash(rel)
		isDir := d.IsDir()
		if (isDir && alwaysIgnored[d.Name()]) || ignored(ignore, rel, isDir) {
			if isDir {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && !linksInside(real, p) {
			return nil
		}
		info, err := os.Stat(p) // follows a symbolic link
		if err != nil || (!info.IsDir() && !info.Mode().IsRegular()) || (info.IsDir() && !isDir) {
			return nil // a broken link, a link to a directory, a device or socket: not shipped
		}
		entries = append(entries, workDirEntry{rel: rel, dir: isDir, size: info.Size(), mode: info.Mode().Perm()})
		if total += info.Size(); total > 10*limit {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("cannot read the working directory %s: %w", dir, err)
	}
	if total > limit {
		return nil, &WorkDirTooLargeError{Dir: dir, Size: total, Limit: limit, StoppedEarly: err == errStop}
	}
	return entries, nil
}

// linksInside reports whether the symbolic link at p leads to a place
// inside the directory real (with its own links resolved).
func linksInside(real, p string) bool {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(real, target)
	return err == nil && filepath.IsLocal(rel)
}

// ignorePattern is one line of an ignore file.
type ignorePattern struct {
	glob    string
	dirOnly bool // the line ended with /
}

// readIgnore reads dir's ignore file, if it has one.
func readIgnore(dir string) ([]ignorePattern, error) {
	data, err := os.ReadFile(filepath.Join(dir, IgnoreFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ignorePattern
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		glob, dirOnly := strings.CutSuffix(line, "/")
		glob = strings.TrimPrefix(glob, "/")
		if _, err := path.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("%s: bad pattern %q: %v", filepath.Join(dir, IgnoreFile), line, err)
		}
		out = append(out, ignorePattern{glob: glob, dirOnly: dirOnly})
	}
	return out, nil
}

// ignored reports whether a pattern matches rel (slash-separated) or
// its last element.
func ignored(patterns []ignorePattern, rel string, isDir bool) bool {
	for _, p := range patterns {
		if p.dirOnly && !isDir {
			continue
		}
		if ok, _ := path.Match(p.glob, rel); ok {
			return true
		}
		if ok, _ := path.Match(p.glob, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// writeTar writes the entries of the directory real (its symbolic links
// resolved) as a tar stream.
func writeTar(w io.Writer, real string, entries []workDirEntry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.rel, Mode: int64(e.mode), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if e.dir {
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.rel+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.size
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if err := copyFile(tw, filepath.Join(real, filepath.FromSlash(e.rel)), e.size); err != nil {
			return err
		}
	}
	return tw.Close()
}

// copyFile writes the size bytes of the file at p to w.
func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyN(w, f, size); err != nil {
		return fmt.Errorf("%s changed while it was packed: %w", p, err)
	}
	return nil
}

// jobOfTask is the job a task, actor or driver ID belongs to.
func jobOfTask(id string) string {
	job, _, _ := strings.Cut(id, ".")
	return job
}

// workDirOf is what the io module calls to find the working directory of
// a thread of job, sent here by the driver at driver.
func (nw *network) workDirOf(job, driver string) func() (string, error) {
	return func() (string, error) { return nw.jobWorkDir(job, driver) }
}

// jobWorkDir returns the job's working directory on this node, unpacking
// it on the first call; calls made meanwhile wait for it. A failure is
// not kept: the next call tries again.
func (nw *network) jobWorkDir(job, driver string) (string, error) {
	w := &nw.workdirs
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
	jd.dir, jd.err = nw.unpackJob(job, driver)
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

// unpackJob makes the job's directory on this node: the driver's
// archive unpacked, or empty when the driver shared none.
func (nw *network) unpackJob(job, driver string) (string, error) {
	base, err := nw.workDirBase()
	if err != nil {
		return "", err
	}
	if !validJobID(job) {
		return "", fmt.Errorf("%q is not a job ID", job)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	reply, err := nw.pool.Call(ctx, driver, transport.Query, append([]byte{wire.QueryWorkDir}, wire.EncodeStrings(job)...))
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
	arch, err := nw.workDirArchive(ss[0], driver)
	if err == nil {
		err = untar(arch, dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// workDirBase is the directory that holds this node's archives and job
// directories: under the node's data directory, or a temporary one.
// Whatever an earlier process left there is removed first.
func (nw *network) workDirBase() (string, error) {
	w := &nw.workdirs
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.base != "" {
		return w.base, nil
	}
	var base string
	if d := nodeDataDir(nw.c.cfg.DataDir, nw.c.Head().ID); d != "" {
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

// workDirArchive returns the path of the archive with this hash, fetching
// it from the driver unless this node has it.
func (nw *network) workDirArchive(hash, driver string) (string, error) {
	if len(hash) != sha256.Size*2 || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", fmt.Errorf("the driver at %s named its working directory %q, not a hash", driver, hash)
	}
	w := &nw.workdirs
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
	a.err = nw.fetchArchive(hash, driver, a.path)
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

// fetchArchive streams the archive with this hash from the driver into
// the file at dst, checking that its content has that hash.
func (nw *network) fetchArchive(hash, driver, dst string) error {
	nw.workdirs.fetches.Add(1)
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	h := sha256.New()
	ctx, cancel := context.WithTimeout(context.Background(), workDirFetchTimeout)
	err = nw.pool.CallStream(ctx, driver, transport.Query, append([]byte{wire.QueryWorkDirArchive}, wire.EncodeStrings(hash)...), io.MultiWriter(f, h))
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

// handleWorkDirQuery answers wire.QueryWorkDir and
// wire.QueryWorkDirArchive, as the driver of the job.
func (nw *network) handleWorkDirQuery(op byte, body []byte) (*transport.Message, error) {
	ss, err := wire.DecodeStrings(body)
	if err != nil || len(ss) != 1 {
		return nil, wire.ErrMalformed
	}
	w := &nw.workdirs
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

// releaseWorkDirs removes what this process keeps of the jobs' working
// directories: as their driver, the archives it shared; as a node, their
// unpacked copies (the archives stay, for later jobs of the same
// directory).
func (nw *network) releaseWorkDirs(jobs []string) {
	w := &nw.workdirs
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

// closeWorkDirs removes everything this process keeps of working
// directories, when it stops.
func (nw *network) closeWorkDirs() {
	w := &nw.workdirs
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
