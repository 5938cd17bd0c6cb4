package nodeagent

import (
	"net"
	"strconv"
)

// Which address a process advertises.
//
// A process serves the cluster protocol on the address it listens on and
// tells the others (heads, owners of tasks, fetchers of objects) where
// it is: that is the address they dial. A listener bound to every
// interface (0.0.0.0 or ::) cannot be dialled at that address from
// another machine, so the process advertises one of its own addresses
// instead: the one it reaches its heads from, or, for a first head,
// its first address that is not a loopback one.

// AdvertiseHost is the host a process listening on bind tells the others
// to dial. For a specific bind address that is the address itself; for
// an unspecified one (empty, 0.0.0.0, ::), the local address of the
// route to the first of heads that resolves, else the first
// non-loopback address of this machine's interfaces, else 127.0.0.1.
func AdvertiseHost(bind string, heads []string) string {
	ip := net.ParseIP(bind)
	if bind != "" && (ip == nil || !ip.IsUnspecified()) {
		return bind
	}
	for _, h := range heads {
		if local := routeTo(h); local != "" {
			return local
		}
	}
	if own := firstOwnAddress(); own != "" {
		return own
	}
	return "127.0.0.1"
}

// routeTo is this machine's address on the route to addr (host:port),
// or "" if there is none. Connecting a UDP socket sends nothing.
func routeTo(addr string) string {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return ""
	}
	defer conn.Close()
	local, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || local.IP.IsUnspecified() {
		return ""
	}
	return local.IP.String()
}

// firstOwnAddress is the first global unicast address of the machine's
// interfaces, IPv4 before IPv6; "" if there is none.
func firstOwnAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	return v6
}

// OwnIP reports whether ip is this machine's: a loopback or unspecified
// address, or the address of one of its interfaces. It fails when the
// interfaces cannot be listed.
func OwnIP(ip net.IP) (bool, error) {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true, nil
		}
	}
	return false, nil
}

// advertised is the address a process that listens at listening (as
// the listener reports it) tells the others: its port at
// AdvertiseHost's host when it listens on every interface.
func advertised(listening string, heads []string) string {
	host, port, err := net.SplitHostPort(listening)
	if err != nil {
		return listening
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
		return listening
	}
	return net.JoinHostPort(AdvertiseHost("", heads), port)
}

// driverListen is where a driver listens: any port at bind, or, when
// bind is empty, at the address this machine reaches the first head
// from (127.0.0.1 for heads on this machine; the interface towards them
// for heads elsewhere, where nodes reach the driver back), else
// 127.0.0.1.
func driverListen(bind string, heads []string) string {
	if bind == "" {
		bind = "127.0.0.1"
		for _, h := range heads {
			if local := routeTo(h); local != "" {
				bind = local
				break
			}
		}
	}
	return net.JoinHostPort(bind, strconv.Itoa(0))
}

// ConnectDriverAt is ConnectDriver with the driver listening at bind (a
// host: an interface address, or 0.0.0.0 for all; empty for the
// interface it reaches the heads from), so that nodes on other machines
// can send it results.
func ConnectDriverAt(heads []string, bind string, cfg Config) (*Cluster, error) {
	cfg.Net = &NetConfig{Listen: driverListen(bind, heads), Heads: heads, Driver: true}
	cfg.CPUs = 0
	if cfg.NodeID == "" {
		cfg.NodeID = "driver"
	}
	return NewCluster(cfg)
}
