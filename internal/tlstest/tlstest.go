package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files are where Write put a CA and the certificates it signed.
type Files struct {
	CA    string            // the CA's certificate (PEM)
	Cert  map[string]string // name -> certificate (PEM)
	Key   map[string]string // name -> private key (PEM)
	CAKey *ecdsa.PrivateKey // the CA's key, to sign more (Sign)
	caCrt *x509.Certificate
	dir   string
}

// Write makes a CA in dir (ca.pem) and, for each name, a certificate it
// signs (NAME.pem) and its key (NAME-key.pem), all for 127.0.0.1 and
// localhost.
func Write(dir string, names ...string) (*Files, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rayflow test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	f := &Files{CA: filepath.Join(dir, "ca.pem"), Cert: map[string]string{}, Key: map[string]string{},
		CAKey: key, caCrt: crt, dir: dir}
	if err := writePEM(f.CA, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := f.Sign(n); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Sign makes a certificate signed by the CA for name, as Write does.
func (f *Files) Sign(name string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.caCrt, &key.PublicKey, f.CAKey)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	cert, keyPath := filepath.Join(f.dir, name+".pem"), filepath.Join(f.dir, name+"-key.pem")
	if err := writePEM(cert, "CERTIFICATE", der); err != nil {
		return err
	}
	if err := writePEM(keyPath, "EC PRIVATE KEY", kder); err != nil {
		return err
	}
	f.Cert[name], f.Key[name] = cert, keyPath
	return nil
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("tlstest: %w", err)
	}
	return nil
}

// Config is name's mutual-TLS configuration, as `rayflow start
// --tls-cert --tls-key --tls-ca` builds it: its certificate, the CA to
// verify servers with, and client certificates required of the CA.
func (f *Files) Config(name string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(f.Cert[name], f.Key[name])
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(f.caCrt)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair},
		RootCAs: pool, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}
