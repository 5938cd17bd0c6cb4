package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// workDirProgram reads data.txt from the run's working directory in the
// driver, in a task, in a nested task and in an actor; every task and
// the actor need the resource far, which only one node has, so on a
// cluster they run on that node, a process started in another
// directory. A file a task writes is read back by the same task.
const workDirProgram = `
@resources(cpu=1, far=1)
task read_here() { return io.read_text("data.txt") }

@resources(cpu=1, far=1)
task read_nested() { return "nested: " + get(read_here()) }

@resources(cpu=1, far=1)
task list_here() { return io.list_dir(".") }

@resources(cpu=1, far=1)
task write_then_read(text) {
    io.write_text("out.txt", text)
    return io.read_text("out.txt")
}

@resources(cpu=1, far=1)
actor Reader() {
    method read() { return io.read_lines("data.txt") }
}

pipeline main() {
    print("driver: " + io.read_text("data.txt"))
    print("task: " + get(read_here()))
    print(get(read_nested()))
    let r = Reader()
    print("actor:", get(r.read()))
    print("listed:", io.list_dir("."))
    print("listed by a task:", get(list_here()))
    print("written:", get(write_then_read("from a task")))
}`

// workDirWant is what workDirProgram prints, wherever it runs.
const workDirWant = `driver: the driver's data
task: the driver's data
nested: the driver's data
actor: ["the driver's data"]
listed: ["data.txt", "prog.rayflow"]
listed by a task: ["data.txt", "prog.rayflow"]
written: from a task
`

// startProcTerm is startProcIn, stopped at the end of the test with
// SIGTERM, so that the process removes its copies of working directories
// from the temporary directory (killed if it has not stopped in 20 s).
func startProcTerm(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	cmd := startProcIn(t, dir, bin, args...).cmd
	t.Cleanup(func() { // runs before startProcIn's, which then finds it stopped
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// workDirCluster starts a head (no CPUs) and a node offering far=10, both
// in a directory of their own that holds a data.txt of its own, and
// returns the head's address.
func workDirCluster(t *testing.T, bin string, nodeFlags ...string) string {
	t.Helper()
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "data.txt"), "the node's own data")
	hp, np := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	startProcTerm(t, elsewhere, bin, "start", "--head", "--port", fmt.Sprint(hp), "--cpus", "0", "--node-id", "head")
	startProcTerm(t, elsewhere, bin, append([]string{"start", "--address", head, "--port", fmt.Sprint(np),
		"--cpus", "4", "--resources", "far=10", "--node-id", "far"}, nodeFlags...)...)
	return head
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runIn runs `rayflow ARGS...` in dir with extra environment variables
// and returns its exit code, stdout and stderr.
func runIn(t *testing.T, dir, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// The driver's directory travels with the job: tasks, nested tasks and
// actors on a node started in another directory read the driver's
// data.txt, not the node's, and print what an embedded run prints; with
// --working-dir the driver runs from anywhere. Run twice, the job's
// directory is fetched by the node once (the node's --data-dir keeps one
// archive, not rewritten by the second run).
func TestWorkingDirTravelsWithTheJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	driverDir := t.TempDir()
	writeFile(t, filepath.Join(driverDir, "data.txt"), "the driver's data")
	writeFile(t, filepath.Join(driverDir, "prog.rayflow"), workDirProgram)

	code, out, errOut := runIn(t, driverDir, bin, nil, "run", "--resources", "far=10", "prog.rayflow")
	if code != 0 || out != workDirWant {
		t.Fatalf("embedded run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(driverDir, "out.txt")); err != nil {
		t.Fatalf("embedded, a task writes into the directory itself: %v", err)
	}
	os.Remove(filepath.Join(driverDir, "out.txt"))

	nodeData := t.TempDir()
	head := workDirCluster(t, bin, "--data-dir", nodeData)
	code, out, errOut = runIn(t, driverDir, bin, nil, "run", "--address", head, "prog.rayflow")
	if code != 0 || out != workDirWant {
		t.Fatalf("cluster run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(driverDir, "out.txt")); err == nil {
		t.Fatal("on a cluster, a task's io.write_text reached the driver's directory; it should stay in the node's copy")
	}
	archives := archivesUnder(t, nodeData)
	if len(archives) != 1 {
		t.Fatalf("the node keeps %d archives of working directories, want 1: %v", len(archives), archives)
	}
	before, err := os.Stat(archives[0])
	if err != nil {
		t.Fatal(err)
	}

	// From another directory, naming the working directory.
	code, out, errOut = runIn(t, t.TempDir(), bin, nil, "run", "--address", head, "--working-dir", driverDir,
		filepath.Join(driverDir, "prog.rayflow"))
	if code != 0 || out != workDirWant {
		t.Fatalf("cluster run with --working-dir: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	after, err := os.Stat(archives[0])
	if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the node fetched the same working directory again (before %v, after %v, %v)", before, after, err)
	}
	if got := archivesUnder(t, nodeData); len(got) != 1 {
		t.Fatalf("after a second run of the same directory the node keeps %v", got)
	}
	if jobs := jobDirsUnder(t, nodeData); len(jobs) != 0 {
		t.Fatalf("the jobs are over but the node keeps their directories: %v", jobs)
	}

	// Embedded, --working-dir is used in place.
	code, out, errOut = runIn(t, t.TempDir(), bin, nil, "run", "--resources", "far=10", "--working-dir", driverDir,
		filepath.Join(driverDir, "prog.rayflow"))
	if code != 0 || out != workDirWant {
		t.Fatalf("embedded run with --working-dir: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// archivesUnder lists the working-directory archives a node keeps under
// its data directory.
func archivesUnder(t *testing.T, dataDir string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dataDir, "*", "workdirs", "archives", "*.tar"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// jobDirsUnder lists the per-job working directories a node has
// unpacked under its data directory.
func jobDirsUnder(t *testing.T, dataDir string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dataDir, "*", "workdirs", "jobs", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A working directory over the limit is refused before the job starts,
// with its size, the limit and the flag that chooses another; files
// listed in .rayflowignore are not counted (nor sent).
func TestWorkingDirTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := buildCLI(t)
	driverDir := t.TempDir()
	writeFile(t, filepath.Join(driverDir, "data.txt"), "the driver's data")
	writeFile(t, filepath.Join(driverDir, "prog.rayflow"), workDirProgram)
	writeFile(t, filepath.Join(driverDir, "big.bin"), strings.Repeat("x", 3000))
	head := workDirCluster(t, bin)
	limit := []string{"RAYFLOW_WORKING_DIR_LIMIT=2048"}

	code, out, errOut := runIn(t, driverDir, bin, limit, "run", "--address", head, "prog.rayflow")
	if code != exitUsage || out != "" {
		t.Fatalf("too large a working directory: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, exitUsage, out, errOut)
	}
	size := fmt.Sprintf("%.1f KiB", float64(3000+len("the driver's data")+len(workDirProgram))/1024)
	for _, want := range []string{driverDir, size, "limit of 2.0 KiB", "--working-dir DIR", ".rayflowignore"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the error does not say %q:\n%s", want, errOut)
		}
	}

	writeFile(t, filepath.Join(driverDir, ".rayflowignore"), "# large inputs\n*.bin\n")
	code, out, errOut = runIn(t, driverDir, bin, limit, "run", "--address", head, "prog.rayflow")
	// The driver lists its directory itself; the task lists the node's
	// copy, without what .rayflowignore leaves out.
	want := strings.Replace(workDirWant, `listed: ["data.txt", "prog.rayflow"]`, `listed: [".rayflowignore", "big.bin", "data.txt", "prog.rayflow"]`, 1)
	want = strings.Replace(want, `task: ["data.txt", "prog.rayflow"]`, `task: [".rayflowignore", "data.txt", "prog.rayflow"]`, 1)
	if code != 0 || out != want {
		t.Fatalf("with big.bin ignored: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
