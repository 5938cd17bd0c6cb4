package gcs

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// authStream is the Raft transport's stream layer when the cluster has a
// token: every connection between replicas starts with a handshake in
// which both ends prove they know the token, without sending it (HMAC
// over both ends' nonces, as the cluster transport does at Hello). A
// stranger who reaches a Raft port can neither append, vote nor install a
// snapshot: its connection ends before Raft reads a byte of it.
//
//	dialer → acceptor: authMagic, dialer nonce (32 bytes)
//	acceptor → dialer: acceptor nonce (32), proof over (dialer, acceptor nonces)
//	dialer → acceptor: proof over (acceptor, dialer nonces)
//
// The acceptor runs its side on the connection's first Read or Write, on
// Raft's goroutine for that connection, so a silent stranger holds no
// one's Accept; it has authHandshakeTimeout to finish.
//
// With a TLS configuration, every connection runs inside TLS first (the
// acceptor's side also on first use), and the token's handshake inside
// it; without a token, TLS alone.
type authStream struct {
	ln        net.Listener
	advertise net.Addr
	token     []byte
	tls       *tls.Config // nil: plain TCP
}

const (
	authMagic            = "rayflow-raft-1\n"
	authNonceSize        = 32
	authHandshakeTimeout = 5 * time.Second
)

// errRaftAuth is why a handshake failed on the acceptor's side.
var errRaftAuth = errors.New("gcs: a Raft peer did not prove the cluster token")

// newAuthStream listens on bind for Raft connections that prove token,
// inside TLS with tlsCfg when it is set.
func newAuthStream(bind string, advertise net.Addr, token []byte, tlsCfg *tls.Config) (*authStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	return &authStream{ln: ln, advertise: advertise, token: token, tls: tlsCfg}, nil
}

// Accept returns the next connection; its handshake runs on first use.
func (s *authStream) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	if s.tls != nil {
		c = tls.Server(c, s.tls) // its handshake runs in acceptedConn.handshake's deadline
	}
	return &acceptedConn{Conn: c, token: s.token}, nil
}

func (s *authStream) Close() error { return s.ln.Close() }

func (s *authStream) Addr() net.Addr {
	if s.advertise != nil {
		return s.advertise
	}
	return s.ln.Addr()
}

// Dial connects to another replica and proves the token to it.
func (s *authStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(min(timeout, authHandshakeTimeout)))
	if s.tls != nil {
		tc := tls.Client(c, raftClientTLS(s.tls, string(addr)))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, fmt.Errorf("gcs: TLS with Raft replica %s: %w", addr, err)
		}
		c = tc
	}
	if err := dialerHandshake(c, s.token); err != nil {
		c.Close()
		return nil, fmt.Errorf("gcs: Raft handshake with %s: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// raftClientTLS is cfg for dialling the replica at addr: its
// certificate must name addr's host.
func raftClientTLS(cfg *tls.Config, addr string) *tls.Config {
	c := cfg.Clone()
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	return c
}

func dialerHandshake(c net.Conn, token []byte) error {
	if len(token) == 0 {
		return nil // TLS alone
	}
	mine := make([]byte, authNonceSize)
	rand.Read(mine)
	if _, err := c.Write(append([]byte(authMagic), mine...)); err != nil {
		return err
	}
	reply := make([]byte, authNonceSize+sha256.Size)
	if _, err := io.ReadFull(c, reply); err != nil {
		return fmt.Errorf("the replica closed the connection (does it have this cluster's token?): %w", err)
	}
	theirs, proof := reply[:authNonceSize], reply[authNonceSize:]
	if !hmac.Equal(proof, raftProof(token, "acceptor", mine, theirs)) {
		return errors.New("the replica does not know the cluster token")
	}
	_, err := c.Write(raftProof(token, "dialer", theirs, mine))
	return err
}

func raftProof(token []byte, side string, a, b []byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte("rayflow raft " + side + " proof v1"))
	m.Write(a)
	m.Write(b)
	return m.Sum(nil)
}

// acceptedConn is an accepted connection that authenticates its peer
// before the first byte either way.
type acceptedConn struct {
	net.Conn
	token []byte
	once  sync.Once
	err   error
}

func (c *acceptedConn) handshake() error {
	c.once.Do(func() {
		c.Conn.SetDeadline(time.Now().Add(authHandshakeTimeout))
		defer c.Conn.SetDeadline(time.Time{})
		if tc, ok := c.Conn.(*tls.Conn); ok {
			if err := tc.Handshake(); err != nil {
				c.err = errRaftAuth // not TLS, or no certificate of the cluster's CA
				return
			}
		}
		if len(c.token) == 0 {
			return // TLS alone
		}
		magic := make([]byte, len(authMagic))
		theirs := make([]byte, authNonceSize)
		if _, err := io.ReadFull(c.Conn, magic); err != nil || string(magic) != authMagic {
			c.err = errRaftAuth // a stranger speaking Raft at once is cut off here
			return
		}
		if _, err := io.ReadFull(c.Conn, theirs); err != nil {
			c.err = errRaftAuth
			return
		}
		mine := make([]byte, authNonceSize)
		rand.Read(mine)
		if _, err := c.Conn.Write(append(mine, raftProof(c.token, "acceptor", theirs, mine)...)); err != nil {
			c.err = err
			return
		}
		proof := make([]byte, sha256.Size)
		if _, err := io.ReadFull(c.Conn, proof); err != nil || !hmac.Equal(proof, raftProof(c.token, "dialer", mine, theirs)) {
			c.err = errRaftAuth
		}
	})
	if c.err != nil {
		c.Conn.Close()
	}
	return c.err
}

func (c *acceptedConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *acceptedConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
