package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/spf13/pflag"
)

// TLS on every port (spec/cluster.md#security): --tls-cert and --tls-key
// are this process's certificate and key, --tls-ca the CA that signs the
// cluster's certificates. With them a process encrypts its cluster port,
// the GCS's Raft connections and the HTTP API, and dials only servers
// that speak TLS. A server's certificate is checked against the address
// it is dialled at (so its SANs must cover every process's advertised
// address: an IP address or a host name), against --tls-ca's CA when
// given, else the system's roots. With --tls-ca both ends verify each
// other (mutual TLS): a server accepts only clients whose certificate the
// CA signed. Nothing skips verification.

// tlsFlags are a command's --tls-cert, --tls-key and --tls-ca.
type tlsFlags struct {
	cert, key, ca string
}

// tlsVars adds --tls-cert, --tls-key and --tls-ca to a command's flags.
func tlsVars(fs *pflag.FlagSet, f *tlsFlags) {
	fs.StringVar(&f.cert, "tls-cert", "", "encrypt every connection with TLS, with this process's certificate `FILE` (PEM; with --tls-key)")
	fs.StringVar(&f.key, "tls-key", "", "the private key `FILE` (PEM) of --tls-cert")
	fs.StringVar(&f.ca, "tls-ca", "", "the CA certificate `FILE` (PEM) that signs the cluster's certificates: both ends of every connection verify each other (mutual TLS)")
}

// given says whether any TLS flag was given.
func (f *tlsFlags) given() bool { return f.cert != "" || f.key != "" || f.ca != "" }

// config loads the files into one tls.Config for serving and dialling
// (nodeagent.Config.TLS); nil when no flag was given. A process that
// listens (needCert) must have a certificate; status, which only dials,
// may have the CA alone.
func (f *tlsFlags) config(needCert bool) (*tls.Config, error) {
	if !f.given() {
		return nil, nil
	}
	if (f.cert == "") != (f.key == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if needCert && f.cert == "" {
		return nil, errors.New("TLS needs this process's certificate: give --tls-cert and --tls-key (with --tls-ca)")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("cannot load --tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("cannot read --tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", f.ca)
		}
		cfg.RootCAs, cfg.ClientCAs = pool, pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// warnPlain prints one warning when a process listens on an address
// other than loopback without TLS.
func warnPlain(stderr io.Writer, bind string, cfg *tls.Config) {
	if cfg != nil || bind == "" || isLoopback(bind) {
		return
	}
	fmt.Fprintf(stderr, "warning: listening on %s without TLS: the cluster's traffic (programs, arguments, results) is not encrypted; give --tls-cert, --tls-key and --tls-ca to encrypt it\n", bind)
}

// isLoopback says whether host names this machine's loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
