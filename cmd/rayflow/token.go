package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rayflow/rayflow/nodeagent"
	"github.com/spf13/pflag"
)

// The cluster token (DESIGN.md, Security): every port of a cluster
// authenticates its peers with it. A head takes it from --token-file,
// else RAYFLOW_TOKEN, else DATA_DIR/token, which it creates (mode 0600)
// on its first start; a head without --data-dir makes a new one each
// start. Every other command takes --token-file, else RAYFLOW_TOKEN,
// else the token of a head found on this machine: each head publishes
// its token, while it runs, in this user's directory of local heads
// (localHeadsDir), under its port.

// tokenEnv is the environment variable that holds the cluster token.
const tokenEnv = "RAYFLOW_TOKEN"

// tokenFileName is the token's file in a head's data directory.
const tokenFileName = "token"

// headToken returns the token a head serves with and where it came from:
// --token-file, else RAYFLOW_TOKEN, else DATA_DIR/token, else the token
// of the head it joins when that head runs on this machine, else a new
// one. A token not given by --token-file is kept in DATA_DIR/token.
func headToken(tokenFile, dataDir, join string) (token []byte, from string, err error) {
	if tokenFile != "" {
		return givenToken(tokenFile)
	}
	if os.Getenv(tokenEnv) != "" {
		t, from, err := givenToken("")
		if err != nil {
			return nil, "", err
		}
		return keepToken(dataDir, t, from)
	}
	if dataDir != "" {
		path := filepath.Join(dataDir, tokenFileName)
		if t, err := readTokenFile(path); err == nil {
			return t, path, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
	}
	if join != "" {
		if t, path := localHeadToken(join); t != nil {
			return keepToken(dataDir, t, path)
		}
	}
	return keepToken(dataDir, newToken(), "")
}

// clientToken returns the token a command uses to reach the cluster at
// addrs, and where it came from; nil when it found none (a cluster that
// needs one then refuses, and the command says how to give it).
func clientToken(tokenFile string, addrs []string) (token []byte, from string, err error) {
	if tokenFile != "" || os.Getenv(tokenEnv) != "" {
		return givenToken(tokenFile)
	}
	for _, addr := range addrs {
		if t, path := localHeadToken(addr); t != nil {
			return t, path, nil
		}
	}
	return nil, "", nil
}

// givenToken reads --token-file when it is set, else RAYFLOW_TOKEN.
func givenToken(tokenFile string) ([]byte, string, error) {
	if tokenFile != "" {
		t, err := readTokenFile(tokenFile)
		if err != nil {
			return nil, "", fmt.Errorf("--token-file: %w", err)
		}
		return t, tokenFile, nil
	}
	t := []byte(strings.TrimSpace(os.Getenv(tokenEnv)))
	if len(t) == 0 {
		return nil, "", fmt.Errorf("%s is set but empty", tokenEnv)
	}
	return t, tokenEnv, nil
}

// readTokenFile reads a token file: its content without surrounding
// white space, which must not be empty.
func readTokenFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := []byte(strings.TrimSpace(string(b)))
	if len(t) == 0 {
		return nil, fmt.Errorf("the token file %s is empty", path)
	}
	return t, nil
}

// newToken returns a random token: 32 bytes, in hex.
func newToken() []byte {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("no randomness for a token: %v", err)) // crypto/rand does not fail on supported systems
	}
	return []byte(hex.EncodeToString(b[:]))
}

// localHeadsDir is where the heads of this user on this machine publish
// their tokens: $XDG_RUNTIME_DIR/rayflow, else rayflow-UID in the
// temporary directory; mode 0700.
func localHeadsDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "rayflow")
	}
	return filepath.Join(os.TempDir(), "rayflow-"+strconv.Itoa(os.Getuid()))
}

// publishHeadToken makes a head's token findable on this machine while
// it runs, under its port; the returned function withdraws it, and path
// is the file that holds it.
func publishHeadToken(port int, token []byte) (withdraw func(), path string, err error) {
	return publishToken(fmt.Sprintf("head-%d.token", port), token)
}

// publishHTTPToken publishes a head's token under the port of its HTTP
// API too, for the commands that talk to it (`rayflow job --address
// http://HOST:PORT`).
func publishHTTPToken(port int, token []byte) (withdraw func(), path string, err error) {
	return publishToken(fmt.Sprintf("http-%d.token", port), token)
}

// publishToken writes token to name in this user's directory of local
// heads.
func publishToken(name string, token []byte) (withdraw func(), path string, err error) {
	dir := localHeadsDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 || !ownedByMe(fi) {
		return nil, "", fmt.Errorf("%s is not a private directory of this user", dir)
	}
	path = filepath.Join(dir, name)
	if err := writeFileAtomic(path, append(append([]byte(nil), token...), '\n'), 0o600); err != nil {
		return nil, "", err
	}
	return func() { os.Remove(path) }, path, nil
}

// localHeadToken finds the token a head on this machine published for
// the port of addr, when addr's host is this machine: its cluster port,
// or its HTTP port when addr is http:// or https://.
func localHeadToken(addr string) ([]byte, string) {
	kind := "head-"
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		kind = "http-"
	}
	host, port, err := net.SplitHostPort(strings.TrimRight(strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://"), "/"))
	if err != nil || !isLocalHost(host) {
		return nil, ""
	}
	path := filepath.Join(localHeadsDir(), kind+port+".token")
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) {
		return nil, ""
	}
	t, err := readTokenFile(path)
	if err != nil {
		return nil, ""
	}
	return t, path
}

// isLocalHost reports whether host names this machine: a loopback name
// or address, or an address of one of its interfaces.
func isLocalHost(host string) bool {
	if host == "localhost" || host == "" {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	own, err := nodeagent.OwnIP(ip)
	return own && err == nil
}

// writeFileAtomic writes a file by renaming a complete temporary file
// into place, so a reader never sees half of it.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// tokenFileVar adds --token-file to a command's flags.
func tokenFileVar(fs *pflag.FlagSet, file *string) {
	fs.StringVar(file, "token-file", "", "read the cluster token from `FILE` (default: $"+tokenEnv+", else the token a head on this machine keeps)")
}

// keepToken keeps token in DATA_DIR/token, where a restart (and anyone
// reading the file) finds it, and returns it with where it came from
// (from is "" for a new token). Without a data directory the token is
// kept only where the head publishes it.
func keepToken(dataDir string, token []byte, from string) ([]byte, string, error) {
	if dataDir == "" {
		return token, from, nil
	}
	path := filepath.Join(dataDir, tokenFileName)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("cannot create the data directory %s: %w", dataDir, err)
	}
	if err := writeFileAtomic(path, append(append([]byte(nil), token...), '\n'), 0o600); err != nil {
		return nil, "", fmt.Errorf("cannot write the cluster token to %s: %w", path, err)
	}
	if from == "" {
		return token, path + " (new)", nil
	}
	return token, path + " (from " + from + ")", nil
}

// portOf is the port of a HOST:PORT address (0 when there is none).
func portOf(addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return p
}

// localHeadAddress is the address of a head running on this machine, for
// commands given no --address: the one on the default port, else the
// only one; false when there is none (or several, none on the default
// port).
func localHeadAddress() (string, bool) {
	entries, err := os.ReadDir(localHeadsDir())
	if err != nil {
		return "", false
	}
	var ports []string
	for _, e := range entries {
		port, ok := strings.CutPrefix(e.Name(), "head-")
		if port, ok2 := strings.CutSuffix(port, ".token"); ok && ok2 {
			if port == strconv.Itoa(DefaultHeadPort) {
				return net.JoinHostPort("127.0.0.1", port), true
			}
			ports = append(ports, port)
		}
	}
	if len(ports) == 1 {
		return net.JoinHostPort("127.0.0.1", ports[0]), true
	}
	return "", false
}
