package gcs

import (
	"errors"
	"testing"
)

// The Jobs API's records: created once per submission ID, replaced only
// by the holder of (supervisor, attempt), a stop request kept against
// writes that do not carry it, deleted with their source and log.
func TestAPIJobConditionalWrites(t *testing.T) {
	st := openTest(t, nil)
	j := APIJob{JobID: "rfjob_1", SubmissionID: "s1", Status: "PENDING", Supervisor: "a", Attempt: 1, StartTime: 5}
	must(t, st.CreateAPIJob(j))
	if err := st.CreateAPIJob(j).Error(); !IsConflict(err) {
		t.Fatalf("a second create: %v", err)
	}
	// Head b takes the job over from a at attempt 1; a's late write fails.
	claimed := j
	claimed.Supervisor, claimed.Attempt = "b", 2
	must(t, st.PutAPIJobIf(claimed, "a", 1))
	if err := st.PutAPIJobIf(j, "a", 1).Error(); !IsConflict(err) {
		t.Fatalf("a write of the old supervisor: %v", err)
	}
	must(t, st.RequestAPIJobStop("s1"))
	if err := st.RequestAPIJobStop("nope").Error(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a stop of no job: %v", err)
	}
	claimed.Status = "RUNNING"
	must(t, st.PutAPIJobIf(claimed, "b", 2))
	got, err := st.GetAPIJob("s1")
	if err != nil || got.Status != "RUNNING" || !got.StopRequested || got.Supervisor != "b" {
		t.Fatalf("record %+v %v", got, err)
	}
	ended := got
	ended.EndTime = 9
	must(t, st.PutAPIJobIf(ended, "b", 2))
	if err := st.PutAPIJobIf(got, "b", 2).Error(); !IsConflict(err) {
		t.Fatalf("a write over an ended job: %v", err)
	}
	// A stop asked of an ended job leaves its record as it is.
	other := APIJob{JobID: "rfjob_2", SubmissionID: "s2", Status: "SUCCEEDED", Supervisor: "a", Attempt: 1, StartTime: 6}
	must(t, st.CreateAPIJob(other))
	other.EndTime = 7
	must(t, st.PutAPIJobIf(other, "a", 1))
	must(t, st.RequestAPIJobStop("s2"))
	if got, err := st.GetAPIJob("s2"); err != nil || got.StopRequested {
		t.Fatalf("an ended job after a stop request: %+v %v", got, err)
	}
	must(t, st.PutAPIJobSource("rfjob_1", []byte("src")))
	must(t, st.PutAPIJobLogChunk("rfjob_1", 0, []byte("a\n")))
	must(t, st.PutAPIJobLogChunk("rfjob_1", 1, []byte("b\n")))
	if log, n, err := st.APIJobLog("rfjob_1", 0, Linearizable); string(log) != "a\nb\n" || n != 2 || err != nil {
		t.Fatalf("log %q %d %v", log, n, err)
	}
	if c := st.CountAPIJobs(); c["RUNNING"] != 1 || c["PENDING"] != 0 || len(c) != 5 {
		t.Fatalf("counts %v", c)
	}
	must(t, st.DeleteAPIJob(got))
	if _, err := st.GetAPIJob("s1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if _, err := st.GetAPIJobSource("rfjob_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted source: %v", err)
	}
	if err := st.PutAPIJobIf(got, "b", 2).Error(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a write to a deleted job: %v", err)
	}
}
