// Command tlscerts makes a throwaway CA and certificates it signs for
// 127.0.0.1, for benchmarks of rayflow with TLS (bench/cluster.sh,
// TLS_DIR): `go run ./bench/tlscerts DIR NAME...` writes DIR/ca.pem and,
// per NAME, DIR/NAME.pem and DIR/NAME-key.pem. Never use them for anything
// but a benchmark.
package main

import (
	"fmt"
	"os"

	"github.com/rayflow/rayflow/internal/tlstest"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/tlscerts DIR NAME...")
		os.Exit(2)
	}
	if err := os.MkdirAll(os.Args[1], 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := tlstest.Write(os.Args[1], os.Args[2:]...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
