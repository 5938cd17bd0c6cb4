package nodeagent

import (
	"encoding/binary"
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

// A fused chain's results (a group whose calls take earlier calls'
// results) go back in parts of chainPart as the chain runs, not all at
// its end: its owner, whose program waits for the chain's end, takes
// each part in while the node runs the rest, so that only the last part
// is left to take once the chain is done. A group of independent calls
// (a batch) still sends its results at its end: its owner is most often
// busy making more calls then. A variable for the tests.
var chainPart = 128

// doneList gathers the results of the calls of one group for their
// owner. Its calls complete on their worker (or on a cancelling
// goroutine); its lock guards the gathered messages, which are encoded
// into one buffer as they come (each with its length, as a TaskDoneList
// frames them), not a buffer each.
type doneList struct {
	nw    *network
	owner string

	mu      sync.Mutex
	held    []byte      // the encoded Done messages not sent yet, each after its length
	n       int         // how many messages held has
	scratch []byte      // where one message is encoded before it is appended to held
	value   []byte      // where a result is encoded before its message is (addResult)
	lastID  string      // the ID of the last result held (its next call's goes without: encodeLocked)
	done    int         // calls done so far
	calls   int         // calls of the group; -1 until known (expect)
	part    int         // when > 0, held results are sent once there are this many (chainPart)
	timer   *time.Timer // sends held doneHold after the first of them was held
}

// heldResults is what a doneList sends at once: n encoded Done messages,
// each after its length.
type heldResults struct {
	msgs []byte
	n    int
}

// add gathers the result of one finished call, and sends all gathered
// when it is the group's last.
func (l *doneList) add(o *objstore.Object, done *wire.Done) {
	report := l.nw.fillDone(o, done)
	l.mu.Lock()
	l.send(l.gatherLocked(report, done))
}

// addResult is add for a call of a fused run (group_fused.go), whose
// result has no object: val (small enough to travel inline) or err,
// filled in done as fillDone fills it from an object; name is how the
// call's result is named in an error.
func (l *doneList) addResult(done *wire.Done, val exec.Value, err *exec.Error, name string) {
	report := !l.nw.c.marks.jobEnded(jobOf(done.ID))
	l.mu.Lock()
	if report && err != nil {
		done.Err = err
	} else if report {
		data, eerr := exec.EncodeWith(l.value[:0], val, l.nw)
		if eerr != nil {
			done.Err = exec.Errorf(exec.KindType, "the result of %s cannot be sent to its caller: %v", name, eerr)
		}
		l.value, done.Inline = data, data
	}
	l.send(l.gatherLocked(report, done))
}

// gatherLocked holds done (when report) with the results gathered, and
// returns them all, to be sent, when it is the group's last or when
// they make a part (streamEvery); it unlocks l.
func (l *doneList) gatherLocked(report bool, done *wire.Done) heldResults {
	if report {
		l.scratch = l.encodeLocked(done)
		if l.held == nil && l.part > 0 { // a part's messages are small: ~16 bytes a result
			l.held = make([]byte, 0, l.part*16)
		}
		l.held = binary.AppendUvarint(l.held, uint64(len(l.scratch)))
		l.held = append(l.held, l.scratch...)
		l.n++
	}
	l.done++
	out := l.takeIfLastLocked()
	if out.n == 0 && l.part > 0 && l.n >= l.part {
		out = l.takeLocked()
	}
	if l.n == 1 && out.n == 0 {
		l.holdLocked()
	}
	l.mu.Unlock()
	return out
}

// encodeLocked encodes done into l.scratch: without its ID when it is
// the next call of the result held before it (wire.DecodeDoneInto), as
// a group's calls are; the first held always with it.
func (l *doneList) encodeLocked(done *wire.Done) []byte {
	prev := l.lastID
	l.lastID = done.ID
	if l.n == 0 || !wire.FollowsCall(prev, done.ID) {
		return done.AppendEncode(l.scratch[:0])
	}
	d := *done
	d.ID = ""
	return d.AppendEncode(l.scratch[:0])
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

func (l *doneList) takeIfLastLocked() heldResults {
	if l.calls < 0 || l.done < l.calls {
		return heldResults{}
	}
	return l.takeLocked()
}

// takeLocked takes the results held back, which no longer wait.
func (l *doneList) takeLocked() heldResults {
	out := heldResults{msgs: l.held, n: l.n}
	l.held, l.n = nil, 0
	if l.timer != nil && out.n > 0 {
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
// the network, one message alone as a TaskDone, more as a TaskDoneList
// (read by owner.HandleDoneList: a message may go without its ID).
func (l *doneList) send(out heldResults) {
	if out.n == 0 {
		return
	}
	if out.n == 1 && l.owner != l.nw.addr {
		_, k := binary.Uvarint(out.msgs)
		l.nw.pool.Send(l.owner, transport.TaskDone, out.msgs[k:])
		return
	}
	payload := make([]byte, 0, binary.MaxVarintLen64+len(out.msgs))
	payload = binary.AppendUvarint(payload, uint64(out.n))
	payload = append(payload, out.msgs...)
	if l.owner == l.nw.addr {
		l.nw.ow.HandleDoneList(payload)
		return
	}
	l.nw.pool.Send(l.owner, transport.TaskDoneList, payload)
}

// sendGroupResults sends, before th waits, the results its group has
// gathered, when th runs a call of a group another process sent.
func sendGroupResults(th *exec.Thread) {
	if t, _ := th.Local[localTask].(*task); t != nil && t.group != nil && t.group.dones != nil {
		t.group.dones.flush()
	}
}

// streamEvery makes l send its results in parts of n as they come (see
// chainPart), before any is added.
func (l *doneList) streamEvery(n int) {
	l.mu.Lock()
	l.part = n
	l.mu.Unlock()
}
