package nodeagent

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/stash"
)

// An actor's restart reads its call order back from the GCS and from the
// stashes of the live processes: here one outcome is committed and two
// are held only by the stash of a node whose GCS writes never finish, one
// only by the log a caller keeps of its calls' places.
// The specification of a call is found the same way.
func TestActorOrderFromGCSAndSurvivingStashes(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	holder, err := JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", Config{CPUs: 1, NodeID: "holder", GCSDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Leaving flushes the stash, which waits out the stuck GCS: not here.
	defer func() { go holder.Shutdown("test over") }()
	asker, err := JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", Config{CPUs: 1, NodeID: "asker"})
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Shutdown("test over")

	const actor = "jobT.1"
	order := stash.OutcomeRecord(stash.Outcome{TaskID: actor, Seq: 0, Kind: stash.KindActorOrder, Data: []byte("jobT.1.1")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stash.WriteSync(ctx, headStore{asker.net}, order); err != nil {
		t.Fatal(err)
	}
	holder.lineage.outcome(stash.Outcome{TaskID: actor, Seq: 1, Kind: stash.KindActorOrder, Data: []byte("jobT.4.1")})
	holder.lineage.outcome(stash.Outcome{TaskID: actor, Seq: 2, Kind: stash.KindActorOrder, Data: []byte("jobT.4.2")})
	holder.lineage.stash.Add(gcs.TaskRecord{TaskID: "jobT.4.2", Function: "Acc.add", Args: []gcs.TaskArg{{Inline: []byte{1}}}})
	// A caller keeps the place of a call it made from the answer.
	holder.net.ow.Orders().Note(actor, 3, "jobT.7.1")

	got := asker.net.ow.ActorOrder(actor, 0)
	if want := []string{"jobT.1.1", "jobT.4.1", "jobT.4.2", "jobT.7.1"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if got := asker.net.ow.ActorOrder(actor, 1); !slices.Equal(got, []string{"jobT.4.1", "jobT.4.2", "jobT.7.1"}) {
		t.Fatalf("order after a checkpoint at 1: %v", got)
	}
	recs := asker.net.ow.CallRecords([]string{"jobT.4.2", "jobT.9.9"})
	if recs["jobT.4.2"].Function != "Acc.add" {
		t.Fatalf("call record not found in the holder's stash: %+v", recs)
	}
	if _, ok := recs["jobT.9.9"]; ok {
		t.Fatalf("a call nobody logged was found: %+v", recs["jobT.9.9"])
	}
}

// A caller keeps the specifications of the calls it made on an actor it
// was handed, and serves them to a restart as lineage records.
func TestCallerServesItsCallsToARestart(t *testing.T) {
	head, prog := startAccHead(t)
	nw := head.Cluster.net
	class, _ := prog.ClassByName("Acc")
	add, _ := class.Method("add")
	nw.ow.Orders().KeepCall(&exec.TaskCall{ID: "jobC.4.1", Func: add, Args: []exec.Value{exec.Int(5)}})
	b := nw.heldLineage([]string{"jobC.4.1", "jobC.4.2"})
	if len(b.Records) != 1 || b.Records[0].Record.TaskID != "jobC.4.1" || len(b.Records[0].Record.Args) != 1 || b.Records[0].Record.Args[0].Inline == nil {
		t.Fatalf("held lineage: %+v", b.Records)
	}
}
