package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/internal/tlstest"
)

// tlsOptions returns mutual-TLS options for a server and a client of one
// CA, both with token.
func tlsOptions(t testing.TB, token []byte) (server, client Options) {
	t.Helper()
	certs, err := tlstest.Write(t.TempDir(), "server", "client")
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := certs.Config("server")
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := certs.Config("client")
	if err != nil {
		t.Fatal(err)
	}
	return Options{NodeID: "server", Token: token, TLS: scfg}, Options{NodeID: "client", Token: token, TLS: ccfg}
}

// recordingDialer dials and keeps every byte the client writes.
type recordingConn struct {
	net.Conn
	wrote *bytes.Buffer
}

func (c recordingConn) Write(p []byte) (int, error) {
	c.wrote.Write(p)
	return c.Conn.Write(p)
}

// Over TLS, requests and replies (a stream too) cross as over TCP, the
// token's proof runs inside TLS, and none of the payload is on the wire
// in the clear.
func TestTLSCarriesFrames(t *testing.T) {
	sopts, copts := tlsOptions(t, []byte("tok"))
	s := startServer(t, newTestHandler(), sopts)
	c := dial(t, s.Addr(), copts)
	secret := []byte("a secret argument, never on the wire in the clear")
	reply, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, secret)
	if err != nil || !bytes.Equal(reply.Payload, secret) {
		t.Fatalf("call over TLS: %v, %v", reply, err)
	}
	if c.Peer().NodeID != "server" {
		t.Errorf("peer %q", c.Peer().NodeID)
	}
	var got bytes.Buffer
	if err := c.CallStream(ctxT(t, 5*time.Second), FetchObject, uvarintPayload(3<<20), &got); err != nil || got.Len() != 3<<20 {
		t.Fatalf("stream over TLS: %d bytes, %v", got.Len(), err)
	}

	// What a client writes on the wire is TLS records, not frames.
	var wire bytes.Buffer
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	rc := recordingConn{Conn: nc, wrote: &wire}
	ctx := ctxT(t, 5*time.Second)
	tc, err := secureClient(ctx, rc, s.Addr(), copts.TLS)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := clientHandshake(ctx, tc, &copts); err != nil {
		t.Fatal(err)
	}
	tc.Write(AppendFrame(nil, SubmitTask, 0, 1, secret))
	tc.Close()
	if bytes.Contains(wire.Bytes(), secret) || bytes.Contains(wire.Bytes(), []byte("client")) {
		t.Fatal("the payload or the Hello crossed the wire in the clear")
	}
}

// uvarintPayload encodes n as FetchObject's request (testHandler).
func uvarintPayload(n uint64) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// A client without TLS, even with the token, is refused with an error
// that says the port needs TLS; plain TCP gets nothing served, and a raw
// frame reaches no handler.
func TestTLSRefusesPlainClients(t *testing.T) {
	var hellos atomic.Int64
	sopts, _ := tlsOptions(t, []byte("tok"))
	sopts.OnHello = func(*Peer) error { hellos.Add(1); return nil }
	h := newTestHandler()
	s := startServer(t, h, sopts)
	_, err := Dial(ctxT(t, 5*time.Second), s.Addr(), Options{Token: []byte("tok")})
	if err == nil || !strings.Contains(err.Error(), "needs TLS") {
		t.Fatalf("a plain client: %v", err)
	}

	// Plain TCP: a Hello and a request; what comes back is at most the
	// refusal, never a reply.
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	hello := HelloInfo{NodeID: "stranger"}
	nc.Write(AppendFrame(nil, Hello, 0, 0, hello.Encode()))
	nc.Write(AppendFrame(nil, Heartbeat, 0, 0, []byte("x")))
	got, _ := io.ReadAll(nc) // until the server closes
	m, ferr := ReadFrame(bufio.NewReader(bytes.NewReader(got)), DefaultMaxFrameSize)
	if ferr != nil || m.Type != Error {
		t.Fatalf("plain TCP got %q (%v), not a refusal", got, ferr)
	}
	if n := hellos.Load(); n != 0 {
		t.Errorf("OnHello saw %d plain peers", n)
	}
	if h.oneway.Load() != 0 {
		t.Error("a plain frame reached the handler")
	}
	testutil.Eventually(t, 5*time.Second, "two connections rejected", func() bool { return s.Stats().Rejected == 2 })
}

// A TLS client does not talk to a plain server, and says why.
func TestTLSClientRefusesPlainServer(t *testing.T) {
	_, copts := tlsOptions(t, []byte("tok"))
	s := startServer(t, newTestHandler(), Options{Token: []byte("tok")})
	_, err := Dial(ctxT(t, 5*time.Second), s.Addr(), copts)
	if !errors.Is(err, ErrNotTLS) {
		t.Fatalf("a TLS client to a plain server: %v", err)
	}
}

// With mutual TLS, a client whose certificate another CA signed is
// refused, though it has the token.
func TestTLSRefusesForeignCertificates(t *testing.T) {
	sopts, _ := tlsOptions(t, []byte("tok"))
	s := startServer(t, newTestHandler(), sopts)
	_, foreign := tlsOptions(t, []byte("tok"))
	if _, err := Dial(ctxT(t, 5*time.Second), s.Addr(), foreign); err == nil {
		t.Fatal("a client of another CA connected")
	}
}

// The cost of TLS on a call: BenchmarkCallParallel and a round trip with
// and without it (go test -bench 'Call(Parallel|RoundTrip)(TLS)?$').
func BenchmarkCallRoundTripTLS(b *testing.B) {
	sopts, copts := tlsOptions(b, []byte("tok"))
	s := startServer(b, newTestHandler(), sopts)
	c := dial(b, s.Addr(), copts)
	ctx := context.Background()
	payload := make([]byte, 64)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Call(ctx, SubmitTask, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallParallelTLS(b *testing.B) {
	sopts, copts := tlsOptions(b, []byte("tok"))
	s := startServer(b, newTestHandler(), sopts)
	c := dial(b, s.Addr(), copts)
	ctx := context.Background()
	payload := make([]byte, 64)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, SubmitTask, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
