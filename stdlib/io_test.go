package stdlib

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestIO(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	th := &exec.Thread{WorkDir: dir}
	m := IOModule()
	do := func(name string, args ...any) (exec.Value, error) {
		t.Helper()
		return callOn(t, th, fn(t, m, name), args...)
	}
	must := func(name string, args ...any) exec.Value {
		t.Helper()
		v, err := do(name, args...)
		if err != nil {
			t.Fatalf("io.%s: %v", name, err)
		}
		return v
	}
	must("write_text", S("a.txt"), S("one\ntwo\r\n"))
	must("append_text", S("a.txt"), S("three\n"))
	must("append_text", S("new.txt"), S("x"))
	if got := must("read_text", S("a.txt")).AsString(); got != "one\ntwo\r\nthree\n" {
		t.Errorf("read_text = %q", got)
	}
	if got := must("read_lines", S("a.txt")).Repr(); got != `["one", "two", "three"]` {
		t.Errorf("read_lines = %s", got)
	}
	must("mkdir", S("sub/deeper"))
	must("write_text", S("sub/deeper/../b.txt"), S("b"))
	if got := must("read_text", S(filepath.Join(dir, "sub", "b.txt"))).AsString(); got != "b" {
		t.Errorf("absolute path inside: %q", got)
	}
	if got := must("list_dir").Repr(); got != `["a.txt", "filelink", "link", "new.txt", "sub"]` {
		t.Errorf("list_dir = %s", got)
	}
	if got := must("list_dir", S("sub")).Repr(); got != `["b.txt", "deeper"]` {
		t.Errorf("list_dir(sub) = %s", got)
	}
	if !must("exists", S("a.txt")).AsBool() || must("exists", S("nope")).AsBool() {
		t.Error("exists")
	}
	must("remove", S("new.txt"))
	if must("exists", S("new.txt")).AsBool() {
		t.Error("remove")
	}

	for _, p := range []string{"../x", "..", "sub/../../x", "/etc/passwd", "link/secret", "link", "filelink", "link/newfile"} {
		for _, f := range []string{"read_text", "exists", "write_text"} {
			args := []any{S(p)}
			if f == "write_text" {
				args = append(args, S("x"))
			}
			_, err := do(f, args...)
			wantErr(t, err, exec.KindIO, "io."+f+`: path "`+p+`" is outside the run's working directory`)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "newfile")); err == nil {
		t.Error("a write escaped through a symlink")
	}

	_, err := do("read_text", S("missing.txt"))
	wantErr(t, err, exec.KindIO, `io.read_text: cannot read "missing.txt": no such file or directory`)
	_, err = do("read_text", S("sub"))
	wantErr(t, err, exec.KindIO, `cannot read "sub"`)
	_, err = do("write_text", S("nodir/x"), S(""))
	wantErr(t, err, exec.KindIO, "no such file or directory")
	_, err = do("read_text", S(""))
	wantErr(t, err, exec.KindIO, "no such file")

	// Reads are nondeterministic, writes are not.
	for name, want := range map[string]bool{"read_text": true, "read_lines": true, "list_dir": true, "exists": true, "write_text": false, "append_text": false} {
		if fn(t, m, name).(*exec.Builtin).Nondeterministic != want {
			t.Errorf("io.%s Nondeterministic != %v", name, want)
		}
	}

	// A host may lift the confinement.
	th.Local = map[string]any{IOAllowOutsideKey: true}
	if got := must("read_text", S("link/secret")).AsString(); got != "s" {
		t.Errorf("unconfined read = %q", got)
	}
}

func TestIODefaultWorkDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	m := IOModule()
	if _, err := call(t, m, "write_text", S("f"), S("hi")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "hi" {
		t.Errorf("wrote %q", b)
	}
	_, err := call(t, m, "read_text", S("../f"))
	wantErr(t, err, exec.KindIO, "outside")
}

// A host's IOWorkDirKey gives the directory io is confined to; its error
// is the io call's error.
func TestIOWorkDirResolver(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("from the job"), 0o644)
	m := IOModule()
	th := &exec.Thread{WorkDir: t.TempDir(), Local: map[string]any{
		IOWorkDirKey: func() (string, error) { return dir, nil },
	}}
	v, err := callOn(t, th, fn(t, m, "read_text"), S("f"))
	if err != nil || v.AsString() != "from the job" {
		t.Fatalf("read = %v, %v", v, err)
	}
	th.Local[IOWorkDirKey] = func() (string, error) { return "", errors.New("the driver is gone") }
	_, err = callOn(t, th, fn(t, m, "read_text"), S("f"))
	wantErr(t, err, exec.KindIO, "io.read_text: the run's working directory is not available here: the driver is gone")
}
