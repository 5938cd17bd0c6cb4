package objstore

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
)

// Failed, RemoteLocation and WhereAndSize of an object with no far side,
// and MarkShared,
// answer without the object's lock (a group's results are counted,
// watched and marked a call at a time): they return while another
// holds it, with what it was when they read it.
func TestReadsWithoutTheLock(t *testing.T) {
	failed, ok := NewObject("j.1", "task 'f'"), NewObject("j.2", "task 'f'")
	failed.Complete(exec.None, exec.Errorf(exec.KindValue, "boom"), "")
	ok.Complete(exec.Int(1), nil, "")
	failed.mu.Lock()
	ok.mu.Lock()
	defer failed.mu.Unlock()
	defer ok.mu.Unlock()
	answered := make(chan [3]bool, 1)
	go func() {
		ok.MarkShared()
		where, size := ok.WhereAndSize()
		answered <- [3]bool{failed.Failed(), ok.Failed(), ok.RemoteLocation() == "" && where == "" && size == 0}
	}()
	select {
	case got := <-answered:
		if got != [3]bool{true, false, true} {
			t.Fatalf("failed, not failed, here: %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read waited for the object's lock")
	}
	if ok.state.Load()&sharedBit == 0 {
		t.Error("MarkShared did not mark the object")
	}
}
