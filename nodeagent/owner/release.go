package owner

import (
	"context"
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Releasing the copies of fetched results (issue 15: memory that stays
// flat).
//
// A large result stays with the process that made it, which serves it
// to its owner (this process) and to whoever else was given a reference
// to it. Once the owner has fetched it while no reference had left the
// owner (objstore.Object.MarkShared), nobody will ask the holder for it
// again: the owner tells the holder, which drops it (its store frees the
// value when its last handle goes), and forgets the task's lineage, as
// it does for a result that came inline. Releases are gathered for
// releaseDelay and sent per holder in one message, off the reader's
// goroutine. They are best effort: a holder that misses one keeps the
// value until the job ends, as before.

// releaseDelay is how long releases gather before they are sent.
const releaseDelay = 5 * time.Millisecond

// releaseSendTimeout bounds one release message.
const releaseSendTimeout = 5 * time.Second

// releases are the object IDs to release, by holder, not sent yet. It is
// guarded by its mu, never held with another lock.
type releases struct {
	mu      sync.Mutex
	pending map[string][]string
}

// Released is told that the value of o, held at addr, was fetched here
// while no reference to it had left this process (objstore.Releaser).
func (ow *Owner) Released(o *objstore.Object, addr string) {
	ow.mu.Lock()
	if e := ow.lineage[o.ID()]; e != nil && e.t.Object() == o {
		delete(ow.lineage, o.ID()) // the value is here now
	}
	ow.mu.Unlock()
	r := &ow.releases
	r.mu.Lock()
	first := len(r.pending) == 0
	if r.pending == nil {
		r.pending = map[string][]string{}
	}
	r.pending[addr] = append(r.pending[addr], o.ID())
	r.mu.Unlock()
	if first {
		time.AfterFunc(releaseDelay, ow.sendReleases)
	}
}

// sendReleases sends the gathered releases, one message per holder.
func (ow *Owner) sendReleases() {
	r := &ow.releases
	r.mu.Lock()
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	for addr, ids := range pending {
		if ow.net.IsDead(addr) {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), releaseSendTimeout)
			defer cancel()
			msg := append([]byte{wire.QueryReleaseObjects}, wire.EncodeStrings(ids...)...)
			ow.net.Call(ctx, addr, transport.Query, msg)
		}()
	}
}
