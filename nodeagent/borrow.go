package nodeagent

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Borrowing the futures passed as task arguments (issue 15; the owner's
// half is nodeagent/owner's lend.go).
//
// A process that sends a future as a task's argument lends it (lendArg):
// its owner counts the lend. The process that runs the task registers the
// future it decoded as borrowed from the sender (borrowArg); once the
// runtime collects that future (the task, its local children and
// whatever held the future are done with it), the lend goes back, batched
// per lender (QueryUnborrow). When the last lend of a result its owner
// fetched comes back, the owner releases the holder's copy. A borrowed
// future that goes further (a task sent to another process, a value, a
// result) is reported to the lender first, synchronously (QueryEscaped):
// the object is then kept until its job ends.
//
// State: borrows is guarded by its mu, never held with another lock;
// written by the connection goroutines that decode tasks (borrowArg), the
// runtime's cleanup goroutine (unborrowed) and the timer that sends.

// unborrowDelay is how long given-back lends gather before they are sent.
const unborrowDelay = 5 * time.Millisecond

// borrows are the futures this process borrowed as task arguments.
type borrows struct {
	mu sync.Mutex
	// lenders is, by object ID, the process that lent it and how many
	// borrowed futures of it are alive here.
	lenders map[string]*lender
	// pending are the lends to give back, by lender, not sent yet.
	pending map[string][]string
}

type lender struct {
	addr string
	n    int
}

// borrowKey names one borrowed future for its cleanup.
type borrowKey struct{ id, lender string }

// lendArg counts a lend of o, about to leave as a task's argument.
func (nw *network) lendArg(o *objstore.Object) { nw.ow.Lend(o) }

// borrowArg registers f, decoded from a task argument sent by the
// process at from, as borrowed: its lend goes back when f is collected.
func (nw *network) borrowArg(f *exec.Future, from string) {
	if from == "" {
		return
	}
	b := &nw.borrows
	b.mu.Lock()
	if b.lenders == nil {
		b.lenders = map[string]*lender{}
	}
	l := b.lenders[f.ID()]
	if l == nil {
		l = &lender{addr: from}
		b.lenders[f.ID()] = l
	}
	l.n++
	b.mu.Unlock()
	runtime.AddCleanup(f, nw.unborrowed, borrowKey{f.ID(), from})
}

// unborrowed gives back the lend of a borrowed future the runtime
// collected (soon, batched with others).
func (nw *network) unborrowed(k borrowKey) {
	b := &nw.borrows
	b.mu.Lock()
	if l := b.lenders[k.id]; l != nil {
		if l.n--; l.n <= 0 {
			delete(b.lenders, k.id)
		}
	}
	first := len(b.pending) == 0
	if b.pending == nil {
		b.pending = map[string][]string{}
	}
	b.pending[k.lender] = append(b.pending[k.lender], k.id)
	b.mu.Unlock()
	if first {
		time.AfterFunc(unborrowDelay, nw.sendUnborrows)
	}
}

// sendUnborrows sends the gathered lends back, one message per lender.
func (nw *network) sendUnborrows() {
	b := &nw.borrows
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	for addr, ids := range pending {
		// Lends of jobs that ended are not given back: their lenders
		// forgot them (and a driver may be gone).
		ids = slices.DeleteFunc(ids, func(id string) bool { return nw.c.marks.jobEnded(jobOf(id)) })
		if len(ids) == 0 {
			continue
		}
		if addr == nw.addr {
			nw.returnLends(ids)
			continue
		}
		if nw.isDead(addr) {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), releaseSendTimeout)
			defer cancel()
			nw.pool.Call(ctx, addr, transport.Query, append([]byte{wire.QueryUnborrow}, wire.EncodeStrings(ids...)...))
		}()
	}
}

// releaseSendTimeout bounds one message that gives lends back or says a
// borrowed future went further.
const releaseSendTimeout = 5 * time.Second

// escaping tells the lender of a borrowed object that a reference to it
// leaves this process, before it does; nothing for an object not
// borrowed.
func (nw *network) escaping(id string) {
	b := &nw.borrows
	b.mu.Lock()
	var to string
	if l := b.lenders[id]; l != nil {
		to = l.addr
	}
	b.mu.Unlock()
	switch to {
	case "":
		return
	case nw.addr:
		nw.ow.Escaped([]string{id})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseSendTimeout)
	defer cancel()
	nw.pool.Call(ctx, to, transport.Query, append([]byte{wire.QueryEscaped}, wire.EncodeStrings(id)...))
}

// returnLends takes lends back (QueryUnborrow); a copy of a large
// argument served for the tasks it was lent to (argOnWire) is served no
// more once its last lend is back.
func (nw *network) returnLends(ids []string) {
	returned := nw.ow.Unborrow(ids)
	if len(returned) == 0 {
		return
	}
	nw.mu.Lock()
	for _, id := range returned {
		if isArgCopy(id) {
			delete(nw.served, id)
		}
	}
	nw.mu.Unlock()
}

// argCopyID names the copy of argument i (from 0) of task taskID that
// this process serves for it (TASKID.argI).
func argCopyID(taskID string, i int) string { return taskID + argCopyPart + strconv.Itoa(i) }

// argCopyPart is what sets an argument copy's ID apart: task IDs have no
// such part.
const argCopyPart = ".arg"

// isArgCopy reports whether id names a copy of a large argument served
// for a task (argCopyID).
func isArgCopy(id string) bool { return strings.Contains(id, argCopyPart) }

// handleBorrowQuery serves QueryUnborrow and QueryEscaped.
func (nw *network) handleBorrowQuery(op byte, body []byte) error {
	ids, err := wire.DecodeStrings(body)
	if err != nil {
		return wire.ErrMalformed
	}
	if op == wire.QueryUnborrow {
		nw.returnLends(ids)
	} else {
		nw.ow.Escaped(ids)
	}
	return nil
}
