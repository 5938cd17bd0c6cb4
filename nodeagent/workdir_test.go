package nodeagent

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree lists the files under root with their content.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A packed working directory unpacks to its files, without version
// control directories, what .rayflowignore lists, and links leading
// outside; packing the same content twice gives the same hash.
func TestPackWorkDirRoundTrip(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.txt": "a", "sub/b.txt": "b", ".git/HEAD": "ref", "x.log": "log", "build/out": "o",
		".rayflowignore": "# generated\n*.log\nbuild/\n",
	})
	writeTree(t, outside, map[string]string{"secret": "s"})
	if err := os.Symlink("a.txt", filepath.Join(dir, "link-in")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link-out")); err != nil {
		t.Fatal(err)
	}
	p1, err := packWorkDir(dir, DefaultWorkDirLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p1.path)
	p2, err := packWorkDir(dir, DefaultWorkDirLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p2.path)
	if p1.hash != p2.hash || len(p1.hash) != 64 {
		t.Fatalf("the same directory packed twice hashes to %s and %s", p1.hash, p2.hash)
	}
	into := t.TempDir()
	if err := untar(p1.path, into); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, into)
	want := map[string]string{".rayflowignore": "# generated\n*.log\nbuild/\n", "a.txt": "a", "link-in": "a", "sub/b.txt": "b"}
	if len(got) != len(want) {
		t.Fatalf("unpacked %v, want %v", keysOf(got), keysOf(want))
	}
	for name, text := range want {
		if got[name] != text {
			t.Errorf("%s = %q, want %q", name, got[name], text)
		}
	}

	writeTree(t, dir, map[string]string{"a.txt": "changed"})
	p3, err := packWorkDir(dir, DefaultWorkDirLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p3.path)
	if p3.hash == p1.hash {
		t.Error("a changed file did not change the hash")
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A directory whose files exceed the limit is refused with its size and
// the limit.
func TestPackWorkDirTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": strings.Repeat("x", 1500), "b": strings.Repeat("y", 1500)})
	_, err := packWorkDir(dir, 2048)
	var tooLarge *WorkDirTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Size != 3000 || tooLarge.Limit != 2048 {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{dir, "2.9 KiB", "limit of 2.0 KiB", "--working-dir DIR", ".rayflowignore"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

// An archive whose entries lead outside the directory is refused.
func TestUntarRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "/abs/evil", "a/../../evil"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
		tw.Write([]byte("x"))
		tw.Close()
		src := filepath.Join(t.TempDir(), "a.tar")
		os.WriteFile(src, buf.Bytes(), 0o644)
		parent := t.TempDir()
		into := filepath.Join(parent, "job")
		os.Mkdir(into, 0o755)
		if err := untar(src, into); err == nil {
			t.Errorf("%s: unpacked", name)
		}
		if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
			t.Errorf("%s: escaped", name)
		}
	}
}

// Over the network: a node unpacks a job's working directory from its
// driver, once per job; a second job of the same directory does not fetch
// it again; a job whose driver shared none gets an empty directory; a
// released job's directory is deleted.
func TestJobWorkDirFetchedOncePerHash(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"data.txt": "the driver's", "sub/x": "x"})
	for _, job := range []string{"jobwd1", "jobwd2"} {
		driver.noteJob(job) // its lease vouches for its address (dialpolicy.go)
		if err := driver.ShareWorkDir(job, dir, 0); err != nil {
			t.Fatal(err)
		}
	}
	nw := worker.net
	first, err := nw.workdirs.jobDir("jobwd1", driver.Address())
	if err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, first); got["data.txt"] != "the driver's" || got["sub/x"] != "x" || len(got) != 2 {
		t.Fatalf("job 1's directory holds %v", got)
	}
	again, err := nw.workdirs.jobDir("jobwd1", driver.Address())
	if err != nil || again != first {
		t.Fatalf("job 1 again: %q, %v (first %q)", again, err, first)
	}
	second, err := nw.workdirs.jobDir("jobwd2", driver.Address())
	if err != nil || second == first {
		t.Fatalf("job 2: %q, %v (job 1 has %q)", second, err, first)
	}
	if got := readTree(t, second); got["data.txt"] != "the driver's" {
		t.Fatalf("job 2's directory holds %v", got)
	}
	if n := nw.workdirs.fetches.Load(); n != 1 {
		t.Errorf("the node fetched the same directory %d times", n)
	}
	empty, err := nw.workdirs.jobDir("jobnone", driver.Address())
	if err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, empty); len(got) != 0 {
		t.Errorf("a job with no shared directory sees %v", got)
	}

	driver.endJob("jobwd1")
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("job 1 is over but its directory is there: %v", err)
	}
	if _, err := os.Stat(second); err != nil {
		t.Errorf("job 2's directory went with job 1's: %v", err)
	}
}
