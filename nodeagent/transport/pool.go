package transport

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Pool keeps one persistent connection per address, dialled on first use
// and redialled after it dies. Dials that fail back off exponentially
// (Options.MinBackoff doubling up to MaxBackoff); a caller that arrives
// during a backoff waits for it, within its context.
//
// A call that fails because its connection died is not retried: the pool
// cannot know whether the server acted on it. The next call redials.
//
// The pool forgets an address once nothing there is worth keeping: a
// connection is dropped as soon as it dies, and the backoff of failed
// dials once it has run out and MaxBackoff more has passed unused. So a
// long-lived process that talks to many short-lived peers keeps state
// only for those it talks to now.
type Pool struct {
	opts   Options
	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu        sync.Mutex
	peers     map[string]*poolEntry
	closed    bool
	lastSweep time.Time // when stale entries were last dropped
}

type poolEntry struct {
	conn     *Conn
	dialing  chan struct{} // closed when the dial in progress ends
	failures int
	next     time.Time // no dial before this
	lastErr  error
}

// NewPool returns an empty pool whose connections use opts.
func NewPool(opts Options) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{opts: opts.withDefaults(), ctx: ctx, cancel: cancel, peers: make(map[string]*poolEntry)}
}

// Get returns the pool's live connection to addr, dialling it if needed.
func (p *Pool) Get(ctx context.Context, addr string) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		e := p.peers[addr]
		if e == nil {
			p.sweepLocked(time.Now())
			e = &poolEntry{}
			p.peers[addr] = e
		}
		if e.conn != nil && e.conn.Err() == nil {
			c := e.conn
			p.mu.Unlock()
			return c, nil
		}
		if e.dialing != nil { // someone else is dialling: wait for them
			ch := e.dialing
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-p.ctx.Done():
				return nil, ErrClosed
			}
		}
		old := e.conn
		e.conn = nil
		ch := make(chan struct{})
		e.dialing = ch
		wait := time.Until(e.next)
		p.mu.Unlock()
		if old != nil {
			old.Close()
		}
		c, err := p.dial(ctx, addr, wait)
		p.mu.Lock()
		e.dialing = nil
		close(ch)
		if err != nil {
			if ctx.Err() == nil && p.ctx.Err() == nil { // a real dial failure
				e.failures++
				e.next = time.Now().Add(backoff(p.opts.MinBackoff, p.opts.MaxBackoff, e.failures))
				e.lastErr = err
			} else if e.failures == 0 {
				p.dropLocked(addr, e) // the caller gave up: nothing learnt
			}
			p.mu.Unlock()
			return nil, err
		}
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return nil, ErrClosed
		}
		e.failures, e.next, e.lastErr = 0, time.Time{}, nil
		e.conn = c
		p.mu.Unlock()
		go p.dropWhenDead(addr, e, c)
		return c, nil
	}
}

// dropWhenDead forgets addr's entry once its connection c dies, unless a
// redial has replaced it meanwhile. It returns when the pool closes.
func (p *Pool) dropWhenDead(addr string, e *poolEntry, c *Conn) {
	select {
	case <-c.Done():
	case <-p.ctx.Done():
		return
	}
	p.mu.Lock()
	if e.conn == c {
		p.dropLocked(addr, e)
	}
	p.mu.Unlock()
}

// dropLocked forgets addr's entry e if it is still the pool's and no dial
// is in progress on it. Whoever waits for a dial looks the address up
// again, so a dropped entry is simply made anew.
func (p *Pool) dropLocked(addr string, e *poolEntry) {
	if p.peers[addr] == e && e.dialing == nil {
		delete(p.peers, addr)
	}
}

// sweepLocked drops, at most once per MaxBackoff, the entries that hold
// neither a live connection, nor a dial in progress, nor a backoff that
// ended less than MaxBackoff ago.
func (p *Pool) sweepLocked(now time.Time) {
	if now.Sub(p.lastSweep) < p.opts.MaxBackoff {
		return
	}
	p.lastSweep = now
	for addr, e := range p.peers {
		live := e.conn != nil && e.conn.Err() == nil
		if !live && e.dialing == nil && now.After(e.next.Add(p.opts.MaxBackoff)) {
			delete(p.peers, addr)
		}
	}
}

// Len returns the number of addresses the pool keeps state for: live
// connections, dials in progress and recent dial failures.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.peers)
}

func (p *Pool) dial(ctx context.Context, addr string, wait time.Duration) (*Conn, error) {
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.ctx.Done():
			return nil, ErrClosed
		}
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	if p.opts.MayDial != nil {
		if err := p.opts.MayDial(dctx, addr); err != nil {
			return nil, err
		}
	}
	c, err := Dial(dctx, addr, p.opts)
	if err != nil && p.ctx.Err() != nil {
		return nil, ErrClosed
	}
	return c, err
}

// backoff is min·2^(failures-1), at most max.
func backoff(minD, maxD time.Duration, failures int) time.Duration {
	d := minD
	for i := 1; i < failures && d < maxD; i++ {
		d *= 2
	}
	return min(d, maxD)
}

// Call makes a call on the connection to addr.
func (p *Pool) Call(ctx context.Context, addr string, typ MsgType, payload []byte) (*Message, error) {
	c, err := p.Get(ctx, addr)
	if err != nil {
		return nil, err
	}
	return c.Call(ctx, typ, payload)
}

// CallStream makes a streaming call on the connection to addr.
func (p *Pool) CallStream(ctx context.Context, addr string, typ MsgType, payload []byte, w io.Writer) error {
	c, err := p.Get(ctx, addr)
	if err != nil {
		return err
	}
	return c.CallStream(ctx, typ, payload, w)
}

// Send sends a one-way message to addr, dialling within
// Options.DialTimeout if there is no live connection.
func (p *Pool) Send(addr string, typ MsgType, payload []byte) error {
	if c := p.live(addr); c != nil {
		// The common case, a message per finished task: no dial, so no
		// deadline (a timer) to make and stop.
		return c.Send(typ, payload)
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.DialTimeout)
	defer cancel()
	c, err := p.Get(ctx, addr)
	if err != nil {
		return fmt.Errorf("transport: send to %s: %w", addr, err)
	}
	return c.Send(typ, payload)
}

// Connected reports whether the pool has a live connection to addr.
func (p *Pool) Connected(addr string) bool { return p.live(addr) != nil }

// live is the pool's live connection to addr, or nil.
func (p *Pool) live(addr string) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.peers[addr]; !p.closed && e != nil && e.conn != nil && e.conn.Err() == nil {
		return e.conn
	}
	return nil
}

// Close closes every connection of the pool; later calls fail with
// ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	var conns []*Conn
	for _, e := range p.peers {
		if e.conn != nil {
			conns = append(conns, e.conn)
		}
	}
	p.mu.Unlock()
	p.cancel()
	for _, c := range conns {
		c.Close()
	}
	return nil
}
