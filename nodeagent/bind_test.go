package nodeagent

import (
	"net"
	"testing"
)

// OwnIP tells this machine's addresses (loopback, unspecified, its
// interfaces') from another machine's.
func TestOwnIP(t *testing.T) {
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"0.0.0.0", true},
		{"192.0.2.1", false}, // TEST-NET-1 (RFC 5737): no machine's
	} {
		got, err := OwnIP(net.ParseIP(c.ip))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("OwnIP(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
	if own := firstOwnAddress(); own != "" {
		if got, err := OwnIP(net.ParseIP(own)); err != nil || !got {
			t.Errorf("OwnIP(%s), an interface's address = %v, %v; want true", own, got, err)
		}
	}
}
