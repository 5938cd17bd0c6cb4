package nodeagent_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// fusedKept is a fused chain whose intermediate futures are kept in a
// list and read after the chain's end.
const fusedKept = `
@hint(fuse)
task step(x) { return x + 1 }
pipeline main(n: int = 200) {
    let x = step(0)
    let kept = [x]
    for i in range(n - 1) {
        x = step(x)
        kept.append(x)
    }
    return [get(x), get(kept[0]), get(kept[57]), len(kept)]
}
`

// fusedFailing is a fused chain whose call 101 fails (x is 100 there):
// the calls after it fail as they do without the hint.
const fusedFailing = `
@hint(fuse)
task step(x) {
    if x == 100 {
        return [1][x]
    }
    return x + 1
}
pipeline main(n: int = 200) {
    let x = step(0)
    let kept = [x]
    for i in range(n - 1) {
        x = step(x)
        kept.append(x)
    }
    print(get(kept[99]))
    return get(x)
}
`

// runFailing runs src on driver with --opt opt and returns the error
// it must fail with, formatted against src.
func runFailing(t *testing.T, driver *nodeagent.Cluster, src, opt string) string {
	t.Helper()
	prog, err := rayflow.Compile("groups.rayflow", src, nil)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = prog.Run(ctx, rayflow.RunOptions{Cluster: driver, Opt: opt})
	if err == nil {
		t.Fatalf("--opt %s: the failing program did not fail", opt)
	}
	return rayflow.FormatError(err, src)
}

// onNode is where an error's trace names the node a frame ran on.
var onNode = regexp.MustCompile(` \(on node [^)]*\)`)

// withoutNode is msg without the nodes its trace names.
func withoutNode(msg string) string { return onNode.ReplaceAllString(msg, "") }

func fusedRuns(procs []*nodeagent.Cluster) (n int64) {
	for _, p := range procs {
		n += nodeagent.FusedRuns(p)
	}
	return n
}

// A fused chain sent to a node runs there as one task: the node makes
// no task and no object per call, and still every call's future, kept
// in a list by the driver, gets its own value.
func TestFusedGroupRunsAsOneTask(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	want := runWithOpt(t, driver, fusedKept, "none").String()
	if fusedRuns(procs) != 0 {
		t.Fatalf("without the hint a group ran as one task")
	}
	if got := runWithOpt(t, driver, fusedKept, "fuse").String(); got != want || want != "[200, 1, 58, 200]" {
		t.Fatalf("the fused chain gave %s, without the hint %s, want [200, 1, 58, 200]", got, want)
	}
	if runs := fusedRuns(procs); runs != 1 {
		t.Errorf("the chain ran as %d fused runs on the nodes, want 1 (one task for its 200 calls)", runs)
	}
}

// An error in call k of a fused group surfaces at call k, and fails the
// calls after it, exactly as without the hint: same output, same error.
func TestFusedGroupErrorAtItsCall(t *testing.T) {
	head, nodes, driver, out := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	run := func(opt string) (string, string) {
		t.Helper()
		before := len(out.String())
		msg := runFailing(t, driver, fusedFailing, opt)
		return msg, out.String()[before:]
	}
	wantErr, wantOut := run("none")
	gotErr, gotOut := run("fuse")
	// Where call 101 ran is placement's, which the hint changes: the
	// error is the same but for the node it names.
	wantErr, gotErr = withoutNode(wantErr), withoutNode(gotErr)
	if gotErr != wantErr || gotOut != wantOut {
		t.Errorf("with fuse: output %q, error\n%s\nwithout: output %q, error\n%s", gotOut, gotErr, wantOut, wantErr)
	}
	if wantOut != "100\n" {
		t.Errorf("call 100 printed %q, want 100", wantOut)
	}
	if runs := fusedRuns(procs); runs != 1 {
		t.Errorf("the chain ran as %d fused runs on the nodes, want 1", runs)
	}
}

// The driver awaits the results of a fused group sent whole as ONE
// record, not one per call, and keeps each call's future and value: the
// intermediate futures kept in a list still read their own values, and
// nothing stays awaited after the run.
func TestFusedGroupOneAwaitRecord(t *testing.T) {
	_, _, driver, _ := startCluster(t, 2, 1)
	groups0, alone0 := nodeagent.AwaitRecords(driver)
	if got := runWithOpt(t, driver, fusedKept, "fuse").String(); got != "[200, 1, 58, 200]" {
		t.Fatalf("the fused chain gave %s, want [200, 1, 58, 200]", got)
	}
	groups, alone := nodeagent.AwaitRecords(driver)
	if groups-groups0 != 1 || alone-alone0 != 0 {
		t.Errorf("the driver made %d group records and %d records of results alone for one fused chain of 200 calls, want 1 and 0",
			groups-groups0, alone-alone0)
	}
	if n := nodeagent.CountAwaited(driver); n != 0 {
		t.Errorf("%d results still awaited after the run", n)
	}
}

// Every call of a fused group is listed by the state API, finished, as
// without the hint.
func TestFusedGroupTasksListed(t *testing.T) {
	head, _, driver, _ := startCluster(t, 2, 1)
	runWithOpt(t, driver, fusedKept, "none")
	want := nodeagent.TaskSummary(head.Cluster)["step"]
	if want["FINISHED"] != 200 {
		t.Fatalf("without the hint the state API counts %v of 'step', want 200 FINISHED", want)
	}
	runWithOpt(t, driver, fusedKept, "fuse")
	if got := nodeagent.TaskSummary(head.Cluster)["step"]; got["FINISHED"] != 400 || got["PENDING"]+got["RUNNING"]+got["FAILED"] != 0 {
		t.Errorf("after the fused chain the state API counts %v of 'step', want 400 FINISHED", got)
	}
}

// The calls of a fused group that fail are listed FAILED: the one that
// failed, as without the hint, and the ones after it that could not
// start, as when a group's calls run as tasks on a node (without the
// hint its owner fails them before they are sent, and the state API
// does not list them).
func TestFusedGroupFailedTasksListed(t *testing.T) {
	head, _, driver, _ := startCluster(t, 2, 1)
	counts := func(opt string) map[string]int {
		t.Helper()
		runFailing(t, driver, fusedFailing, opt)
		return nodeagent.TaskSummary(head.Cluster)["step"]
	}
	none := counts("none")
	if none["FINISHED"] != 100 || none["FAILED"] != 1 {
		t.Fatalf("without the hint the state API counts %v of 'step', want 100 FINISHED, 1 FAILED", none)
	}
	if got := counts("fuse"); got["FINISHED"] != 200 || got["FAILED"] != 101 || got["PENDING"] != 0 {
		t.Errorf("after the fused chain the state API counts %v of 'step' in all, want 200 FINISHED, 1 + 100 FAILED", got)
	}
}

// fusedPrinting is a fused chain whose calls print.
const fusedPrinting = `
@hint(fuse)
task step(x) {
    print("step", x)
    return x + 1
}
pipeline main(n: int = 50) {
    let x = step(0)
    for i in range(n - 1) {
        x = step(x)
    }
    return get(x)
}
`

// The calls of a fused run, which share one thread, each print to the
// driver, in order, as without the hint.
func TestFusedGroupCallsPrint(t *testing.T) {
	head, nodes, driver, out := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	before := len(out.String())
	want := runWithOpt(t, driver, fusedPrinting, "none").String()
	wantOut := out.String()[before:]
	before = len(out.String())
	got := runWithOpt(t, driver, fusedPrinting, "fuse").String()
	if gotOut := out.String()[before:]; got != want || gotOut != wantOut || want != "50" {
		t.Errorf("with fuse: %s, printed %q; without: %s, printed %q", got, gotOut, want, wantOut)
	}
	if runs := fusedRuns(procs); runs != 1 {
		t.Errorf("the chain ran as %d fused runs, want 1", runs)
	}
}
