package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// TLS (Options.TLS): when a process has a TLS configuration, every
// connection it accepts and every one it dials runs inside TLS, set up
// before Hello; the token's proof at Hello then runs inside it. One
// tls.Config serves both ways: its Certificates are this process's own
// (served to clients, and shown to servers that ask for one), RootCAs
// verify servers and ClientCAs with ClientAuth verify clients (mutual
// TLS). A dialled server's certificate must name the address dialled:
// its IP address, or its host name, as a SAN.

// ErrNotTLS says the other side of a connection does not speak TLS
// while this side does.
var ErrNotTLS = errors.New("the other side does not speak TLS")

// secureServer runs the server's side of TLS on an accepted connection.
// A client that does not speak TLS is answered, in plain, with an Error
// frame saying that the port needs TLS, so that its Dial says why.
func (s *Server) secureServer(nc net.Conn) (net.Conn, error) {
	if s.opts.TLS == nil {
		return nc, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.HandshakeTimeout)
	defer cancel()
	tc := tls.Server(nc, s.opts.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && rh.Conn != nil {
			msg := "refused: this cluster port needs TLS (--tls-cert, --tls-key and --tls-ca)"
			rh.Conn.Write(AppendFrame(nil, Error, 0, 0, encodeError(CodeRefused, msg)))
		}
		return nil, err
	}
	return tc, nil
}

// secureClient runs the client's side of TLS on a connection dialled to
// addr, checking the server's certificate against addr's host.
func secureClient(ctx context.Context, nc net.Conn, addr string, cfg *tls.Config) (net.Conn, error) {
	if cfg == nil {
		return nc, nil
	}
	tc := tls.Client(nc, clientTLS(cfg, addr))
	if err := tc.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			return nil, fmt.Errorf("%w (is it started without --tls-cert?)", ErrNotTLS)
		}
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return tc, nil
}

// clientTLS is cfg for a connection to addr: the server's certificate
// must name addr's host.
func clientTLS(cfg *tls.Config, addr string) *tls.Config {
	c := cfg.Clone()
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		c.ServerName = host
	}
	return c
}
