package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Only member addresses are dialled.
//
// Messages name addresses this process then dials: a task's owner and
// the driver that prints its output, the holder of an argument, an
// actor's host. Taken as they come, they let whoever can send a message
// make a node or a head connect anywhere its network reaches. So a
// process dials only (the transport pool asks mayDial before each dial,
// never per message):
//
//   - itself and the heads it knows (its configuration, and the heads
//     they report);
//   - the nodes the heads' membership table lists (the dead-node watcher
//     reads it: headclient.Liveness), and those of the view a head
//     reported for bottom-up placement (view.go): a driver, which has no
//     watcher, dials the nodes it places on without asking first;
//   - any other address a head vouches for when asked (wire.QueryDialable,
//     each head in turn until one says yes): a member's
//     (Membership.HasAddress), or a driver's that holds a job lease there
//     (jobLeases.holder; a driver declares its address with its leases,
//     and takes its first lease before any of its work is sent). A head
//     answers from what it holds; a yes is kept for dialCacheTTL.
//
// A refused dial fails whatever needed it with an error that says the
// address is not a member of the cluster; refusals are counted
// (Cluster.RefusedDials) and logged once per address and minute.

// dialCacheTTL is how long a head's yes for an address is kept.
const dialCacheTTL = 30 * time.Second

// dialPolicy is what a process knows of the addresses it may dial beyond
// its heads and the members its watcher saw: the heads' answers. Its own
// lock; the pool's dialling goroutines call it.
type dialPolicy struct {
	mu      sync.Mutex
	allowed map[string]time.Time // address -> until when a head's yes holds
	logged  map[string]time.Time // address -> when its refusal was last logged
	refused atomic.Int64         // dials refused, ever
	asked   atomic.Int64         // dials the heads were asked about, ever
}

// errNotMember is what a refused dial's error is (errors.Is).
var errNotMember = errors.New("not a member of the cluster")

// notMemberError is a refused dial.
type notMemberError struct{ node, addr string }

func (e *notMemberError) Error() string {
	return fmt.Sprintf("%s does not dial %s: the address is not a member of the cluster (not a node or head the heads know, nor a driver that holds a job lease)", e.node, e.addr)
}

func (e *notMemberError) Is(target error) bool { return target == errNotMember }

// mayDial is the pool's transport.Options.MayDial.
func (nw *network) mayDial(ctx context.Context, addr string) error {
	if addr == nw.addr || slices.Contains(nw.hc.Order(), addr) || nw.live.Known(addr) || nw.view.has(addr) {
		return nil
	}
	ok, err := nw.vouchedFor(ctx, addr)
	if err != nil {
		return fmt.Errorf("cannot check with the heads that %s is a member of the cluster: %w", addr, err)
	}
	if ok {
		return nil
	}
	nw.dials.refuse(addr, time.Now())
	return &notMemberError{node: "node " + nw.c.Head().ID, addr: addr}
}

// vouchedFor reports whether a head vouches for addr: a yes kept from
// before, else the heads asked now (headVouches), their yes kept.
func (nw *network) vouchedFor(ctx context.Context, addr string) (bool, error) {
	if nw.dials.vouched(addr, time.Now()) {
		return true, nil
	}
	nw.dials.asked.Add(1)
	ok, err := nw.headVouches(ctx, addr)
	if ok {
		nw.dials.vouch(addr, time.Now())
	}
	return ok, err
}

// headVouches asks the heads (this process first, if it is one) whether
// addr may be dialled, until one says yes: a driver renews its leases
// only with the heads it knows, which may not be all of them. It fails
// only when no head answered.
func (nw *network) headVouches(ctx context.Context, addr string) (bool, error) {
	if nw.isHead() && nw.dialableHere(addr) {
		return true, nil
	}
	var lastErr error
	answered := nw.isHead()
	for _, h := range nw.hc.Order() {
		if h == nw.addr {
			continue
		}
		reply, err := nw.hc.CallAt(ctx, h, transport.Query, append([]byte{wire.QueryDialable}, addr...))
		if err != nil {
			lastErr = err
			continue
		}
		answered = true
		if len(reply) == 1 && reply[0] == 1 {
			return true, nil
		}
	}
	if !answered && lastErr != nil {
		return false, lastErr
	}
	return false, nil
}

// dialableHere answers wire.QueryDialable on a head: addr is this head's,
// a member's, or a driver's that holds a job lease here.
func (nw *network) dialableHere(addr string) bool {
	return addr == nw.addr || nw.cfg.Membership.HasAddress(addr) || nw.leases.holder(addr)
}

// handleDialable serves wire.QueryDialable.
func (nw *network) handleDialable(body []byte) (*transport.Message, error) {
	if nw.svc == nil {
		return nil, errNotHead
	}
	yes := byte(0)
	if nw.dialableHere(string(body)) {
		yes = 1
	}
	return transport.Reply([]byte{yes}), nil
}

// vouched reports whether a head said addr may be dialled, recently
// enough.
func (d *dialPolicy) vouched(addr string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.allowed[addr]
	return ok && now.Before(until)
}

// vouch keeps a head's yes for addr.
func (d *dialPolicy) vouch(addr string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.allowed == nil {
		d.allowed = map[string]time.Time{}
	}
	for a, until := range d.allowed { // bounded by the addresses vouched for within the TTL
		if now.After(until) {
			delete(d.allowed, a)
		}
	}
	d.allowed[addr] = now.Add(dialCacheTTL)
}

// refuse counts a refused dial and logs it, once per address and minute.
func (d *dialPolicy) refuse(addr string, now time.Time) {
	d.refused.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.logged == nil {
		d.logged = map[string]time.Time{}
	}
	if at, ok := d.logged[addr]; ok && now.Sub(at) < time.Minute {
		return
	}
	for a, at := range d.logged {
		if now.Sub(at) >= time.Minute {
			delete(d.logged, a)
		}
	}
	d.logged[addr] = now
	fmt.Fprintf(os.Stderr, "rayflow: refused to dial %s: not a member of the cluster\n", addr)
}

// RefusedDials is how many dials this process refused because the
// address was not a member's (dialpolicy.go); 0 for an embedded cluster.
func (c *Cluster) RefusedDials() int64 {
	if c.net == nil {
		return 0
	}
	return c.net.dials.refused.Load()
}
