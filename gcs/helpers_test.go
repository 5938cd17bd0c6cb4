package gcs

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// openTest opens an in-memory single replica, adjusted by mutate, and closes
// it when the test ends.
func openTest(t testing.TB, mutate func(*Config)) *Store {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// must fails the test if the future fails.
func must(t testing.TB, f *Future) {
	t.Helper()
	if err := f.ErrorTimeout(10 * time.Second); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// freeBase returns a 127.0.0.1 base address whose next n ports were free a
// moment ago.
func freeBase(t testing.TB, n int) string {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{l}
		ok := base+n <= 65535
		for i := 1; i < n && ok; i++ {
			li, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, li)
		}
		for _, li := range ls {
			li.Close()
		}
		if ok {
			return fmt.Sprintf("127.0.0.1:%d", base)
		}
	}
	t.Fatal("no run of free ports")
	return ""
}

// checkGoroutines fails if more goroutines than before (plus slack) are
// still running a while after the test's stores closed.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	n := runtime.NumGoroutine()
	defer func() {
		if n > before+2 {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Logf("%d goroutines before, %d after Close:\n%s", before, n, goroutinesOf(string(buf), "gcs"))
		}
	}()
	testutil.Eventually(t, 3*time.Second, fmt.Sprintf("goroutines back to %d (+2)", before), func() bool {
		n = runtime.NumGoroutine()
		return n <= before+2
	})
}

func goroutinesOf(dump, pkg string) string {
	var out []string
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, pkg) || strings.Contains(g, "raft") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
