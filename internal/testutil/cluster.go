package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Cluster is a real rayflow cluster for tests that compare a program's
// behaviour on it with an embedded run: a head and workers, each a
// separate `rayflow start` process on 127.0.0.1, started in a directory
// of their own (not the driver's), named node-1 (the head), node-2, ...
type Cluster struct {
	// Address is the head's address, for `rayflow run --address`.
	Address string
	// Dir holds the nodes' data directories and is their working
	// directory.
	Dir string

	procs []*exec.Cmd
	logs  []*Buffer // each process's stderr, for errors
}

// readyWithin bounds how long one `rayflow start` may take to print its
// ready line.
const readyWithin = 15 * time.Second

// StartCluster starts a head and nodes-1 workers with cpus CPUs each,
// from the rayflow binary bin, and returns once every one has printed its
// ready line. Stop it with Stop; its processes also die with the test
// binary (Linux).
func StartCluster(bin string, nodes, cpus int) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "rayflow-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir}
	headPort, err := FreePorts(5) // a head's GCS replicas use the ports after its own
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.Address = fmt.Sprintf("127.0.0.1:%d", headPort)
	for i := 1; i <= nodes; i++ {
		args := []string{"start", "--node-id", fmt.Sprintf("node-%d", i), "--cpus", fmt.Sprint(cpus),
			"--data-dir", filepath.Join(dir, fmt.Sprintf("node-%d", i))}
		if i == 1 {
			args = append(args, "--head", "--port", fmt.Sprint(headPort), "--http-port", "0")
		} else {
			args = append(args, "--address", c.Address)
		}
		if err := c.start(bin, args); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// start runs `rayflow ARGS...` in the cluster's directory and waits for
// its ready line.
func (c *Cluster) start(bin string, args []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.Dir
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	logs := &Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return err
	}
	c.procs = append(c.procs, cmd)
	c.logs = append(c.logs, logs)
	if _, ok := AwaitReady(stdout, readyWithin); !ok {
		return fmt.Errorf("rayflow %s printed no ready line in %v; stderr:\n%s", strings.Join(args, " "), readyWithin, logs.String())
	}
	return nil
}

// Logs returns what every process printed on stderr so far, for a
// failure message.
func (c *Cluster) Logs() string {
	var sb strings.Builder
	for i, l := range c.logs {
		fmt.Fprintf(&sb, "--- node-%d stderr ---\n%s", i+1, l.String())
	}
	return sb.String()
}

// Stop kills every process (workers first) and removes the directory.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Process.Kill()
		c.procs[i].Wait()
	}
	os.RemoveAll(c.Dir)
}

// ports hands out port ranges to the clusters of one test binary.
var ports struct {
	sync.Mutex
	next int
}

// FreePorts finds a port p such that 127.0.0.1 ports p..p+n-1 are free.
// It is the one port allocator for test binaries that start clusters
// (cmd/rayflow's freePortRange could call it instead of its own copy).
// Test binaries run at the same time start from different places.
func FreePorts(n int) (int, error) {
	ports.Lock()
	defer ports.Unlock()
	const low, high = 20000, 32000
	if ports.next == 0 {
		ports.next = low + int(time.Now().UnixNano()/1000%8000)
	}
	for tries := 0; tries < 500; tries++ {
		p := ports.next
		ports.next += n
		if ports.next+n > high {
			ports.next = low
		}
		if portsFree(p, n) {
			return p, nil
		}
	}
	return 0, errors.New("no free port range on 127.0.0.1")
}

// portsFree reports whether 127.0.0.1 ports p..p+n-1 can be listened on.
func portsFree(p, n int) bool {
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+i))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// placeNames matches what legitimately differs between two runs of a
// program on different clusters: node names and job IDs.
var placeNames = regexp.MustCompile(`\bnode-[A-Za-z0-9_.-]+|\bjob[0-9a-f]+\b`)

// WithoutPlaces replaces node names by node-N and job IDs by jobN, so
// that the output of runs on different clusters can be compared.
func WithoutPlaces(s string) string {
	return placeNames.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "node-") {
			return "node-N"
		}
		return "jobN"
	})
}

// AwaitReady reads a rayflow process's stdout until its line beginning
// "ready" and returns that line, or false when none came within; the
// rest of stdout is read and dropped, so the process never blocks on it.
func AwaitReady(stdout io.Reader, within time.Duration) (string, bool) {
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") {
				lines <- sc.Text()
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		return line, true
	case <-time.After(within):
		return "", false
	}
}
