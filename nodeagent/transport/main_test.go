package transport

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// TestMain fails the run if goroutines of this package outlive the tests:
// every goroutine has an owner that stops it.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			leaked := strings.Count(stacks, "nodeagent/transport.(*")
			if leaked == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", stacks)
				code = 1
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.Exit(code)
}

func TestHandshakeStallDoesNotBlockClose(t *testing.T) {
	s, err := Listen("", newTestHandler(), Options{ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rawConn(t, s.Addr(), false) // connects, never says Hello
	testutil.Eventually(t, 5*time.Second, "the silent connection accepted", func() bool { return s.Stats().Accepted == 1 })
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close waited %v for a silent connection", d)
	}
}
