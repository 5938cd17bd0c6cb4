package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// With the same token on both ends a connection works; the token never
// appears on the wire.
func TestTokenSameOnBothEnds(t *testing.T) {
	token := []byte("s3cret-cluster-token")
	h := newTestHandler()
	s := startServer(t, h, Options{Token: token, NodeID: "server"})
	c := dial(t, s.Addr(), Options{Token: token, NodeID: "client"})
	reply, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, []byte("hi"))
	if err != nil || string(reply.Payload) != "hi" {
		t.Fatalf("call with the token: %v, %v", reply, err)
	}
	if c.Peer().NodeID != "server" {
		t.Errorf("peer %q", c.Peer().NodeID)
	}
}

// A client without the token, or with another, is refused at Hello with
// an error that says so; the server's OnHello never sees it and no
// request reaches a handler.
func TestTokenRefusesStrangers(t *testing.T) {
	var hellos atomic.Int64
	h := newTestHandler()
	s := startServer(t, h, Options{Token: []byte("right"), OnHello: func(*Peer) error { hellos.Add(1); return nil }})
	for name, opts := range map[string]Options{
		"no token":    {},
		"wrong token": {Token: []byte("wrong")},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Dial(ctx, s.Addr(), opts)
		cancel()
		if err == nil {
			t.Fatalf("%s: dial succeeded", name)
		}
		if !strings.Contains(err.Error(), "token") {
			t.Errorf("%s: the error does not name the token: %v", name, err)
		}
	}
	if n := hellos.Load(); n != 0 {
		t.Errorf("OnHello saw %d unauthenticated peers", n)
	}
	// The server counts a refusal after it has sent it.
	testutil.Eventually(t, 5*time.Second, "two connections rejected", func() bool { return s.Stats().Rejected == 2 })
}

// A client with a token does not talk to a server that cannot prove it
// (an impostor listening where a head should be).
func TestTokenClientChecksServer(t *testing.T) {
	for name, serverToken := range map[string][]byte{"no token": nil, "other token": []byte("other")} {
		s := startServer(t, newTestHandler(), Options{Token: serverToken})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Dial(ctx, s.Addr(), Options{Token: []byte("mine")})
		cancel()
		if err == nil {
			t.Fatalf("%s: a client with a token trusted a server without it", name)
		}
		if !errors.Is(err, ErrNoToken) && !errors.Is(err, ErrBadToken) && !strings.Contains(err.Error(), "token") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A raw client that sends a request instead of its proof is refused
// before the request is read as one.
func TestTokenRequestBeforeProofRefused(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, Options{Token: []byte("right")})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hello := HelloInfo{NodeID: "x", Nonce: bytes.Repeat([]byte{1}, nonceSize)}
	nc.Write(AppendFrame(nil, Hello, 0, 0, hello.Encode()))
	nc.Write(AppendFrame(nil, Heartbeat, 0, 0, []byte("forged")))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf [4096]byte
	for { // read until the server closes
		if _, err := nc.Read(buf[:]); err != nil {
			break
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) != 0 || h.oneway.Load() != 0 {
		t.Fatalf("a message of an unauthenticated client reached the handler: %q", h.got)
	}
}

// The proofs bind both nonces and the side: a proof of one connection
// or of the other side does not pass.
func TestProofsAreBound(t *testing.T) {
	tok := []byte("t")
	a, b := newNonce(), newNonce()
	if bytes.Equal(serverProof(tok, a, b), clientProof(tok, b, a)) {
		t.Fatal("server and client proofs coincide")
	}
	if bytes.Equal(serverProof(tok, a, b), serverProof(tok, a, newNonce())) {
		t.Fatal("a proof does not depend on the server's nonce")
	}
	if checkProof(nil, serverProof(tok, a, b)) != ErrNoToken || checkProof([]byte("x"), serverProof(tok, a, b)) != ErrBadToken {
		t.Fatal("checkProof")
	}
}

// FuzzServerHandshake feeds arbitrary bytes to a server that requires a
// token: it must never accept them as a peer or panic.
func FuzzServerHandshake(f *testing.F) {
	hello := HelloInfo{NodeID: "x", Nonce: bytes.Repeat([]byte{7}, nonceSize)}
	f.Add(AppendFrame(nil, Hello, 0, 0, hello.Encode()))
	f.Add(append(AppendFrame(nil, Hello, 0, 0, hello.Encode()), AppendFrame(nil, Hello, 0, 0, (&HelloInfo{Proof: []byte{1}}).Encode())...))
	f.Add([]byte{0, 0, 0, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var accepted atomic.Bool
		s := &Server{opts: Options{Token: []byte("right"), OnHello: func(*Peer) error { accepted.Store(true); return nil }}.withDefaults(), ctx: context.Background()}
		client, server := net.Pipe()
		go func() {
			client.Write(data)
			client.Close()
		}()
		go func() {
			var buf [512]byte
			for {
				if _, err := client.Read(buf[:]); err != nil {
					return
				}
			}
		}()
		if peer, err := s.handshake(newLink(server, nil, &s.opts)); err == nil || peer != nil || accepted.Load() {
			t.Fatalf("accepted a peer from %x", data)
		}
		server.Close()
	})
}

// Connections that never say Hello hold at most MaxHandshakesPerIP
// handshakes; the rest are closed at once, and once those idle ones go,
// a real client connects.
func TestSilentConnectionsBounded(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{MaxHandshakesPerIP: 4, HandshakeTimeout: time.Minute})
	var idle []net.Conn
	for range 10 {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, nc)
	}
	testutil.Eventually(t, 5*time.Second, "6 silent connections closed at once", func() bool { return s.Stats().Rejected == 6 })
	for _, nc := range idle {
		nc.Close()
	}
	testutil.Eventually(t, 5*time.Second, "a client connects once the silent ones are gone", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := Dial(ctx, s.Addr(), Options{})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
