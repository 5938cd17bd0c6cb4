package nodeagent

import (
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The results of a group another process sent here go back to their
// owner together: one TaskDoneList message when the group's last call is
// done, not a TaskDone per call. A result is held back at most
// doneHold: a group of slow calls still reports each call soon after it
// ends, and its owner sees as many results as before. A call of the
// group that waits (get, wait) first sends the results gathered so far,
// so that a call never waits for an earlier call's result held back here
// (a future of the group passed inside a list, read through its owner).

// doneHold is how long a finished call's result may wait for the rest
// of its group before it is sent anyway (a variable for the tests).
var doneHold = 2 * time.Millisecond

// doneList gathers the results of the calls of one group for their
// owner. Its calls complete on their worker (or on a cancelling
// goroutine); its lock guards the gathered messages.
type doneList struct {
	nw    *network
	owner string

	mu    sync.Mutex
	msgs  [][]byte    // encoded Done messages not sent yet
	done  int         // calls done so far
	calls int         // calls of the group; -1 until known (expect)
	timer *time.Timer // sends msgs doneHold after the first of them was held
}

// add gathers the result of one finished call, and sends all gathered
// when it is the group's last.
func (l *doneList) add(o *objstore.Object, done *wire.Done) {
	var msg []byte
	if l.nw.fillDone(o, done) {
		msg = done.Encode()
	}
	l.mu.Lock()
	if msg != nil {
		l.msgs = append(l.msgs, msg)
	}
	l.done++
	out := l.takeIfLastLocked()
	if len(l.msgs) == 1 && out == nil {
		l.holdLocked()
	}
	l.mu.Unlock()
	l.send(out)
}

// holdLocked starts the wait of the first result held back.
func (l *doneList) holdLocked() {
	if l.timer == nil {
		l.timer = time.AfterFunc(doneHold, l.flush)
		return
	}
	l.timer.Reset(doneHold)
}

// expect says how many calls the group has, once all are made.
func (l *doneList) expect(calls int) {
	l.mu.Lock()
	l.calls = calls
	out := l.takeIfLastLocked()
	l.mu.Unlock()
	l.send(out)
}

func (l *doneList) takeIfLastLocked() [][]byte {
	if l.calls < 0 || l.done < l.calls {
		return nil
	}
	return l.takeLocked()
}

// takeLocked takes the results held back, which no longer wait.
func (l *doneList) takeLocked() [][]byte {
	out := l.msgs
	l.msgs = nil
	if l.timer != nil && out != nil {
		l.timer.Stop()
	}
	return out
}

// flush sends the results gathered so far.
func (l *doneList) flush() {
	l.mu.Lock()
	out := l.takeLocked()
	l.mu.Unlock()
	l.send(out)
}

// send sends results to the owner: to this process's own owner without
// the network, one message alone as a TaskDone.
func (l *doneList) send(msgs [][]byte) {
	switch {
	case len(msgs) == 0:
	case l.owner == l.nw.addr:
		for _, m := range msgs {
			l.nw.ow.HandleDone(m)
		}
	case len(msgs) == 1:
		l.nw.pool.Send(l.owner, transport.TaskDone, msgs[0])
	default:
		l.nw.pool.Send(l.owner, transport.TaskDoneList, wire.EncodeSubmits(msgs))
	}
}

// sendGroupResults sends, before th waits, the results its group has
// gathered, when th runs a call of a group another process sent.
func sendGroupResults(th *exec.Thread) {
	if t, _ := th.Local[localTask].(*task); t != nil && t.group != nil && t.group.dones != nil {
		t.group.dones.flush()
	}
}
