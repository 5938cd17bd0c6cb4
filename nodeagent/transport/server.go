package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler serves the requests and one-way messages of a server.
//
// Serve is called for each request frame on its own goroutine (at most
// Options.MaxConcurrent at once per connection) and for each one-way message
// (request ID 0) in arrival order on the connection's one-way goroutine. For
// a request, the returned message is the reply (nil means Ack; a message
// with Stream set is sent as a stream) and an error is sent as an Error
// frame, with the code WithCode or a *RemoteError gave it (CodeInternal
// otherwise). For a one-way message both are dropped. ctx ends when the
// caller cancels, the connection dies or the server closes; Serve must then
// return promptly.
type Handler interface {
	Serve(ctx context.Context, peer *Peer, req *Message) (*Message, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, peer *Peer, req *Message) (*Message, error)

// Serve calls f.
func (f HandlerFunc) Serve(ctx context.Context, peer *Peer, req *Message) (*Message, error) {
	return f(ctx, peer, req)
}

// Peer is the other end of a connection, as its Hello described it. On a
// server, Send pushes one-way messages to it.
type Peer struct {
	RemoteAddr string
	NodeID     string
	Epoch      uint64
	Meta       []byte

	sc   *serverConn
	done chan struct{} // closed when the connection ends; nil on a client's copy
}

// Done is closed when the connection to a server's peer has ended, however
// it ended (the peer left, the connection broke, the server closed, or the
// Hello was refused). It is ready to use from Options.OnHello on. On the
// client's own copy of a Peer (Conn.Peer) it is nil: use Conn.Done there.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Send pushes a one-way message to a client peer (its Options.OnPush gets
// it). It fails on the client's own copy of a Peer.
func (p *Peer) Send(typ MsgType, payload []byte) error {
	if p.sc == nil {
		return errors.New("transport: Peer.Send works on a server's peers only")
	}
	return p.sc.l.enqueue(nil, outFrame{typ: typ, payload: payload})
}

// Close closes the connection to a server's peer (a stale epoch, say).
func (p *Peer) Close() error {
	if p.sc != nil {
		p.sc.l.shutdown(ErrClosed)
	}
	return nil
}

// ServerStats counts what a server has seen.
type ServerStats struct {
	Accepted     int64 // connections accepted
	Open         int64 // connections open now
	Rejected     int64 // connections closed for a protocol error or a refused Hello
	UnknownTypes int64 // frames of unknown type
}

// Server accepts connections and serves their frames with a Handler.
type Server struct {
	ln     net.Listener
	h      Handler
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*serverConn]struct{}
	closed bool

	accepted, rejected, unknown atomic.Int64

	// pending counts the connections still in their handshake, in all
	// and by remote IP, so that strangers who connect and say nothing
	// hold at most MaxHandshakes (MaxHandshakesPerIP) of them.
	pendingMu   sync.Mutex
	pending     int
	pendingByIP map[string]int
}

// Listen listens on addr ("host:port"; an empty host binds 127.0.0.1, and
// an empty addr means 127.0.0.1 on a free port) and serves connections with
// h until Close.
func Listen(addr string, h Handler, opts Options) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if addr == "" {
		host, port, err = "", "0", nil
	}
	if err != nil {
		return nil, fmt.Errorf("transport: listen address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, h: h, opts: opts.withDefaults(), ctx: ctx, cancel: cancel, conns: make(map[*serverConn]struct{})}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.acceptLoop() }()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	open := int64(len(s.conns))
	s.mu.Unlock()
	return ServerStats{Accepted: s.accepted.Load(), Open: open, Rejected: s.rejected.Load(), UnknownTypes: s.unknown.Load()}
}

// Close stops accepting, closes every connection (calls in flight fail on
// the callers' side), cancels the handlers' contexts and waits for the
// server's goroutines, at most Options.ShutdownTimeout for handlers that do
// not return.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	// Connections first, contexts second: a handler that returns because
	// its context ended finds its connection gone, and every caller gets
	// ErrClosed rather than a cancellation error.
	for _, c := range conns {
		c.l.shutdown(errors.New("server closed"))
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(s.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		return errors.New("transport: server closed, but some handlers have not returned")
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) acceptLoop() {
	delay := 5 * time.Millisecond
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait and try again.
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
				return
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		s.accepted.Add(1)
		ip := remoteIP(nc)
		if !s.startHandshake(ip) {
			s.rejected.Add(1)
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.serveConn(nc, ip) }()
	}
}

// serverConn is one accepted connection.
type serverConn struct {
	s      *Server
	l      *link
	peer   *Peer
	ctx    context.Context // ends when the connection dies
	cancel context.CancelFunc
	sem    chan struct{}
	inbox  chan *Message
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight map[uint64]context.CancelFunc
}

// startHandshake counts a connection from ip into its handshake, unless
// too many are in theirs already.
func (s *Server) startHandshake(ip string) bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.pending >= s.opts.MaxHandshakes || s.pendingByIP[ip] >= s.opts.MaxHandshakesPerIP {
		return false
	}
	if s.pendingByIP == nil {
		s.pendingByIP = map[string]int{}
	}
	s.pending++
	s.pendingByIP[ip]++
	return true
}

// endHandshake counts a connection from ip out of its handshake.
func (s *Server) endHandshake(ip string) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	s.pending--
	if s.pendingByIP[ip]--; s.pendingByIP[ip] <= 0 {
		delete(s.pendingByIP, ip)
	}
}

// remoteIP is the IP address a connection comes from.
func remoteIP(nc net.Conn) string {
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return host
}

func (s *Server) serveConn(nc net.Conn, ip string) {
	opts := &s.opts
	sc, err := s.secureServer(nc)
	if err != nil {
		s.endHandshake(ip)
		s.rejected.Add(1)
		nc.Close()
		return
	}
	nc = sc
	l := newLink(nc, nil, opts)
	peer, err := s.handshake(l)
	s.endHandshake(ip)
	if err != nil {
		s.rejected.Add(1)
		nc.Close()
		return
	}
	defer close(peer.done)
	ctx, cancel := context.WithCancel(s.ctx)
	c := &serverConn{
		s: s, l: l, peer: peer, ctx: ctx, cancel: cancel,
		sem:      make(chan struct{}, opts.MaxConcurrent),
		inbox:    make(chan *Message, opts.QueueLen),
		inflight: make(map[uint64]context.CancelFunc),
	}
	peer.sc = c
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	c.wg.Add(2)
	go func() { defer c.wg.Done(); l.writeLoop() }()
	go func() { defer c.wg.Done(); c.inboxLoop() }()
	c.readLoop()
	close(c.inbox)
	c.wg.Wait()
	cancel()
	l.shutdown(ErrClosed)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handshake reads the client's Hello and answers it.
func (s *Server) handshake(l *link) (*Peer, error) {
	nc := l.nc
	nc.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	stop := context.AfterFunc(s.ctx, func() { nc.Close() }) // Close does not wait for handshakes
	defer stop()
	refuse := func(code uint64, err error) (*Peer, error) {
		nc.Write(AppendFrame(nil, Error, 0, 0, encodeError(code, err.Error())))
		return nil, err
	}
	m, err := ReadFrame(l.br, s.opts.MaxFrameSize)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			return refuse(CodeProtocol, err)
		}
		return nil, err
	}
	if m.Type != Hello {
		return refuse(CodeProtocol, protoErrorf("the first frame must be Hello, not %v", m.Type))
	}
	info, err := DecodeHello(m.Payload)
	if err != nil {
		return refuse(CodeProtocol, protoErrorf("%v", err))
	}
	peer := &Peer{RemoteAddr: nc.RemoteAddr().String(), NodeID: info.NodeID, Epoch: info.Epoch, Meta: info.Meta,
		done: make(chan struct{})}
	mine := HelloInfo{NodeID: s.opts.NodeID, Epoch: s.opts.Epoch, Meta: s.opts.Meta}
	if len(s.opts.Token) > 0 {
		// The peer proves the token before anything of it is seen.
		if len(info.Nonce) != nonceSize {
			close(peer.done)
			return refuse(CodeRefused, errors.New("refused: this cluster needs its token, and none was given (--token-file FILE or RAYFLOW_TOKEN)"))
		}
		mine.Nonce = newNonce()
		mine.Proof = serverProof(s.opts.Token, info.Nonce, mine.Nonce)
		if err := s.checkClientProof(l, m.ID, &info, &mine); err != nil {
			close(peer.done)
			return refuse(CodeRefused, fmt.Errorf("refused: %w", err))
		}
	}
	if s.opts.OnHello != nil {
		if err := s.opts.OnHello(peer); err != nil {
			close(peer.done)
			return refuse(CodeRefused, fmt.Errorf("peer refused: %v", err))
		}
	}
	reply := AppendFrame(nil, Hello, 0, m.ID, mine.Encode())
	if len(s.opts.Token) > 0 {
		reply = AppendFrame(nil, Ack, 0, 0, nil)
	}
	if _, err := nc.Write(reply); err != nil {
		close(peer.done)
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return peer, nil
}

// checkClientProof sends the server's Hello (its nonce and proof) and
// reads the client's answer: a second Hello whose proof must match.
func (s *Server) checkClientProof(l *link, id uint64, client, mine *HelloInfo) error {
	if _, err := l.nc.Write(AppendFrame(nil, Hello, 0, id, mine.Encode())); err != nil {
		return err
	}
	m, err := ReadFrame(l.br, s.opts.MaxFrameSize)
	if err != nil {
		return err
	}
	if m.Type != Hello {
		return protoErrorf("expected the client's proof (Hello), got %v", m.Type)
	}
	answer, err := DecodeHello(m.Payload)
	if err != nil {
		return err
	}
	return checkProof(answer.Proof, clientProof(s.opts.Token, mine.Nonce, client.Nonce))
}

// readLoop reads request frames until the connection dies or breaks the
// protocol.
func (c *serverConn) readLoop() {
	l := c.l
	for {
		h, err := l.readHeader()
		if err == nil {
			err = c.dispatch(h)
		}
		if err == nil {
			continue
		}
		var pe *ProtocolError
		if errors.As(err, &pe) && !l.closed() {
			// Say why, then close: the stream cannot be trusted past here.
			c.s.rejected.Add(1)
			l.closeGracefully(&outFrame{typ: Error, payload: encodeError(CodeProtocol, err.Error())})
		} else {
			l.shutdown(err)
		}
		c.cancel()
		return
	}
}

func (c *serverConn) dispatch(h header) error {
	l := c.l
	n := int(h.n)
	switch {
	case h.flags&FlagCancel != 0:
		if err := l.discard(n); err != nil {
			return err
		}
		c.mu.Lock()
		cancel := c.inflight[h.id]
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		return nil
	case !h.typ.Known() || h.typ == Hello || h.typ == Error || h.flags&(FlagChunk|FlagEnd) != 0:
		if err := l.discard(n); err != nil {
			return err
		}
		c.s.unknown.Add(1)
		if h.id != 0 {
			msg := fmt.Sprintf("unknown message type %d", uint8(h.typ))
			code := CodeUnknownType
			if h.typ.Known() {
				msg, code = fmt.Sprintf("unexpected %v request (flags %#x)", h.typ, h.flags), CodeProtocol
			}
			return l.enqueue(c.ctx, outFrame{typ: Error, id: h.id, payload: encodeError(code, msg)})
		}
		return nil
	}
	payload, err := l.readPayload(n)
	if err != nil {
		return err
	}
	m := &Message{Type: h.typ, Flags: h.flags, ID: h.id, Payload: payload}
	if h.id == 0 {
		select {
		case c.inbox <- m:
			return nil
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
	select {
	case c.sem <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	rctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	c.inflight[h.id] = cancel
	c.mu.Unlock()
	c.wg.Add(1)
	go c.handle(rctx, cancel, m)
	return nil
}

// serve calls the handler, turning a panic into an error.
func (c *serverConn) serve(ctx context.Context, m *Message) (resp *Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, &RemoteError{Code: CodeInternal, Message: fmt.Sprintf("handler panic: %v", r)}
		}
	}()
	return c.s.h.Serve(ctx, c.peer, m)
}

func (c *serverConn) handle(ctx context.Context, cancel context.CancelFunc, m *Message) {
	defer func() {
		c.mu.Lock()
		delete(c.inflight, m.ID)
		c.mu.Unlock()
		cancel()
		<-c.sem
		c.wg.Done()
	}()
	resp, err := c.serve(ctx, m)
	switch {
	case err != nil:
		code := CodeInternal
		if c := Code(err); c != 0 {
			code = c
		}
		if ctx.Err() != nil && code == CodeInternal {
			code = CodeCanceled
		}
		c.l.enqueue(nil, outFrame{typ: Error, id: m.ID, payload: encodeError(code, err.Error())})
	case resp == nil:
		c.l.enqueue(nil, outFrame{typ: Ack, id: m.ID})
	case resp.Stream != nil:
		c.sendStream(ctx, m.ID, resp.Stream)
	default:
		typ := resp.Type
		if !typ.Known() || typ == Hello {
			typ = Ack
		}
		c.l.enqueue(nil, outFrame{typ: typ, id: m.ID, payload: resp.Payload})
	}
}

// sendStream sends a stream reply in chunks, keeping at most four chunks in
// memory: one being read while the others wait for the writer.
func (c *serverConn) sendStream(ctx context.Context, id uint64, s *StreamReply) {
	if cl, ok := s.R.(io.Closer); ok {
		defer cl.Close()
	}
	if src, ok := s.R.(ByteSource); ok {
		c.sendBytes(ctx, id, src, s.Size)
		return
	}
	const inFlight = streamInFlight
	size := c.s.opts.ChunkSize
	free := make(chan *[]byte, inFlight)
	for range inFlight {
		free <- nil
	}
	var sent int64
	for {
		var b *[]byte
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		if b == nil {
			b = getChunk(size)
		}
		want := size
		if s.Size >= 0 && s.Size-sent < int64(want) {
			want = int(s.Size - sent)
		}
		n, err := io.ReadFull(s.R, (*b)[:want])
		sent += int64(n)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			putChunk(b)
			c.failStream(id, err)
			return
		}
		if s.Size >= 0 && eof && sent < s.Size {
			putChunk(b)
			c.failStream(id, fmt.Errorf("reader ended after %d of %d bytes", sent, s.Size))
			return
		}
		last := eof || (s.Size >= 0 && sent == s.Size)
		flags := FlagChunk
		if last {
			flags |= FlagEnd
		}
		bb := b
		f := outFrame{typ: ObjectChunk, flags: flags, id: id, payload: (*b)[:n], release: func() { free <- bb }}
		if last {
			f.release = func() { putChunk(bb) }
		}
		if err := c.l.enqueue(ctx, f); err != nil {
			return
		}
		if last {
			return
		}
	}
}

// failStream ends the stream reply to request id with an error.
func (c *serverConn) failStream(id uint64, err error) {
	c.l.enqueue(nil, outFrame{typ: Error, id: id, payload: encodeError(CodeStream, "stream: "+err.Error())})
}

// ByteSource is a stream reply's reader that hands out its bytes where
// they lie: the server sends them with no copy. NextBytes returns the
// next at most max bytes, none at the end; they must stay unchanged
// until the stream's last frame is written.
type ByteSource interface {
	io.Reader
	NextBytes(max int) []byte
}

// sendBytes sends a stream reply from a ByteSource: each chunk's frame
// carries the source's own memory, with at most streamInFlight frames
// queued at once. It returns once every frame is written (or the stream
// or the connection ends), so the source may be closed then.
func (c *serverConn) sendBytes(ctx context.Context, id uint64, src ByteSource, size int64) {
	tokens := make(chan struct{}, streamInFlight)
	for range streamInFlight {
		tokens <- struct{}{}
	}
	defer func() { // wait until the writer has let go of the source
		for range streamInFlight {
			select {
			case <-tokens:
			case <-c.l.done:
				return
			}
		}
	}()
	release := func() { tokens <- struct{}{} }
	var sent int64
	for {
		select {
		case <-tokens:
		case <-ctx.Done(): // no token taken: none to give back
			return
		}
		want := c.s.opts.ChunkSize
		if size >= 0 && size-sent < int64(want) {
			want = int(size - sent) // a longer source stops at size, as a Reader does
		}
		b := src.NextBytes(want)
		sent += int64(len(b))
		if size >= 0 && (sent > size || len(b) == 0 && sent < size) {
			tokens <- struct{}{}
			c.failStream(id, fmt.Errorf("reader gave %d bytes where %d were announced", sent, size))
			return
		}
		last := len(b) == 0 || sent == size
		flags := FlagChunk
		if last {
			flags |= FlagEnd
		}
		if err := c.l.enqueue(ctx, outFrame{typ: ObjectChunk, flags: flags, id: id, payload: b, release: release}); err != nil {
			tokens <- struct{}{}
			return
		}
		if last {
			return
		}
	}
}

// streamInFlight is the most frames of one stream reply queued at once.
const streamInFlight = 4

// inboxLoop handles the one-way messages in order. Its handlers get the
// server's context, so what a client sent before closing is still handled.
func (c *serverConn) inboxLoop() {
	for m := range c.inbox {
		c.serve(c.s.ctx, m)
	}
}
