package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a client connection. Its methods are safe for concurrent use;
// many Calls share it, matched by request ID.
type Conn struct {
	l      *link
	opts   Options
	remote Peer
	nextID atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]*pending // nil once the connection is dead

	push chan *Message
	wg   sync.WaitGroup
}

type result struct {
	msg *Message
	err error
}

// pending is a call waiting for its reply.
type pending struct {
	ch   chan result // the reply or the error (capacity 1, sent once)
	sink *sink       // CallStream's chunk queue; nil for Call
	buf  []byte      // a stream reply to Call, assembled
}

type sink struct {
	ch   chan chunk
	done chan struct{} // closed when CallStream returns

	// direct, when the writer is a ChunkReader, is fed by the
	// connection's reader goroutine straight from the connection;
	// refused (the ChunkReader refused a chunk; the reader goroutine's
	// own) or gone (CallStream returned) says the call no longer takes
	// chunks.
	direct  ChunkReader
	refused bool
	gone    atomic.Bool
}

// chunk is what the reader goroutine hands a CallStream: a chunk's bytes
// (b; nil when they went straight to a ChunkReader), whether it was the
// last one, or why the ChunkReader refused it.
type chunk struct {
	b    *[]byte
	last bool
	err  error
}

// ChunkReader is a writer for CallStream that takes each chunk of a stream
// straight from the connection: ReadChunk reads exactly n bytes from r
// into their final place, so no chunk is copied on the way. It is called
// on the connection's reader goroutine, one chunk at a time, never after
// CallStream has returned nil. When CallStream returns an error (its
// context ended, the connection died) a chunk may still be being read
// into w, so that a stalled peer cannot hold the caller: the caller must
// then drop w. An error ReadChunk returns that is not r's ends the call
// with that error; the connection stays up.
type ChunkReader interface {
	io.Writer
	ReadChunk(r io.Reader, n int) error
}

// Dial connects to addr, exchanges Hello frames, and returns the
// connection. ctx bounds the dial and the handshake (Options.HandshakeTimeout
// applies when ctx has no deadline).
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	hctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 15 * time.Second}
	nc, err := d.DialContext(hctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	sc, err := secureClient(hctx, nc, addr, opts.TLS)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("transport: handshake with %s: %w", addr, err)
	}
	nc = sc
	peer, br, err := clientHandshake(hctx, nc, &opts)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("transport: handshake with %s: %w", addr, err)
	}
	c := &Conn{
		l:       newLink(nc, br, &opts),
		opts:    opts,
		remote:  peer,
		pending: make(map[uint64]*pending),
	}
	if opts.OnPush != nil {
		c.push = make(chan *Message, opts.QueueLen)
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.pushLoop() }()
	}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.l.writeLoop() }()
	go func() { defer c.wg.Done(); c.readLoop() }()
	return c, nil
}

func clientHandshake(ctx context.Context, nc net.Conn, opts *Options) (Peer, *bufio.Reader, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	hello := HelloInfo{NodeID: opts.NodeID, Epoch: opts.Epoch, Meta: opts.Meta}
	if len(opts.Token) > 0 {
		hello.Nonce = newNonce()
	}
	if _, err := nc.Write(AppendFrame(nil, Hello, 0, 0, hello.Encode())); err != nil {
		return Peer{}, nil, err
	}
	br := bufio.NewReaderSize(nc, writeBufSize)
	m, err := readHandshakeFrame(br, opts, Hello)
	if err != nil {
		return Peer{}, nil, err
	}
	info, err := DecodeHello(m.Payload)
	if err != nil {
		return Peer{}, nil, err
	}
	if len(opts.Token) > 0 {
		if err := proveToServer(nc, br, opts, &hello, &info); err != nil {
			return Peer{}, nil, err
		}
	}
	nc.SetDeadline(time.Time{})
	return Peer{RemoteAddr: nc.RemoteAddr().String(), NodeID: info.NodeID, Epoch: info.Epoch, Meta: info.Meta}, br, nil
}

// proveToServer checks the server's proof of the token, sends this
// side's, and waits for the server to accept it.
func proveToServer(nc net.Conn, br *bufio.Reader, opts *Options, mine, server *HelloInfo) error {
	if err := checkProof(server.Proof, serverProof(opts.Token, mine.Nonce, server.Nonce)); err != nil {
		return fmt.Errorf("not trusted: %w (check --token-file or RAYFLOW_TOKEN)", err)
	}
	answer := HelloInfo{NodeID: opts.NodeID, Proof: clientProof(opts.Token, server.Nonce, mine.Nonce)}
	if _, err := nc.Write(AppendFrame(nil, Hello, 0, 0, answer.Encode())); err != nil {
		return err
	}
	_, err := readHandshakeFrame(br, opts, Ack)
	return err
}

// readHandshakeFrame reads the server's next handshake frame, which must
// be of type want; an Error frame is returned as its error.
func readHandshakeFrame(br *bufio.Reader, opts *Options, want MsgType) (*Message, error) {
	m, err := ReadFrame(br, opts.MaxFrameSize)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: closed by the server", ErrClosed)
		}
		return nil, err
	}
	switch m.Type {
	case want:
		return m, nil
	case Error:
		return nil, decodeError(m.Payload)
	}
	return nil, protoErrorf("expected %v, got %v", want, m.Type)
}

// Peer returns the identity the server sent in its Hello.
func (c *Conn) Peer() Peer { return c.remote }

// Done is closed when the connection is dead.
func (c *Conn) Done() <-chan struct{} { return c.l.done }

// Err returns why the connection died, or nil while it is alive.
func (c *Conn) Err() error {
	if !c.l.closed() {
		return nil
	}
	return c.l.closedErr()
}

// Close sends what is queued (waiting at most Options.ShutdownTimeout),
// closes the connection, fails the calls in flight with ErrClosed and waits
// for the connection's goroutines.
func (c *Conn) Close() error {
	c.l.closeGracefully(nil)
	c.wg.Wait()
	return nil
}

func (c *Conn) register(p *pending) (uint64, error) {
	id := c.nextID.Add(1)
	if id == 0 { // after 2^64 calls
		id = c.nextID.Add(1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return 0, c.l.closedErr()
	}
	c.pending[id] = p
	return id, nil
}

// unregister forgets a call; it reports whether the call was still waiting.
func (c *Conn) unregister(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[id]; ok {
		delete(c.pending, id)
		return true
	}
	return false
}

func (c *Conn) lookup(id uint64) *pending {
	c.mu.Lock()
	p := c.pending[id]
	c.mu.Unlock()
	return p
}

// abandon forgets a call whose caller gave up, and tells the server.
func (c *Conn) abandon(id uint64) {
	if c.unregister(id) {
		c.l.tryEnqueue(outFrame{typ: Cancel, flags: FlagCancel, id: id})
	}
}

// Send sends a one-way message (request ID 0): no reply, delivered in order
// with the other one-way messages of this connection. It returns once the
// frame is queued; the payload must not be modified afterwards.
func (c *Conn) Send(typ MsgType, payload []byte) error {
	return c.l.enqueue(nil, outFrame{typ: typ, payload: payload})
}

// Call sends a request and waits for its reply, until ctx ends. A reply of
// type Error is returned as a *RemoteError. A stream reply is assembled into
// one ObjectChunk message (up to MaxFrameSize bytes).
func (c *Conn) Call(ctx context.Context, typ MsgType, payload []byte) (*Message, error) {
	p := &pending{ch: make(chan result, 1)}
	id, err := c.register(p)
	if err != nil {
		return nil, err
	}
	if err := c.l.enqueue(ctx, outFrame{typ: typ, id: id, payload: payload}); err != nil {
		c.unregister(id)
		return nil, err
	}
	select {
	case r := <-p.ch:
		return r.msg, r.err
	case <-ctx.Done():
		c.abandon(id)
		return nil, ctx.Err()
	case <-c.l.done:
		select {
		case r := <-p.ch:
			return r.msg, r.err
		default:
			return nil, c.l.closedErr()
		}
	}
}

// CallStream sends a request and writes the reply to w: the chunks of a
// stream reply as they arrive (no chunk is held longer than its write to
// w), or the payload of a plain reply. It returns nil once the last chunk is
// written; an Error frame, a failed write to w, the end of ctx or of the
// connection end it early with an error.
func (c *Conn) CallStream(ctx context.Context, typ MsgType, payload []byte, w io.Writer) error {
	s := &sink{ch: make(chan chunk, 4), done: make(chan struct{})}
	s.direct, _ = w.(ChunkReader)
	defer close(s.done)
	defer s.end()
	p := &pending{ch: make(chan result, 1), sink: s}
	id, err := c.register(p)
	if err != nil {
		return err
	}
	if err := c.l.enqueue(ctx, outFrame{typ: typ, id: id, payload: payload}); err != nil {
		c.unregister(id)
		return err
	}
	write := func(ch chunk) (bool, error) {
		err := ch.err
		if ch.b != nil {
			_, err = w.Write(*ch.b)
			putChunk(ch.b)
		}
		if err != nil {
			c.abandon(id)
			return false, err
		}
		return ch.last, nil
	}
	for {
		select {
		case ch := <-s.ch:
			if last, err := write(ch); last || err != nil {
				return err
			}
		case r := <-p.ch:
			if r.err != nil {
				return r.err
			}
			_, err := w.Write(r.msg.Payload)
			return err
		case <-ctx.Done():
			c.abandon(id)
			return ctx.Err()
		case <-c.l.done:
			for {
				select {
				case ch := <-s.ch:
					if last, err := write(ch); last || err != nil {
						return err
					}
				case r := <-p.ch:
					if r.err != nil {
						return r.err
					}
					_, err := w.Write(r.msg.Payload)
					return err
				default:
					return c.l.closedErr()
				}
			}
		}
	}
}

// fail kills the connection and fails every call in flight.
func (c *Conn) fail(cause error) {
	c.l.shutdown(cause)
	c.mu.Lock()
	calls := c.pending
	c.pending = nil
	c.mu.Unlock()
	err := c.l.closedErr()
	for _, p := range calls {
		p.ch <- result{err: err}
	}
}

// readLoop is the reader goroutine: it routes each reply to its call.
func (c *Conn) readLoop() {
	if c.push != nil {
		defer close(c.push)
	}
	for {
		h, err := c.l.readHeader()
		if err != nil {
			c.fail(err)
			return
		}
		if err := c.route(h); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *Conn) route(h header) error {
	n := int(h.n)
	if h.id == 0 {
		p, err := c.l.readPayload(n)
		if err != nil {
			return err
		}
		if h.typ == Error { // the server gives up on the connection
			return decodeError(p)
		}
		if c.push != nil && h.typ.Known() {
			select {
			case c.push <- &Message{Type: h.typ, Flags: h.flags, Payload: p}:
			case <-c.l.done:
			}
		}
		return nil
	}
	p := c.lookup(h.id)
	if p == nil { // a late reply to a call that gave up
		return c.l.discard(n)
	}
	if h.flags&FlagChunk != 0 && h.typ != Error {
		last := h.flags&FlagEnd != 0
		if p.sink != nil {
			return c.toSink(h.id, p.sink, n, last)
		}
		return c.assemble(h.id, p, n, last)
	}
	payload, err := c.l.readPayload(n)
	if err != nil {
		return err
	}
	if !c.unregister(h.id) {
		return nil
	}
	if h.typ == Error {
		p.ch <- result{err: decodeError(payload)}
	} else {
		p.ch <- result{msg: &Message{Type: h.typ, Flags: h.flags, ID: h.id, Payload: payload}}
	}
	return nil
}

// end stops the reader goroutine from feeding s. It does not wait for a
// chunk being read (only an error return can meet one: the last chunk is
// told after it is read).
func (s *sink) end() { s.gone.Store(true) }

// readErrs remembers the error of its reader: the connection's, told
// apart from the ChunkReader's own.
type readErrs struct {
	r   io.Reader
	err error
}

func (e *readErrs) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// readDirect has a CallStream's ChunkReader read one chunk of n bytes
// from the connection, and tells the CallStream when it was the last or
// was refused. Bytes the ChunkReader left unread are skipped.
func (c *Conn) readDirect(id uint64, s *sink, n int, last bool) error {
	undo := c.l.payloadDeadline(n)
	defer undo()
	src := &readErrs{r: c.l.br}
	lr := &io.LimitedReader{R: src, N: int64(n)}
	var refused error
	if !s.refused && !s.gone.Load() {
		refused = s.direct.ReadChunk(lr, n)
		if src.err == nil && refused == nil && lr.N > 0 {
			refused = fmt.Errorf("transport: %T read %d of a chunk's %d bytes", s.direct, int64(n)-lr.N, n)
		}
		s.refused = refused != nil
	}
	if src.err != nil {
		return truncated(src.err)
	}
	if lr.N > 0 {
		if _, err := c.l.br.Discard(int(lr.N)); err != nil {
			return truncated(err)
		}
	}
	if !last && refused == nil {
		return nil
	}
	if last {
		c.unregister(id)
	}
	select {
	case s.ch <- chunk{last: last, err: refused}:
	case <-s.done:
		c.unregister(id)
	case <-c.l.done:
	}
	return nil
}

// toSink hands one chunk to a CallStream.
func (c *Conn) toSink(id uint64, s *sink, n int, last bool) error {
	if s.direct != nil {
		return c.readDirect(id, s, n, last)
	}
	b := getChunk(n)
	undo := c.l.payloadDeadline(n)
	_, err := io.ReadFull(c.l.br, *b)
	undo()
	if err != nil {
		putChunk(b)
		return truncated(err)
	}
	if last {
		c.unregister(id)
	}
	select {
	case s.ch <- chunk{b: b, last: last}:
	case <-s.done:
		putChunk(b)
		c.unregister(id)
	case <-c.l.done:
		putChunk(b)
	}
	return nil
}

// assemble collects a stream reply to Call.
func (c *Conn) assemble(id uint64, p *pending, n int, last bool) error {
	if len(p.buf)+n > c.opts.MaxFrameSize {
		if err := c.l.discard(n); err != nil {
			return err
		}
		if c.unregister(id) {
			c.l.tryEnqueue(outFrame{typ: Cancel, flags: FlagCancel, id: id})
			p.ch <- result{err: fmt.Errorf("transport: stream reply exceeds %d bytes; use CallStream", c.opts.MaxFrameSize)}
		}
		return nil
	}
	b, err := c.l.readPayload(n)
	if err != nil {
		return err
	}
	p.buf = append(p.buf, b...)
	if last && c.unregister(id) {
		p.ch <- result{msg: &Message{Type: ObjectChunk, Flags: FlagChunk | FlagEnd, ID: id, Payload: p.buf}}
	}
	return nil
}

func (c *Conn) pushLoop() {
	for m := range c.push {
		func() {
			defer func() { recover() }() // a panicking callback must not kill the process
			c.opts.OnPush(m)
		}()
	}
}
