// Command loopback measures the floor under bench/transfer.sh: 100 MB
// sent over one loopback TCP connection from a child process to this
// one, a request byte before each transfer, from memory the sender
// filled once into memory the receiver faulted in once — plain sockets,
// no framing, no task, no allocation per transfer. `go run
// ./bench/loopback [-rounds N]` prints one JSON line per transfer (GB/s,
// 10^9 bytes/s), as the other benchmarks do.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

const size = 100_000_000

func main() {
	rounds := flag.Int("rounds", 5, "transfers")
	send := flag.String("send", "", "internal: be the sender, dialling this address")
	flag.Parse()
	if *send != "" {
		if err := sender(*send); err != nil {
			fmt.Fprintln(os.Stderr, "loopback sender:", err)
			os.Exit(1)
		}
		return
	}
	if err := receiver(*rounds); err != nil {
		fmt.Fprintln(os.Stderr, "loopback:", err)
		os.Exit(1)
	}
}

// sender writes size bytes, in 1 MiB writes, for every request byte.
func sender(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	var req [1]byte
	for {
		if _, err := io.ReadFull(c, req[:]); err != nil {
			return nil // the receiver is done
		}
		for off := 0; off < size; off += 1 << 20 {
			if _, err := c.Write(buf[off:min(off+1<<20, size)]); err != nil {
				return err
			}
		}
	}
}

// receiver starts the sender as a child process and times rounds
// transfers from the request to the last byte.
func receiver(rounds int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	child, err := os.StartProcess(exe, []string{exe, "-send", ln.Addr().String()}, &os.ProcAttr{Files: []*os.File{nil, os.Stdout, os.Stderr}})
	if err != nil {
		return err
	}
	defer child.Wait()
	c, err := ln.Accept()
	if err != nil {
		child.Kill()
		return err
	}
	defer c.Close()
	dst := make([]byte, size)
	for i := range dst {
		dst[i] = 1
	}
	for range rounds {
		t0 := time.Now()
		if _, err := c.Write([]byte{1}); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, dst); err != nil {
			return err
		}
		dt := time.Since(t0).Seconds()
		fmt.Printf("{\"bench\": \"loopback_tcp_100MB\", \"value\": %.3f, \"unit\": \"GB/s\", \"seconds\": %.6f}\n", size/dt/1e9, dt)
	}
	return nil
}
