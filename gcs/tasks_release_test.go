package gcs

import (
	"errors"
	"fmt"
	"testing"
)

// jobRows are task rows of three jobs, one of whose ID is a prefix of
// another's, with an outcome row (a task ID, "#", the step).
func jobRows() []TaskRecord {
	var recs []TaskRecord
	for _, job := range []string{"jobA", "jobAB", "jobB"} {
		for i := 1; i <= 20; i++ {
			recs = append(recs, TaskRecord{TaskID: fmt.Sprintf("%s.%d", job, i), JobID: job})
			recs = append(recs, TaskRecord{TaskID: fmt.Sprintf("%s.%d.1", job, i), JobID: job})
		}
		recs = append(recs, TaskRecord{TaskID: job + ".3#1", JobID: job, State: "outcome"})
	}
	return recs
}

// tasksLeft counts the rows of each job this replica holds.
func tasksLeft(s *Store) map[string]int {
	left := map[string]int{}
	for _, sh := range s.shards {
		sh.fsm.each(TableTasks, func(key string, row []byte) {
			var r TaskRecord
			if decodeRow(row, &r) == nil {
				left[r.JobID]++
			}
		})
	}
	return left
}

// A finished job's task and outcome rows are deleted on every shard; the
// rows of other jobs stay, even of a job whose ID extends the first's.
func TestDeleteJobTasks(t *testing.T) {
	s := openTest(t, nil)
	must(t, s.PutTasks(jobRows()))
	if left := tasksLeft(s); left["jobA"] != 41 {
		t.Fatalf("before: %v", left)
	}
	must(t, s.DeleteJobTasks("jobA"))
	left := tasksLeft(s)
	if left["jobA"] != 0 || left["jobAB"] != 41 || left["jobB"] != 41 {
		t.Fatalf("after deleting jobA: %v", left)
	}
	if _, err := s.GetTask("jobA.3#1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("outcome row of jobA: %v, want ErrNotFound", err)
	}
	must(t, s.DeleteJobTasks("jobA")) // again: nothing left, no error
	for _, bad := range []string{"", "job.1"} {
		if err := s.DeleteJobTasks(bad).Error(); err == nil {
			t.Errorf("DeleteJobTasks(%q) succeeded", bad)
		}
	}
}

// The delete travels through raft: every replica drops the rows.
func TestDeleteJobTasksReplicates(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	recs := jobRows()
	if err := c.write(TableTasks, recs[0].TaskID, func(s *Store) *Future { return s.PutTasks(recs) }); err != nil {
		t.Fatal(err)
	}
	c.eventually("rows everywhere", func(s *Store) bool { return tasksLeft(s)["jobB"] == 41 })
	if err := c.write(TableTasks, "jobB.1", func(s *Store) *Future { return s.DeleteJobTasks("jobB") }); err != nil {
		t.Fatal(err)
	}
	c.eventually("jobB gone everywhere", func(s *Store) bool {
		left := tasksLeft(s)
		return left["jobB"] == 0 && left["jobA"] == 41
	})
}

// An empty prefix in a log entry (a bug or a damaged entry) is refused,
// never taken as "every row".
func TestDeletePrefixRefusesEmptyPrefix(t *testing.T) {
	tb := newTables()
	tb.rows[TableTasks]["jobA.1"] = []byte{1}
	if err := applyCommand(tb, &command{op: opDeletePrefix, table: TableTasks}, func(change) {}); err == nil {
		t.Fatal("empty prefix accepted")
	}
	if len(tb.rows[TableTasks]) != 1 {
		t.Fatal("empty prefix deleted rows")
	}
}

// DeleteTasks removes the rows named, on whichever shards they live, and
// no other; deleting a missing row succeeds.
func TestDeleteTasks(t *testing.T) {
	s := openTest(t, nil)
	must(t, s.PutTasks(jobRows()))
	must(t, s.DeleteTasks([]string{"jobA.1", "jobA.2", "jobB.7", "jobA.999"}))
	left := tasksLeft(s)
	if left["jobA"] != 39 || left["jobAB"] != 41 || left["jobB"] != 40 {
		t.Fatalf("after deleting three rows: %v", left)
	}
	for _, id := range []string{"jobA.1", "jobB.7"} {
		if _, err := s.GetTask(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("row %s: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.GetTask("jobA.1.1"); err != nil {
		t.Fatalf("a child's row went too: %v", err)
	}
	if err := s.DeleteTasks([]string{""}).Error(); err == nil {
		t.Error("DeleteTasks of an empty ID succeeded")
	}
}
