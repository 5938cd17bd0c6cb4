package headclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A cluster has one head or several (three for a replicated GCS). Every
// head runs the membership table and the global scheduler over its GCS
// replica, so any of them can place a task. Nodes register with, and
// send heartbeats to, every head they know; they learn of heads from the
// heads themselves (heads are nodes labelled role=head in the GCS nodes
// table). A request for a head goes to the one that last answered and,
// when it fails, to the next, with bounded backoff: losing a head costs a
// retry, not the job.

// Local serves a head's requests inside this process, without the
// network: a head's own calls to itself go there.
type Local interface {
	ServeHead(typ transport.MsgType, payload []byte) (*transport.Message, error)
}

// Client is a process's connection to the heads: which heads there are,
// which answered last, and this node's epoch at each.
type Client struct {
	pool  *transport.Pool
	self  string // this process's address
	local Local  // nil unless this process is a head
	fixed bool   // keep to the heads given; learn no others

	mu     sync.Mutex
	addrs  []string
	cur    int
	epochs map[string]uint64 // this node's epoch at each head; 0: not registered
	// down are the heads whose last call got no answer (the network
	// failed, not the request): they are tried last, and reaching one
	// takes at most downWait, so a dead head costs a job or a stopping
	// node next to nothing. An answer from a head takes it off.
	down map[string]bool
}

// downWait bounds reaching a head that is down: enough to dial a head
// that came back, far less than the dial and backoff waits of the
// transport pool (seconds), which a dead head would otherwise cost every
// call that includes it.
const downWait = 250 * time.Millisecond

// Options says how a Client reaches the heads.
type Options struct {
	Pool  *transport.Pool
	Self  string   // this process's address
	Heads []string // heads to start from
	// Local, on a head, serves its own requests; the head is added to
	// the list.
	Local Local
	// Fixed keeps to the heads given: the addresses the heads report for
	// each other are not used (a node that reaches the heads through a
	// proxy or a NAT).
	Fixed bool
}

// New returns a Client for the heads in opts.
func New(opts Options) *Client {
	c := &Client{pool: opts.Pool, self: opts.Self, local: opts.Local, fixed: opts.Fixed,
		epochs: map[string]uint64{}, down: map[string]bool{}}
	for _, a := range opts.Heads {
		c.Add(a)
	}
	if opts.Local != nil {
		c.Add(opts.Self)
	}
	return c
}

// Add adds a head to the list, once.
func (c *Client) Add(addr string) {
	if addr == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.addrs {
		if a == addr {
			return
		}
	}
	c.addrs = append(c.addrs, addr)
}

// Order lists the heads starting with the one that answered last, the
// heads that are down at the end.
func (c *Client) Order() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.addrs))
	var down []string
	for i := range c.addrs {
		a := c.addrs[(c.cur+i)%len(c.addrs)]
		if c.down[a] {
			down = append(down, a)
		} else {
			out = append(out, a)
		}
	}
	return append(out, down...)
}

// IsDown reports whether the last call to the head at addr got no
// answer.
func (c *Client) IsDown(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down[addr]
}

// noteOutcome records whether the head at addr answered a call: any
// reply or remote error says it is up; a failure of the network, while
// the caller still waited, says it is down.
func (c *Client) noteOutcome(ctx context.Context, addr string, err error) {
	var re *transport.RemoteError
	up := err == nil || errors.As(err, &re)
	if !up && ctx.Err() != nil && !c.IsDown(addr) {
		return // the caller gave up: nothing learnt of the head
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if up {
		delete(c.down, addr)
	} else {
		c.down[addr] = true
	}
}

func (c *Client) answered(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, a := range c.addrs {
		if a == addr {
			c.cur = i
		}
	}
}

// Epoch is this node's epoch at the head at addr (0: not registered).
func (c *Client) Epoch(addr string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epochs[addr]
}

func (c *Client) setEpoch(addr string, e uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epochs[addr] = e
}

// Call sends a request to a head, trying the others (for a few rounds,
// with backoff) when it fails in a way another head may not.
func (c *Client) Call(ctx context.Context, typ transport.MsgType, payload []byte) ([]byte, error) {
	var lastErr error
	backoff := 50 * time.Millisecond
	for round := 0; round < 4; round++ {
		for _, addr := range c.Order() {
			reply, err := c.CallAt(ctx, addr, typ, payload)
			if err == nil {
				c.answered(addr)
				return reply, nil
			}
			if !Retryable(err) {
				return nil, err
			}
			if ctx.Err() != nil {
				// Say why the heads did not answer in time, not only
				// that the time ran out.
				if lastErr == nil {
					return nil, err
				}
				return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
	return nil, lastErr
}

// GCS sends a GCS request (op and its body) to a head.
func (c *Client) GCS(ctx context.Context, op byte, body []byte) ([]byte, error) {
	return c.Call(ctx, transport.GCSRequest, append([]byte{op}, body...))
}

// CallAt sends one request to the head at addr; this process's own head
// serves it without the network.
func (c *Client) CallAt(ctx context.Context, addr string, typ transport.MsgType, payload []byte) ([]byte, error) {
	if addr == c.self && c.local != nil {
		msg, err := c.local.ServeHead(typ, payload)
		if err != nil || msg == nil {
			return nil, err
		}
		return msg.Payload, nil
	}
	msg, err := c.call(ctx, addr, typ, payload)
	c.noteOutcome(ctx, addr, err)
	if err != nil {
		return nil, err
	}
	return msg.Payload, nil
}

// call makes one call over the pool. Reaching a head that is down is
// bounded by downWait; once connected, the call has the caller's time
// (a head that came back may well take longer than downWait to answer).
func (c *Client) call(ctx context.Context, addr string, typ transport.MsgType, payload []byte) (*transport.Message, error) {
	if !c.IsDown(addr) {
		return c.pool.Call(ctx, addr, typ, payload)
	}
	dialCtx, cancel := context.WithTimeout(ctx, downWait)
	conn, err := c.pool.Get(dialCtx, addr)
	cancel()
	if err != nil {
		return nil, err
	}
	return conn.Call(ctx, typ, payload)
}

// each runs call for every head in Order at once and waits for them all.
func (c *Client) each(call func(addr string)) {
	var wg sync.WaitGroup
	for _, addr := range c.Order() {
		wg.Go(func() { call(addr) })
	}
	wg.Wait()
}

// Broadcast sends a request to every head at once, each call bounded by
// ctx (and by downWait for a head that is down), and waits for them.
// skip, when set, leaves out the heads it picks.
func (c *Client) Broadcast(ctx context.Context, typ transport.MsgType, payload func(addr string) []byte, skip func(addr string) bool) {
	c.each(func(addr string) {
		if skip == nil || !skip(addr) {
			c.CallAt(ctx, addr, typ, payload(addr))
		}
	})
}

// Registration is what a node tells the heads when it joins.
type Registration struct {
	ID     string
	Total  map[string]float64
	IsHead bool
}

// RegisterEverywhere registers this node with every head it knows that
// it is not registered with yet, with all of them at once. It fails only
// if no head has it.
func (c *Client) RegisterEverywhere(ctx context.Context, reg Registration) error {
	body := append([]byte{wire.GCSRegister}, wire.EncodeRegister(reg.ID, c.self, reg.Total, reg.IsHead)...)
	var mu sync.Mutex
	var errs []error
	registered := 0
	c.each(func(addr string) {
		if c.Epoch(addr) != 0 {
			mu.Lock()
			registered++
			mu.Unlock()
			return
		}
		reply, err := c.CallAt(ctx, addr, transport.GCSRequest, body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("head %s: %w", addr, transport.Plain(err)))
			return
		}
		c.setEpoch(addr, codec.NewDecoder(reply).Uvarint())
		registered++
	})
	if registered == 0 && len(errs) > 0 {
		return c.firstInOrder(errs)
	}
	return nil
}

// firstInOrder returns the error of the head listed first (errors made
// by RegisterEverywhere start with "head ADDR:"), so that what a node
// that cannot join prints does not depend on which call ended first.
func (c *Client) firstInOrder(errs []error) error {
	for _, addr := range c.Order() {
		for _, err := range errs {
			if strings.HasPrefix(err.Error(), "head "+addr+":") {
				return err
			}
		}
	}
	return errs[0]
}

// HeartbeatAll sends every head this node is registered with the
// heartbeat body makes for its epoch there; a head that answers that it
// does not know this life of the node is registered with again (by the
// next RegisterEverywhere).
// The heads are sent theirs all at once, so a head that is slow or down
// does not delay the others' (nor, by long, the next round).
func (c *Client) HeartbeatAll(body func(epoch uint64) []byte) {
	c.each(func(addr string) {
		epoch := c.Epoch(addr)
		if epoch == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.CallAt(ctx, addr, transport.Heartbeat, body(epoch))
		cancel()
		if MustRegisterAgain(err) {
			c.setEpoch(addr, 0)
		}
	})
}

// Discover adds the heads the cluster knows to the list.
func (c *Client) Discover(ctx context.Context) {
	if c.fixed {
		return
	}
	reply, err := c.Call(ctx, transport.GCSRequest, []byte{wire.GCSHeads})
	if err != nil {
		return
	}
	addrs, _ := wire.DecodeStrings(reply)
	for _, a := range addrs {
		c.Add(a)
	}
}

// Retryable reports whether another head may succeed where one failed:
// network failures (and failures of this process's own head, served
// without the network), a GCS replica that does not lead, a process that is
// no head, a head shutting down or out of time; not errors in the request
// itself.
func Retryable(err error) bool {
	var re *transport.RemoteError
	if !errors.As(err, &re) {
		return true
	}
	switch re.Code {
	case transport.CodeNotLeader, transport.CodeNotHead, transport.CodeClosed, transport.CodeTimeout:
		return true
	}
	return false
}

// MustRegisterAgain reports whether a head answered that it does not know
// this life of the node: it declared the node dead, or forgot it.
func MustRegisterAgain(err error) bool {
	switch transport.Code(err) {
	case transport.CodeStaleEpoch, transport.CodeUnknownNode:
		return true
	}
	return false
}
