package nodeagent

// The driver's side of working directories (workdir.go): packing the
// run's directory into an archive named by its content, once per job.

import (
	"archive/tar"
	"bufio"
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
	"time"
)

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

// packedDir is a working directory packed to ship.
type packedDir struct {
	hash, path string
	size       int64
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
