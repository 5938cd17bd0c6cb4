package nodeagent

import (
	"context"
	"slices"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/gcs"
)

// Helpers the tests in package nodeagent_test need.

// ObjectsFetched counts the objects c's process fetched from other
// processes (for tests in package nodeagent_test).
func ObjectsFetched(c *Cluster) int64 { return c.net.fetches.Load() }

// LoadProgram compiles source with the standard library (frontend.Compile)
// and loads it on th.
func LoadProgram(th *exec.Thread, name, source string) (*exec.Program, error) {
	fp, err := frontend.Compile(name, source, nil)
	if err != nil {
		return nil, err
	}
	return fp.Load(th)
}

// LoadedPrograms lists the programs c's process compiled or registered.
func LoadedPrograms(c *Cluster) []*exec.Program {
	return c.net.programs.all()
}

// GroupsReceived counts the groups of calls other processes sent to c's
// process.
func GroupsReceived(c *Cluster) int64 { return c.net.groupsIn.Load() }

// GroupMessagesReceived counts the groups of calls that came to c's
// process whole, in one message each (wire.GroupSubmit).
func GroupMessagesReceived(c *Cluster) int64 { return c.net.groupMsgs.Load() }

// AwaitRecords counts the records of awaited results c's owner made:
// of groups sent whole, and of results awaited alone.
func AwaitRecords(c *Cluster) (groups, alone int) { return c.net.ow.AwaitRecords() }

// CountAwaited counts the results c's owner still awaits.
func CountAwaited(c *Cluster) int { return c.net.ow.CountAwaited(func(string) bool { return true }) }

// TaskSummary is the state API's count of tasks by name and state on
// the head c, once every live process has reported its events.
func TaskSummary(c *Cluster) map[string]map[string]int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.net.flushEverywhere(ctx)
	byName, _, _ := c.net.events.Summary("")
	return byName
}

// TaskNodes lists, for each task name, the nodes the state API says its
// finished tasks ran on, sorted.
func TaskNodes(c *Cluster) map[string][]string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.net.flushEverywhere(ctx)
	list, _, _ := c.net.events.Tasks("", "FINISHED", 0)
	nodes := map[string][]string{}
	for _, task := range list {
		nodes[task.Name] = append(nodes[task.Name], task.NodeID)
	}
	for _, ns := range nodes {
		slices.Sort(ns)
	}
	return nodes
}

// FusedRuns counts the groups c's process ran as one task (no task, no
// object per call: group_fused.go).
func FusedRuns(c *Cluster) int64 { return c.net.fusedRuns.Load() }

// LooseTasksReceived counts the tasks that came to c's process in loose
// frames (what they share once per frame).
func LooseTasksReceived(c *Cluster) int64 { return c.net.looseTasks.Load() }

// ProgramsCompiled counts the programs c's process has compiled.
func ProgramsCompiled(c *Cluster) int { return len(c.net.programs.all()) }

// ConnectedTo reports whether c has a live connection to addr.
func ConnectedTo(c *Cluster, addr string) bool { return c.net.pool.Connected(addr) }

// DialsAsked counts the dials c asked the heads about (dialpolicy.go).
func DialsAsked(c *Cluster) int64 { return c.net.dials.asked.Load() }

// DoneListsReceived counts the messages that brought c the results of
// whole groups of calls it sent (TaskDoneList).
func DoneListsReceived(c *Cluster) int64 { return c.net.doneLists.Load() }

// SetMaxGroupBytes bounds the groups sent whole (the calls of a larger
// one go alone) and returns the bound before.
func SetMaxGroupBytes(n int) int {
	old := maxGroupBytes
	maxGroupBytes = n
	return old
}

// PlacementsAsked is how many placements the head c answered (Place
// requests), or the embedded cluster c made by its rule.
func PlacementsAsked(c *Cluster) int64 {
	if c.net != nil && c.net.svc != nil {
		return c.net.svc.Placed()
	}
	return c.placements.Load()
}

// PlacedOnView is how many tasks c's process placed on its own view of
// the cluster, without asking a head (view.go).
func PlacedOnView(c *Cluster) int64 { return c.net.view.placed.Load() }

// TemplateReused is how many calls c sent where the same call of their
// template loop went before.
func TemplateReused(c *Cluster) int64 { return c.templates.reused() }

// ProgramUsedAt is when the head c last saw the program used.
func ProgramUsedAt(c *Cluster, hash string) (time.Time, bool) {
	return c.net.svc.ProgramUsedAt(hash)
}

// SetDoneHold sets how long a group's finished results may wait for the
// rest of the group, and returns what it was.
func SetDoneHold(d time.Duration) time.Duration {
	old := doneHold
	doneHold = d
	return old
}

// ReserveName reserves a name for the actor id on the head c, as a
// driver's registration of a named actor does (wire.QueryNamedActor).
func ReserveName(c *Cluster, namespace, name, id string) error {
	return c.net.reserveName(gcs.ActorInfo{ID: id, Name: name, Namespace: namespace})
}

// HoldGCSBatches makes every head of this process run hold, with the
// sender's node ID, before it handles a lineage batch write
// (wire.GCSPutTaskBatch), until the test ends.
func HoldGCSBatches(t interface{ Cleanup(func()) }, hold func(from string)) {
	holdGCSBatch.Store(&hold)
	t.Cleanup(func() { holdGCSBatch.Store(nil) })
}
