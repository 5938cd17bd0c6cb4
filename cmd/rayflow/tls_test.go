package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/internal/tlstest"
)

// tlsArgs are the TLS flags of the process whose certificate is name.
func tlsArgs(certs *tlstest.Files, name string) []string {
	return []string{"--tls-cert", certs.Cert[name], "--tls-key", certs.Key[name], "--tls-ca", certs.CA}
}

// Two heads and a node with mutual TLS (certificates of a CA made here,
// for 127.0.0.1): the second head's GCS replicas join over TLS; a job
// with TLS spreads over the head and the node; a driver, a node and
// status without TLS are refused with an error that says the port needs
// TLS, though they have the token; the HTTP API answers over HTTPS with
// the token (status, and a job the API runs over TLS itself) and not
// over plain HTTP.
func TestClusterWithTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	certs, err := tlstest.Write(t.TempDir(), "head", "head2", "n1", "driver")
	if err != nil {
		t.Fatal(err)
	}
	hp, hp2, p1, web := freePortRange(t, 5), freePortRange(t, 5), freePort(t), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	dataDir := t.TempDir()
	startHead(t, bin, append([]string{"--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1",
		"--node-id", "head", "--data-dir", dataDir}, tlsArgs(certs, "head")...)...)
	startProc(t, bin, append([]string{"start", "--address", head, "--port", fmt.Sprint(p1), "--cpus", "1", "--node-id", "n1"},
		tlsArgs(certs, "n1")...)...)
	// A second head joins the GCS: its Raft connections run over TLS,
	// and every GCS write of the job below needs both replicas.
	startHead(t, bin, append([]string{"--port", fmt.Sprint(hp2), "--cpus", "0", "--node-id", "head2", "--join", head},
		tlsArgs(certs, "head2")...)...)
	testutil.Eventually(t, 30*time.Second, "two GCS replicas on every shard", func() bool {
		out, err := exec.Command(bin, append([]string{"status", "--json", "--address", head}, tlsArgs(certs, "driver")...)...).Output()
		var st statusJSON
		if err != nil || json.Unmarshal(out, &st) != nil || len(st.GCS) == 0 {
			return false
		}
		for _, sh := range st.GCS {
			if len(sh.Replicas) != 2 || sh.Leader == "" {
				return false
			}
		}
		return true
	})

	prog := writeProgram(t, `
task busy(i) {
    let s = 0
    for k in range(300000) { s += k }
    return sys.node()
}
pipeline main() {
    let seen = {}
    for n in get([busy(i) for i in range(12)]) { seen[n] = true }
    print(sorted(keys(seen)))
}`)
	out, err := exec.Command(bin, append([]string{"run", "--address", head}, append(tlsArgs(certs, "driver"), prog)...)...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != `["head", "n1"]` {
		t.Fatalf("a job with TLS: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, append([]string{"status", "--json", "--address", head}, tlsArgs(certs, "driver")...)...).Output()
	if err != nil || !strings.Contains(string(out), `"n1"`) {
		t.Fatalf("status with TLS: %v\n%s", err, out)
	}

	// Without TLS (the token is found on this machine): refused, saying why.
	for name, args := range map[string][]string{
		"driver": {"run", "--address", head, prog},
		"node":   {"start", "--address", head, "--cpus", "1", "--node-id", "plain"},
		"status": {"status", "--address", head},
	} {
		cmd := exec.Command(bin, args...)
		done := make(chan struct{})
		time.AfterFunc(30*time.Second, func() {
			select {
			case <-done:
			default:
				cmd.Process.Kill()
			}
		})
		out, err := cmd.CombinedOutput()
		close(done)
		if err == nil || !strings.Contains(string(out), "needs TLS") || strings.Contains(string(out), `["head"`) {
			t.Errorf("a %s without TLS: %v\n%s", name, err, out)
		}
	}

	// The HTTP API: HTTPS with the token, not plain HTTP.
	token, err := os.ReadFile(filepath.Join(dataDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(certs.CA)
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	api := func(scheme, method, path, body string) (int, string, error) {
		req, _ := http.NewRequest(method, fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, web, path), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, err := api("https", "GET", "/api/status", ""); err != nil || code != 200 || !strings.Contains(body, `"n1"`) {
		t.Errorf("GET /api/status over HTTPS: %d %v\n%s", code, err, body)
	}
	job, _ := json.Marshal(map[string]string{"source": "task f(x) { return x * 2 }\npipeline main() { print(get(f(21))) }\n", "pipeline": "main"})
	code, body, err := api("https", "POST", "/api/jobs/", string(job))
	var sub struct {
		JobID string `json:"job_id"`
	}
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &sub) != nil {
		t.Fatalf("POST /api/jobs/ over HTTPS: %d %v\n%s", code, err, body)
	}
	if code, body, err := api("https", "GET", "/api/jobs/"+sub.JobID+"/logs/tail", ""); err != nil || code != 200 || body != "42\n" {
		t.Errorf("the job's log over HTTPS: %d %v\n%s", code, err, body)
	}
	if code, body, err := api("http", "GET", "/api/status", ""); err == nil && code == 200 {
		t.Errorf("GET /api/status over plain HTTP answered: %d\n%s", code, body)
	}
}

// start --bind to an address other than loopback without TLS warns, on
// one stderr line, that the traffic is not encrypted and how to encrypt
// it; with TLS it does not.
func TestBindWithoutTLSWarns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	certs, err := tlstest.Write(t.TempDir(), "head")
	if err != nil {
		t.Fatal(err)
	}
	for _, withTLS := range []bool{false, true} {
		args := []string{"start", "--head", "--bind", "0.0.0.0", "--port", fmt.Sprint(freePortRange(t, 5)), "--http-port", "0", "--cpus", "1"}
		if withTLS {
			args = append(args, tlsArgs(certs, "head")...)
		}
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = childAttr()
		stderr, _ := cmd.StderrPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "ready") {
					ready <- true
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("no ready line")
		}
		cmd.Process.Kill()
		errOut, _ := io.ReadAll(stderr)
		cmd.Wait()
		warnings := strings.Count(string(errOut), "warning: ")
		switch {
		case !withTLS && (warnings != 1 || !strings.Contains(string(errOut), "not encrypted") || !strings.Contains(string(errOut), "--tls-cert")):
			t.Errorf("--bind 0.0.0.0 without TLS: stderr %q", errOut)
		case withTLS && strings.Contains(string(errOut), "not encrypted"):
			t.Errorf("--bind 0.0.0.0 with TLS warned: %q", errOut)
		}
	}
}

// The TLS flags load into one configuration: certificate and key go
// together, a process that listens needs them, status may have the CA
// alone, and a file that is not what it should be is an error.
func TestTLSFlags(t *testing.T) {
	certs, err := tlstest.Write(t.TempDir(), "p")
	if err != nil {
		t.Fatal(err)
	}
	full := tlsFlags{cert: certs.Cert["p"], key: certs.Key["p"], ca: certs.CA}
	cfg, err := full.config(true)
	if err != nil || len(cfg.Certificates) != 1 || cfg.RootCAs == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.InsecureSkipVerify {
		t.Fatalf("all three flags: %+v, %v", cfg, err)
	}
	if cfg, err := (&tlsFlags{}).config(true); cfg != nil || err != nil {
		t.Fatalf("no flags: %v, %v", cfg, err)
	}
	caOnly := tlsFlags{ca: certs.CA}
	if cfg, err := caOnly.config(false); err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 0 {
		t.Fatalf("status with --tls-ca alone: %+v, %v", cfg, err)
	}
	for name, f := range map[string]tlsFlags{
		"--tls-ca alone where the process listens": caOnly,
		"--tls-cert without --tls-key":             {cert: certs.Cert["p"], ca: certs.CA},
		"a key that is not the certificate's":      {cert: certs.Cert["p"], key: certs.CA, ca: certs.CA},
		"a CA file without a certificate":          {cert: certs.Cert["p"], key: certs.Key["p"], ca: certs.Key["p"]},
		"a missing file":                           {cert: certs.Cert["p"], key: certs.Key["p"], ca: filepath.Join(t.TempDir(), "none.pem")},
	} {
		if _, err := f.config(true); err == nil || !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "TLS") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "10.0.0.7": false, "": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) = %v", host, !want)
		}
	}
}

// repl --address with a non-loopback --bind and no TLS warns, as run does
// (the warning comes before the session reaches the cluster).
func TestReplBindWithoutTLSWarns(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmdRepl([]string{"--address", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--bind", "0.0.0.0"}, strings.NewReader(""), &stdout, &stderr)
	if !strings.Contains(stderr.String(), "without TLS") {
		t.Fatalf("no warning; stderr:\n%s", stderr.String())
	}
}
