package taskevents

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

func batch(events ...Event) *Batch { return &Batch{Chunks: [][]Event{events}} }

func ev(id string, st State, node string, at int64) Event {
	return Event{ID: id, Name: "f", State: st, Node: node, Worker: 0, At: at, Start: at - 1}
}

// A report's events travel intact, drop counts with them.
func TestEncodeDecode(t *testing.T) {
	in := []Event{{ID: "j.1", Name: "f", Kind: KindMethod, State: Failed, Node: "n1", Worker: -1, Error: "value: bad", At: 5, Start: 2, Restarts: 1, MaxRestarts: 3}}
	want := append([]Event(nil), in...)
	b, err := Decode(Encode(&Batch{Chunks: [][]Event{in}, Dropped: map[string]int64{"j": 7}}))
	if err != nil || !reflect.DeepEqual(b.Chunks[0], want) || b.Dropped["j"] != 7 {
		t.Fatalf("got %+v %v", b, err)
	}
	if _, err := Decode([]byte{5, 1}); err == nil {
		t.Fatal("a truncated report decoded")
	}
}

// A late report of an earlier state does not undo a later one; a pending
// task learns its node; a re-run replaces an earlier end.
func TestTableOrdersTransitions(t *testing.T) {
	tb := NewTable(0)
	tb.Apply(batch(ev("j.1", Running, "n1", 20)))
	tb.Apply(batch(ev("j.1", Pending, "", 10), ev("j.2", Pending, "", 10)))
	tb.Apply(batch(ev("j.2", Pending, "n2", 15), ev("j.2", Pending, "", 0))) // the submission, reported last
	list, total, _ := tb.Tasks("j", "", 0)
	if total != 2 || list[0].State != "RUNNING" || list[0].NodeID != "n1" || list[1].State != "PENDING" || list[1].NodeID != "n2" {
		t.Fatalf("got %+v", list)
	}
	fail := ev("j.1", Failed, "n1", 30)
	fail.Error = "value: boom"
	tb.Apply(batch(fail, ev("j.1", Running, "n1", 25)))
	list, _, _ = tb.Tasks("j", "FAILED", 0)
	if len(list) != 1 || list[0].Error != "value: boom" || list[0].EndTime == nil || list[0].StartTime == nil {
		t.Fatalf("got %+v", list)
	}
	if runs := tb.Runs("j"); len(runs) != 1 || !runs[0].Failed {
		t.Fatalf("runs %+v", runs)
	}
}

// The table forgets the jobs least recently reported past MaxTasks
// tasks in all.
func TestTableBoundInAll(t *testing.T) {
	tb := NewTable(0)
	events := make([]Event, MaxTasks/2+1)
	for _, job := range []string{"a", "b", "c"} {
		for i := range events {
			events[i] = ev(fmt.Sprintf("%s.%d", job, i), Finished, "n", 1)
		}
		tb.Apply(&Batch{Chunks: [][]Event{events}})
	}
	if _, total, _ := tb.Tasks("", "", 1); total != int64(len(events)) {
		t.Fatalf("%d tasks kept, want the last job's %d", total, len(events))
	}
	if _, total, _ := tb.Tasks("c", "", 1); total != int64(len(events)) {
		t.Fatal("the job reported last was forgotten")
	}
}

// A job keeps at most the limit of tasks, dropping the first seen and
// counting them with what its senders dropped.
func TestTableBoundPerJob(t *testing.T) {
	tb := NewTable(4)
	for i := range 10 {
		tb.Apply(batch(ev(fmt.Sprintf("a.%d", i), Finished, "n", int64(i+1)), ev(fmt.Sprintf("b.%d", i), Finished, "n", 1)))
	}
	tb.Apply(&Batch{Dropped: map[string]int64{"a": 3}})
	list, total, dropped := tb.Tasks("a", "", 2)
	if total != 4 || len(list) != 2 || dropped != 9 || list[0].TaskID != "a.6" {
		t.Fatalf("total %d shown %d dropped %d first %+v", total, len(list), dropped, list)
	}
	sum, total, dropped := tb.Summary("b")
	if total != 4 || dropped != 6 || sum["f"]["FINISHED"] != 4 || sum["f"]["FAILED"] != 0 {
		t.Fatalf("summary %v total %d dropped %d", sum, total, dropped)
	}
}

// A recorder keeps at most its limit, dropping the oldest and counting
// them by job; what a report could not deliver goes back.
func TestRecorderBound(t *testing.T) {
	r := NewRecorder(2 * chunkLen)
	for i := range 5 * chunkLen {
		r.Add(ev(fmt.Sprintf("j.%d", i), Finished, "n", 1))
	}
	b := r.Take()
	last := b.Chunks[len(b.Chunks)-1]
	if n := b.Len(); n > 2*chunkLen || last[len(last)-1].ID != fmt.Sprintf("j.%d", 5*chunkLen-1) || int(b.Dropped["j"])+n != 5*chunkLen {
		t.Fatalf("%d kept, dropped %v", n, b.Dropped)
	}
	select {
	case <-r.HalfFull():
	default:
		t.Fatal("the recorder did not say it was half full")
	}
	n := b.Len()
	r.PutBack(b)
	r.Add(ev("j.new", Running, "n", 1))
	again := r.Take()
	if again.Len() > 2*chunkLen || again.Dropped["j"] < int64(5*chunkLen-n) {
		t.Fatalf("put back %d and added 1: took %d, dropped %v", n, again.Len(), again.Dropped)
	}
	r.Recycle(again)
	if r.Take() != nil {
		t.Fatal("a recorder with nothing new gave a batch")
	}
	var none *Recorder
	none.Add(ev("j.1", Running, "n", 1)) // records nothing, does not panic
}

// AddAll records its events as Add does one by one: in order, within
// the bound, the dropped counted.
func TestRecorderAddAll(t *testing.T) {
	one, all := NewRecorder(2*chunkLen), NewRecorder(2*chunkLen)
	events := make([]Event, 5*chunkLen+3)
	for i := range events {
		events[i] = ev(fmt.Sprintf("j.%d", i), Finished, "n", int64(i))
		one.Add(events[i])
	}
	all.AddAll(events[:7])
	all.AddAll(nil)
	all.AddAll(events[7:])
	got, want := all.Take(), one.Take()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AddAll kept %d events, dropped %v; Add kept %d, dropped %v", got.Len(), got.Dropped, want.Len(), want.Dropped)
	}
	var none *Recorder
	none.AddAll(events) // records nothing, does not panic
}

// readyFlag stands for a task's result.
type readyFlag bool

func (r *readyFlag) IsReady() bool { return bool(*r) }

// The pending and running events of a task whose result is ready by the
// time of the report are not sent: its end says more.
func TestSupersededNotReported(t *testing.T) {
	var done, notYet readyFlag = true, false
	a, b, c := ev("j.1", Running, "n", 1), ev("j.2", Running, "n", 1), ev("j.1", Finished, "n", 2)
	a.Over, b.Over, c.Over = &done, &notYet, &done
	got, err := Decode(Encode(batch(a, b, c)))
	if err != nil || got.Len() != 2 || got.Chunks[0][0].ID != "j.2" || got.Chunks[0][1].State != Finished {
		t.Fatalf("got %+v %v", got, err)
	}
}

// An actor's state follows its newest incarnation; one alive on a dead
// node is restarting while it has restarts left.
func TestTableActors(t *testing.T) {
	tb := NewTable(0)
	a := Event{ID: "j.a", Name: "C", Kind: KindActor, State: Alive, Node: "n1", MaxRestarts: 1}
	tb.Apply(batch(a))
	dead := func(n string) bool { return n == "n1" }
	if got := tb.Actors("j", "", dead); len(got) != 1 || got[0].State != "RESTARTING" {
		t.Fatalf("got %+v", got)
	}
	b := a
	b.Node, b.Restarts = "n2", 1
	old := a
	old.State = Dead
	tb.Apply(batch(b, old))
	if got := tb.Actors("j", "ALIVE", dead); len(got) != 1 || got[0].NodeID != "n2" || got[0].Restarts != 1 {
		t.Fatalf("got %+v", got)
	}
}

func BenchmarkRecorderAdd(b *testing.B) {
	r := NewRecorder(OutboxLimit)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Add(Event{ID: "job.1.2", Name: "f", State: Running, Node: "n", At: time.Now().UnixNano()})
		if i%10000 == 0 {
			r.Recycle(r.Take())
		}
	}
}

// BenchmarkStateAnswer100k is the head's side of a state question with
// 100,000 tasks in its table (10 jobs of 10,000): a job's first 1,000
// tasks listed, and the summary of every job, each encoded as JSON.
func BenchmarkStateAnswer100k(b *testing.B) {
	tb := NewTable(JobLimit)
	events := make([]Event, JobLimit)
	for j := range 10 {
		for i := range events {
			events[i] = ev(fmt.Sprintf("job%d.%d", j, i), State(i%5), "node-1", int64(i+1))
		}
		tb.Apply(&Batch{Chunks: [][]Event{events}})
	}
	b.Run("tasks", func(b *testing.B) {
		for b.Loop() {
			list, total, dropped := tb.Tasks("job3", "", 1000)
			if _, err := json.Marshal(map[string]any{"result": list, "total": total, "dropped": dropped}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			byName, total, dropped := tb.Summary("")
			if _, err := json.Marshal(map[string]any{"result": byName, "total": total, "dropped": dropped}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An event takes 112 bytes (its fields packed): an outbox holds a
// thousand for a fused chain of a thousand calls, in fresh memory on a
// node that runs few.
func TestEventPacked(t *testing.T) {
	if size := unsafe.Sizeof(Event{}); size > 112 {
		t.Errorf("an Event takes %d bytes, want at most 112: order its fields by size", size)
	}
}
