package gcs

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rayflow/rayflow/internal/tlstest"
)

// acceptOne returns the next connection of s, read in full by the caller.
func acceptOne(t *testing.T, s *authStream) chan net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := s.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	return ch
}

func newTestAuthStream(t *testing.T, token string) *authStream {
	t.Helper()
	s, err := newAuthStream("127.0.0.1:0", nil, []byte(token), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Replicas with the same token talk; what the dialer writes after the
// handshake is what the acceptor reads.
func TestAuthStreamSameToken(t *testing.T) {
	a, b := newTestAuthStream(t, "tok"), newTestAuthStream(t, "tok")
	accepted := acceptOne(t, b)
	got := make(chan string, 1)
	go func() { // as Raft does: it reads an accepted connection at once
		conn := <-accepted
		buf := make([]byte, len("append entries"))
		_, err := io.ReadFull(conn, buf)
		got <- string(buf) + errString(err)
	}()
	c, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("append entries"))
	if s := <-got; s != "append entries" {
		t.Fatalf("read %q", s)
	}
}

// A replica with another token cannot dial, and the acceptor reads
// nothing from it.
func TestAuthStreamWrongToken(t *testing.T) {
	a, b := newTestAuthStream(t, "mine"), newTestAuthStream(t, "theirs")
	accepted := acceptOne(t, b)
	go func() { // the acceptor's side runs on first use
		conn := <-accepted
		conn.Read(make([]byte, 1))
	}()
	if _, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second); err == nil {
		t.Fatal("dialled a replica with another token")
	}
}

// A stranger who writes Raft bytes straight away is cut off before Raft
// reads any of them.
func TestAuthStreamStrangerGetsNothingIn(t *testing.T) {
	b := newTestAuthStream(t, "tok")
	accepted := acceptOne(t, b)
	raw, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.Write(bytes.Repeat([]byte{0, 1, 2, 3}, 64)) // an rpcAppendEntries frame, say
	conn := <-accepted
	n, err := conn.Read(make([]byte, 256))
	if n != 0 || err == nil {
		t.Fatalf("Raft read %d bytes of a stranger (%v)", n, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// newTLSAuthStreams returns two replicas' stream layers with the token
// and certificates of one CA, and a third with the token but no TLS.
func newTLSAuthStreams(t *testing.T) (a, b, plain *authStream) {
	t.Helper()
	certs, err := tlstest.Write(t.TempDir(), "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		cfg, err := certs.Config(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newAuthStream("127.0.0.1:0", nil, []byte("tok"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if i == 0 {
			a = s
		} else {
			b = s
		}
	}
	return a, b, newTestAuthStream(t, "tok")
}

// With TLS, replicas talk inside it: what the dialer writes is what the
// acceptor reads, and the bytes on the wire are not the plain text.
func TestAuthStreamTLS(t *testing.T) {
	a, b, _ := newTLSAuthStreams(t)
	accepted := acceptOne(t, b)
	got := make(chan string, 1)
	go func() {
		conn := <-accepted
		buf := make([]byte, len("append entries"))
		_, err := io.ReadFull(conn, buf)
		got <- string(buf) + errString(err)
	}()
	c, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*tls.Conn); !ok {
		t.Fatalf("dialled a %T, not a TLS connection", c)
	}
	c.Write([]byte("append entries"))
	if s := <-got; s != "append entries" {
		t.Fatalf("read %q", s)
	}
}

// A replica with the token but without TLS cannot dial a TLS replica,
// and one with TLS cannot dial a plain one.
func TestAuthStreamTLSRefusesPlain(t *testing.T) {
	a, b, plain := newTLSAuthStreams(t)
	byTLS := acceptOne(t, b)
	go func() {
		conn := <-byTLS
		conn.Read(make([]byte, 1))
	}()
	if _, err := plain.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second); err == nil {
		t.Fatal("a replica without TLS dialled one with TLS")
	}
	byPlain := acceptOne(t, plain)
	go func() {
		conn := <-byPlain
		conn.Read(make([]byte, 1))
	}()
	if _, err := a.Dial(raft.ServerAddress(plain.Addr().String()), 5*time.Second); err == nil {
		t.Fatal("a replica with TLS dialled one without it")
	}
}
