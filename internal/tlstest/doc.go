// Package tlstest makes a throwaway certificate authority and
// certificates it signs, for tests and benchmarks of rayflow's TLS: ECDSA
// P-256 keys, certificates for 127.0.0.1 and localhost, valid for a day,
// good for both server and client authentication. It holds no state;
// any goroutine may call it. Never use its certificates for anything but
// a test.
package tlstest
