package gcs

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
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
	s, err := newAuthStream("127.0.0.1:0", nil, []byte(token))
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
