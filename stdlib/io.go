package stdlib

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/rayflow/rayflow/exec"
)

// IOAllowOutsideKey is the key in exec.Thread.Local that, set to true,
// lets the io module reach paths outside the run's working directory
// (for a host that was told to allow it).
const IOAllowOutsideKey = "stdlib.io.allow_outside"

// IOWorkDirKey is the key in exec.Thread.Local of a func() (string,
// error) that, when set, gives the run's working directory instead of
// th.WorkDir. A cluster node sets it on the threads of a job that came
// from another process: the first io call of the job on that node
// fetches the driver's working directory (nodeagent/workdir.go), and an
// error from it is the io call's error.
const IOWorkDirKey = "stdlib.io.workdir"

// readFile reads a file's text, as a read the runtime logs for replay:
// a task run again reads what its earlier run read.
func readFile(th *exec.Thread, fn, p string) (exec.Value, error) {
	return exec.ReadOutcome(th, "io", func() (exec.Value, error) {
		var data []byte
		err := withRoot(th, fn, p, func(root *os.Root, name string) (err error) {
			data, err = root.ReadFile(name)
			return err
		})
		if err != nil {
			return exec.None, ioError(fn, "read", p, err)
		}
		return exec.Str(string(data)), nil
	})
}

// IOModule returns the io module: text files, confined to the run's
// working directory (th.WorkDir, or the process's working directory when
// empty). Reads count as nondeterministic.
func IOModule() *exec.Module {
	m := newModule("io")
	m.AddFunc("read_text", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p string
		if err := args.Unpack("path", &p); err != nil {
			return exec.None, err
		}
		return readFile(th, args.Fn, p)
	}).Nondeterministic = true
	m.AddFunc("read_lines", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p string
		if err := args.Unpack("path", &p); err != nil {
			return exec.None, err
		}
		text, err := readFile(th, args.Fn, p)
		if err != nil {
			return exec.None, err
		}
		s := strings.TrimSuffix(text.AsString(), "\n")
		if s == "" {
			return strList(nil), nil
		}
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSuffix(l, "\r")
		}
		return strList(lines), nil
	}).Nondeterministic = true
	m.AddFunc("write_text", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p, s string
		if err := args.Unpack("path", &p, "text", &s); err != nil {
			return exec.None, err
		}
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			return root.WriteFile(name, []byte(s), 0o644)
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "write", p, err)
		}
		return exec.None, nil
	})
	m.AddFunc("append_text", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p, s string
		if err := args.Unpack("path", &p, "text", &s); err != nil {
			return exec.None, err
		}
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return err
			}
			_, err = f.WriteString(s)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "append to", p, err)
		}
		return exec.None, nil
	})
	m.AddFunc("list_dir", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		p := "."
		if err := args.Unpack("path?", &p); err != nil {
			return exec.None, err
		}
		var names []string
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			f, err := root.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			names, err = f.Readdirnames(-1)
			return err
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "list", p, err)
		}
		sort.Strings(names)
		return strList(names), nil
	}).Nondeterministic = true
	m.AddFunc("exists", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p string
		if err := args.Unpack("path", &p); err != nil {
			return exec.None, err
		}
		found := false
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			_, err := root.Stat(name)
			if err == nil {
				found = true
				return nil
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "check", p, err)
		}
		return exec.Bool(found), nil
	}).Nondeterministic = true
	m.AddFunc("mkdir", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p string
		if err := args.Unpack("path", &p); err != nil {
			return exec.None, err
		}
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			return root.MkdirAll(name, 0o755)
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "create directory", p, err)
		}
		return exec.None, nil
	})
	m.AddFunc("remove", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var p string
		if err := args.Unpack("path", &p); err != nil {
			return exec.None, err
		}
		err := withRoot(th, args.Fn, p, func(root *os.Root, name string) error {
			if name == "." {
				return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrPermission}
			}
			return root.Remove(name)
		})
		if err != nil {
			return exec.None, ioError(args.Fn, "remove", p, err)
		}
		return exec.None, nil
	})
	return m
}

// errOutside marks a path outside the working directory.
var errOutside = errors.New("outside the run's working directory")

// confineError is the error for a path outside the working directory.
type confineError struct{ fn, path string }

func (e *confineError) Error() string { return e.fn + ": outside" }

// withRoot resolves p inside the run's working directory and calls f with
// that directory opened as an os.Root and the path relative to it. The
// os.Root keeps the access inside even if a symlink changes between the
// check and the use.
func withRoot(th *exec.Thread, fn, p string, f func(root *os.Root, name string) error) error {
	dir, rel, err := confine(th, fn, p)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return f(root, rel)
}

// confine resolves p against the working directory: it returns the
// directory (with its symlinks resolved) and p relative to it, or an
// error when p, after filepath.Clean and the resolution of the symlinks
// of its existing prefix, lies outside.
func confine(th *exec.Thread, fn, p string) (dir, rel string, err error) {
	if p == "" {
		return "", "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	base, err := workDir(th)
	if err != nil {
		return "", "", err
	}
	if base, err = filepath.Abs(base); err != nil {
		return "", "", err
	}
	baseReal, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", "", err
	}
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(base, full)
	}
	full = filepath.Clean(full)
	real := resolveExisting(full)
	if th != nil && th.Local != nil {
		if allow, _ := th.Local[IOAllowOutsideKey].(bool); allow {
			vol := filepath.VolumeName(real) + string(filepath.Separator)
			rel, err := filepath.Rel(vol, real)
			if err != nil {
				return "", "", err
			}
			return vol, rel, nil
		}
	}
	rel, err = filepath.Rel(baseReal, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", "", &confineError{fn: fn, path: p}
	}
	return baseReal, rel, nil
}

// workDir is the thread's working directory: the one IOWorkDirKey
// gives, else th.WorkDir, else the process's.
func workDir(th *exec.Thread) (string, error) {
	if th == nil {
		return os.Getwd()
	}
	if get, ok := th.Local[IOWorkDirKey].(func() (string, error)); ok {
		dir, err := get()
		if err != nil {
			return "", &workDirError{err}
		}
		return dir, nil
	}
	if th.WorkDir != "" {
		return th.WorkDir, nil
	}
	return os.Getwd()
}

// workDirError is why the run's working directory is not available
// where the thread runs (a node could not fetch it).
type workDirError struct{ err error }

func (e *workDirError) Error() string { return e.err.Error() }

// resolveExisting evaluates the symlinks of the longest existing prefix
// of the clean absolute path full and appends the rest unchanged.
func resolveExisting(full string) string {
	dir, rest := full, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			if rest == "" {
				return r
			}
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return full
		}
		if rest == "" {
			rest = filepath.Base(dir)
		} else {
			rest = filepath.Join(filepath.Base(dir), rest)
		}
		dir = parent
	}
}

// ioError turns a Go file error into an "io" error that names the path
// as the program gave it.
func ioError(fn, verb, p string, err error) error {
	var wde *workDirError
	if errors.As(err, &wde) {
		return exec.Errorf(exec.KindIO, "%s: the run's working directory is not available here: %v", fn, wde.err)
	}
	var ce *confineError
	if errors.As(err, &ce) || strings.Contains(err.Error(), "path escapes from parent") {
		return exec.Errorf(exec.KindIO, "%s: path %q is %s", fn, p, errOutside)
	}
	var msg string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg = "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied"
	case errors.Is(err, fs.ErrExist):
		msg = "it already exists"
	case errors.Is(err, syscall.EISDIR):
		msg = "it is a directory"
	case errors.Is(err, syscall.ENOTDIR):
		msg = "not a directory"
	case errors.Is(err, syscall.ENOTEMPTY):
		msg = "the directory is not empty"
	case errors.Is(err, fs.ErrInvalid):
		msg = "invalid path"
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		} else {
			msg = err.Error()
		}
	}
	return exec.Errorf(exec.KindIO, "%s: cannot %s %q: %s", fn, verb, p, msg)
}
