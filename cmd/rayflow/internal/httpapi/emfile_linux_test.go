package httpapi

import (
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// Out of file descriptors, the API stops accepting for a while but not
// for good: once the connections that used them up are gone, it answers
// again (fasthttp alone ended its accept loop at the first EMFILE).
func TestSurvivesRunningOutOfDescriptors(t *testing.T) {
	api := startAPI(t, Options{})

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	open := openDescriptors(t)
	low := syscall.Rlimit{Cur: uint64(open + 60), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)

	// Each idle connection costs this process two descriptors (both
	// ends): 60 spare ones are gone after ~30, and the server's accepts
	// fail with EMFILE.
	var idle []net.Conn
	for range 200 {
		c, err := net.DialTimeout("tcp", api.Addr(), time.Second)
		if err != nil {
			break
		}
		idle = append(idle, c)
	}
	if len(idle) == 200 {
		t.Fatal("the descriptor limit did not bite")
	}
	for _, c := range idle {
		c.Close()
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	testutil.Eventually(t, 10*time.Second, "the API answers again", func() bool {
		// A path the API answers itself (404), without asking the head,
		// which shares this process's descriptors.
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + api.Addr() + "/no-such-page")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 404
	})
}

// openDescriptors counts this process's open file descriptors.
func openDescriptors(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(entries)
}
