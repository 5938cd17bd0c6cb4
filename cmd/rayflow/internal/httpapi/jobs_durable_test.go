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
