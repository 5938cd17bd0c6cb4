package gcs

import (
	"fmt"
	"testing"
)

// jobBatches holds jobs × batches batches of rows tasks each, the tasks
// of job k keyed "jobK.N".
func jobBatches(jobs, batches, rows int) *taskBatches {
	tb := newTaskBatches()
	n := 0
	for k := range jobs {
		for range batches {
			b := NewTaskBatch(0)
			for range rows {
				t := sampleTask(n)
				t.TaskID = fmt.Sprintf("job%d.%d", k, n)
				b.Add(&t)
				n++
			}
			tb.put(b.Bytes(), nil)
		}
	}
	return tb
}

// Deleting a finished job's rows when no one follows the tasks table
// reports nothing and allocates nothing per row; the other job's rows
// stay, and a followed table still gets each delete.
func TestDeletePrefixUnfollowed(t *testing.T) {
	tb := jobBatches(2, 4, 100)
	allocs := testing.AllocsPerRun(1, func() { tb.deletePrefix("job0.", nil) })
	if allocs > 8 {
		t.Errorf("deleting 400 rows unfollowed made %v allocations", allocs)
	}
	if _, rows := tb.count(); rows != 400 {
		t.Fatalf("%d rows left, want job1's 400", rows)
	}
	var deleted int
	tb.deletePrefix("job1.", func(c change) {
		if c.op == OpDelete {
			deleted++
		}
	})
	if _, rows := tb.count(); rows != 0 || deleted != 400 {
		t.Fatalf("%d rows left, %d deletes reported; want 0 and 400", rows, deleted)
	}
}

// BenchmarkDeleteJobRows deletes a finished job's 409,600 rows, with no
// one following the tasks table (nil emit) and with a follower.
func BenchmarkDeleteJobRows(b *testing.B) {
	for _, c := range []struct {
		name string
		emit func(change)
	}{{"unfollowed", nil}, {"followed", func(change) {}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				tb := jobBatches(1, 1600, 256)
				b.StartTimer()
				tb.deletePrefix("job0.", c.emit)
			}
		})
	}
}

// A batch whose last live row a prefix delete removes is dropped, and the
// walk stops there: its rows deleted before (here the last one, on its
// own) are not deleted again, reported again or counted twice.
func TestDeletePrefixStopsAtADroppedBatch(t *testing.T) {
	tb := jobBatches(1, 1, 3) // job0.0, job0.1, job0.2 in one batch
	var deleted []string
	tb.delete("job0.2", func(c change) { deleted = append(deleted, c.key) })
	tb.deletePrefix("job0.", func(c change) { deleted = append(deleted, c.key) })
	if fmt.Sprint(deleted) != "[job0.2 job0.0 job0.1]" {
		t.Fatalf("deletes reported %v, want each row once", deleted)
	}
	if b := tb.list[0]; b.live != 0 || b.data != nil || tb.dropped != 1 {
		t.Fatalf("batch left with live %d, data %v, %d batches counted dropped; want 0, nil, 1", b.live, b.data != nil, tb.dropped)
	}
}
