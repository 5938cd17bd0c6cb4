package httpapi

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
)

// A head whose job another head claimed (as when this head was cut off
// and declared dead) stops running it at once, and leaves the claimer's
// record alone.
func TestJobClaimedElsewhereStopsHere(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	id := submitJob(t, api, `{"source": "task s() { time.sleep(300) }\npipeline main() { get(s()) }"}`).JobID
	testutil.Eventually(t, 20*time.Second, "the job's task holding the CPU", func() bool { return cpusFree(t, api) == 0 })
	j := api.jobs.local(id)
	rec, err := api.store.GetAPIJob(id)
	if j == nil || err != nil || rec.Status != StatusRunning {
		t.Fatalf("the running job: %+v %v", rec, err)
	}
	// "elsewhere" is a live head, as the GCS's nodes table says.
	if err := api.store.PutNode(gcs.NodeInfo{ID: "elsewhere", Address: "127.0.0.1:1", State: gcs.NodeAlive}).Error(); err != nil {
		t.Fatal(err)
	}
	claim := rec
	claim.Supervisor, claim.Attempt, claim.Message = "elsewhere", 2, "claimed"
	if err := api.store.PutAPIJobIf(claim, rec.Supervisor, rec.Attempt).Error(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-j.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor here still runs the job claimed elsewhere")
	}
	testutil.Eventually(t, 5*time.Second, "the CPU free again", func() bool { return cpusFree(t, api) == 1 })
	if got, err := api.store.GetAPIJob(id, gcs.Linearizable); err != nil || got.Supervisor != "elsewhere" || got.Message != "claimed" || got.Ended() {
		t.Fatalf("the claimer's record: %+v %v", got, err)
	}
}

// A job whose supervising head this head has never heard from (its row
// in the GCS still says alive: nobody marked it dead) is taken over once
// the head has run for unknownHeadGrace, run again and ends SUCCEEDED.
func TestJobOfAnUnknownHeadTakenOver(t *testing.T) {
	defer func(d time.Duration) { unknownHeadGrace = d }(unknownHeadGrace)
	unknownHeadGrace = 0
	api := startAPI(t, Options{Token: []byte("tok"), Members: func() []gcs.NodeInfo { return nil }})
	if err := api.store.PutNode(gcs.NodeInfo{ID: "ghost", Address: "127.0.0.1:1", State: gcs.NodeAlive}).Error(); err != nil {
		t.Fatal(err)
	}
	rec := gcs.APIJob{JobID: "rfjob_ghost", SubmissionID: "ghostly", Status: StatusRunning, StartTime: 1, Submitted: 1,
		Supervisor: "ghost", Attempt: 1, Params: map[string]string{"n": "4"}}
	if err := api.store.PutAPIJobSource(rec.JobID, []byte("pipeline main(n: int) {\n print(\"again\")\n return n * 2 }")).Error(); err != nil {
		t.Fatal(err)
	}
	if err := api.store.PutAPIJobLogChunk(rec.JobID, 0, []byte("first\n")).Error(); err != nil {
		t.Fatal(err)
	}
	if err := api.store.CreateAPIJob(rec).Error(); err != nil {
		t.Fatal(err)
	}
	var info JobInfo
	testutil.Eventually(t, 20*time.Second, "the ghost's job taken over and ended", func() bool {
		info = jobInfo(t, api, "ghostly")
		return info.EndTime != nil
	})
	if info.Status != StatusSucceeded || info.Result == nil || *info.Result != "8" || info.Message != "the job succeeded (restarted on head head after head ghost died; no task result reused)" {
		t.Fatalf("the job: %+v", info)
	}
	want := `{"logs":"first\n[the job was restarted on head head after head ghost died; its output starts again]\nagain\n"}`
	if code, data := call(t, api, "GET", "/api/jobs/ghostly/logs", ""); code != 200 || string(data) != want {
		t.Fatalf("its log: %d %s", code, data)
	}
}

// A stop through this head of a job another head runs is written into
// the job's record; when that head has died before it saw the stop, the
// head that takes the job over marks it STOPPED instead of running it.
func TestStopOfAJobWhoseHeadDied(t *testing.T) {
	api := startAPI(t, Options{Token: []byte("tok")})
	ghost := gcs.NodeInfo{ID: "ghost", Address: "127.0.0.1:1", State: gcs.NodeAlive}
	if err := api.store.PutNode(ghost).Error(); err != nil {
		t.Fatal(err)
	}
	rec := gcs.APIJob{JobID: "rfjob_ghost", SubmissionID: "rfjob_ghost", Status: StatusRunning, StartTime: 1, Submitted: 1,
		Supervisor: "ghost", Attempt: 1}
	if err := api.store.CreateAPIJob(rec).Error(); err != nil {
		t.Fatal(err)
	}
	if code, data := call(t, api, "POST", "/api/jobs/rfjob_ghost/stop", ""); code != 200 || string(data) != `{"stopped":true}` {
		t.Fatalf("stop: %d %s", code, data)
	}
	if got, _ := api.store.GetAPIJob("rfjob_ghost"); !got.StopRequested || got.Ended() {
		t.Fatalf("the record after the stop: %+v", got)
	}
	ghost.State = gcs.NodeDead
	if err := api.store.PutNode(ghost).Error(); err != nil {
		t.Fatal(err)
	}
	var info JobInfo
	testutil.Eventually(t, 10*time.Second, "the dead head's stopped job ended", func() bool {
		info = jobInfo(t, api, "rfjob_ghost")
		return info.EndTime != nil
	})
	if info.Status != StatusStopped || info.Message != "the job was stopped (its head ghost died before it saw the stop)" {
		t.Fatalf("the job: %+v", info)
	}
}
