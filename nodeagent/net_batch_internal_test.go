package nodeagent

import (
	"sync"
	"testing"
	"time"
)

// The parts of a batch for different nodes are sent at once: a node
// whose answer is slow does not hold back another node's tasks. Here
// each send waits until every node's send has started; sent one after
// the other, the first would wait for ever.
func TestSendEachSendsToTheNodesAtOnce(t *testing.T) {
	byAddr := dispatches{"a": {}, "b": {}, "c": {}}
	var started sync.WaitGroup
	started.Add(len(byAddr))
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var mu sync.Mutex
	sent := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendEach(byAddr, func(addr string, _ *dispatch) {
			started.Done()
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				t.Errorf("the send to %s waited 10 s for the other nodes' sends to start", addr)
			}
			mu.Lock()
			sent[addr] = true
			mu.Unlock()
		})
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("sendEach did not return")
	}
	if len(sent) != len(byAddr) {
		t.Errorf("sent to %v, want a, b and c", sent)
	}
}
