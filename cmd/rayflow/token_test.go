package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A head creates DATA_DIR/token (0600) on its first start and keeps it.
func TestHeadTokenCreatedOnceInDataDir(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := filepath.Join(t.TempDir(), "data")
	first, _, err := headToken("", dir, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, tokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, fi.Mode())
	}
	again, _, err := headToken("", dir, "")
	if err != nil || string(again) != string(first) || len(first) != 64 {
		t.Fatalf("second start: %q vs %q, %v", again, first, err)
	}
}

// --token-file wins over RAYFLOW_TOKEN, which wins over the data dir and
// the local heads.
func TestTokenOrder(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	file := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	t.Setenv(tokenEnv, "from-env")
	if tok, _, _ := headToken(file, t.TempDir(), ""); string(tok) != "from-file" {
		t.Errorf("head with --token-file: %q", tok)
	}
	if tok, _, _ := headToken("", t.TempDir(), ""); string(tok) != "from-env" {
		t.Errorf("head with %s: %q", tokenEnv, tok)
	}
	withdraw, _, err := publishHeadToken(7777, []byte("from-head"))
	if err != nil {
		t.Fatal(err)
	}
	defer withdraw()
	if tok, _, _ := clientToken("", []string{"127.0.0.1:7777"}); string(tok) != "from-env" {
		t.Errorf("client with %s: %q", tokenEnv, tok)
	}
	t.Setenv(tokenEnv, "")
	if tok, _, _ := clientToken("", []string{"127.0.0.1:7777"}); string(tok) != "from-head" {
		t.Errorf("client finding the local head: %q", tok)
	}
	if tok, _, _ := clientToken("", []string{"127.0.0.1:7778"}); tok != nil {
		t.Errorf("a head on another port gave %q", tok)
	}
	if tok, _, _ := clientToken("", []string{"192.0.2.1:7777"}); tok != nil {
		t.Errorf("a head on another machine gave %q", tok)
	}
	withdraw()
	if tok, _, _ := clientToken("", []string{"127.0.0.1:7777"}); tok != nil {
		t.Errorf("a stopped head still gives %q", tok)
	}
}

// An empty token file is an error, not an empty token.
func TestEmptyTokenFileRefused(t *testing.T) {
	t.Setenv(tokenEnv, "")
	file := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(file, []byte(" \n"), 0o600)
	if _, _, err := clientToken(file, nil); err == nil {
		t.Fatal("an empty token file was accepted")
	}
}

// A head given RAYFLOW_TOKEN keeps it in DATA_DIR/token, where the next
// start and any reader find the token it serves with.
func TestHeadTokenFromEnvKept(t *testing.T) {
	t.Setenv(tokenEnv, "env-token")
	dir := t.TempDir()
	if tok, _, err := headToken("", dir, ""); err != nil || string(tok) != "env-token" {
		t.Fatalf("%q, %v", tok, err)
	}
	t.Setenv(tokenEnv, "")
	if tok, _, err := headToken("", dir, ""); err != nil || string(tok) != "env-token" {
		t.Fatalf("after a restart without the variable: %q, %v", tok, err)
	}
}

// A head that joins a head on this machine, given no token, takes the
// token that head published and keeps it in DATA_DIR/token; once kept,
// DATA_DIR/token wins over the joined head's.
func TestJoiningHeadTakesTheLocalHeadsToken(t *testing.T) {
	t.Setenv(tokenEnv, "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	withdraw, _, err := publishHeadToken(47001, []byte("joined-token"))
	if err != nil {
		t.Fatal(err)
	}
	defer withdraw()
	dir := filepath.Join(t.TempDir(), "data")
	if tok, _, err := headToken("", dir, "127.0.0.1:47001"); err != nil || string(tok) != "joined-token" {
		t.Fatalf("joining: %q, %v", tok, err)
	}
	if tok, err := readTokenFile(filepath.Join(dir, tokenFileName)); err != nil || string(tok) != "joined-token" {
		t.Fatalf("DATA_DIR/token after joining: %q, %v", tok, err)
	}
	publishHeadToken(47001, []byte("republished"))
	if tok, _, err := headToken("", dir, "127.0.0.1:47001"); err != nil || string(tok) != "joined-token" {
		t.Fatalf("a restart with DATA_DIR/token: %q, %v", tok, err)
	}
	if tok, _, err := headToken("", "", "127.0.0.1:47001"); err != nil || string(tok) != "republished" {
		t.Fatalf("joining without a data directory: %q, %v", tok, err)
	}
}

// Commands given no --address find the head on this machine: the one on
// the default port, else the only one; none when there is none, or
// several and none on the default port.
func TestLocalHeadAddress(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if addr, ok := localHeadAddress(); ok {
		t.Fatalf("no head running, found %q", addr)
	}
	publish := func(port int) {
		withdraw, _, err := publishHeadToken(port, []byte("tok"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(withdraw)
	}
	publish(47002)
	publishHTTPToken(47003, []byte("tok")) // an HTTP port is not a head's address
	if addr, ok := localHeadAddress(); !ok || addr != "127.0.0.1:47002" {
		t.Fatalf("the only head: %q %v", addr, ok)
	}
	publish(47004)
	if addr, ok := localHeadAddress(); ok {
		t.Fatalf("two heads, none on the default port: found %q", addr)
	}
	publish(DefaultHeadPort)
	if addr, ok := localHeadAddress(); !ok || addr != fmt.Sprintf("127.0.0.1:%d", DefaultHeadPort) {
		t.Fatalf("with a head on the default port: %q %v", addr, ok)
	}
}
